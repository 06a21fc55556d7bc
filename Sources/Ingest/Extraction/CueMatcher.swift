// CueMatcher.swift -- one-pass multi-phrase search (Aho-Corasick) over normalized text.

/// Finds every phrase of a fixed table in one pass over a text.
///
/// An Aho–Corasick automaton (Aho & Corasick, CACM 18(6), 1975) compiled to a dense table
/// over byte classes: matching is one table load per input byte whatever the number of
/// phrases, so the ~600 multilingual cues cost the same as one.
struct CueMatcher: Sendable {
    /// For each cue category, the index of the first phrase of that category that matched.
    struct Hits: Sendable {
        fileprivate(set) var categories: UInt64 = 0
        fileprivate(set) var firstPhrase: [Int32]

        init(categoryCount: Int) { firstPhrase = [Int32](repeating: -1, count: categoryCount) }

        func contains(_ category: CueCategory) -> Bool { categories & (1 << UInt64(category.rawValue)) != 0 }

        /// Whether any of `categories` is present.
        func containsAny(_ categories: CueCategory...) -> Bool { categories.contains(where: contains) }
    }

    private let byteClass: [UInt8]
    private let classCount: Int
    private let transitions: [UInt16]
    /// Per state: category bitmask of the phrases ending there (own and via failure links).
    private let outputMask: [UInt64]
    /// Per state: index of one phrase ending there (for reasons), -1 for none.
    private let outputPhrase: [[Int32]]
    let phrases: [[UInt8]]
    let categoryCount: Int

    /// Builds the automaton. `entries` pairs each phrase (lowercase UTF-8) with its category.
    init(entries: [(category: CueCategory, phrase: String)]) {
        let categoryCount = CueCategory.allCases.count
        precondition(categoryCount <= 64)
        self.categoryCount = categoryCount
        let phraseBytes = entries.map { Array($0.phrase.utf8) }
        phrases = phraseBytes
        // Byte classes: every byte used by a phrase gets its own class; the rest share class 0.
        var byteClass = [UInt8](repeating: 0, count: 256)
        var nextClass = 1
        for phrase in phraseBytes {
            for byte in phrase where byteClass[Int(byte)] == 0 {
                byteClass[Int(byte)] = UInt8(nextClass)
                nextClass += 1
            }
        }
        precondition(nextClass <= 256)
        self.byteClass = byteClass
        classCount = nextClass

        // Trie, built straight into a dense table (-1 = no child yet).
        var table = [Int32](repeating: -1, count: classCount)
        var mask: [UInt64] = [0]
        var phraseAt: [[Int32]] = [[]]
        for (index, phrase) in phraseBytes.enumerated() where !phrase.isEmpty {
            var state = 0
            for byte in phrase {
                let slot = state * nextClass + Int(byteClass[Int(byte)])
                if table[slot] >= 0 {
                    state = Int(table[slot])
                } else {
                    let newState = mask.count
                    table[slot] = Int32(newState)
                    table.append(contentsOf: repeatElement(-1, count: nextClass))
                    mask.append(0)
                    phraseAt.append([])
                    state = newState
                }
            }
            mask[state] |= 1 << UInt64(entries[index].category.rawValue)
            phraseAt[state].append(Int32(index))
        }
        let stateCount = mask.count
        precondition(stateCount < Int(UInt16.max))

        // Breadth-first failure links, folded into the table (missing edges follow failure).
        var failure = [Int](repeating: 0, count: stateCount)
        var queue: [Int] = []
        queue.reserveCapacity(stateCount)
        for symbol in 0..<nextClass {
            if table[symbol] >= 0 {
                queue.append(Int(table[symbol]))
            } else {
                table[symbol] = 0
            }
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            mask[state] |= mask[failure[state]]
            if !phraseAt[failure[state]].isEmpty { phraseAt[state] += phraseAt[failure[state]] }
            let row = state * nextClass
            let failureRow = failure[state] * nextClass
            for symbol in 0..<nextClass {
                let child = table[row + symbol]
                if child >= 0 {
                    failure[Int(child)] = Int(table[failureRow + symbol])
                    queue.append(Int(child))
                } else {
                    table[row + symbol] = table[failureRow + symbol]
                }
            }
        }
        transitions = table.map { UInt16(truncatingIfNeeded: $0) }
        outputMask = mask
        outputPhrase = phraseAt
        self.entries = entries.map(\.category.rawValue)
    }

    private let entries: [Int]

    /// Every category whose phrases occur in `text`.
    func scan(_ text: [UInt8]) -> Hits {
        var hits = Hits(categoryCount: categoryCount)
        var state = 0
        var seen: UInt64 = 0
        text.withUnsafeBufferPointer { buffer in
            transitions.withUnsafeBufferPointer { table in
                byteClass.withUnsafeBufferPointer { classes in
                    outputMask.withUnsafeBufferPointer { masks in
                        for byte in buffer {
                            // state < stateCount and class < classCount: the product indexes `table`.
                            state = Int(table[state &* classCount &+ Int(classes[Int(byte)])])
                            let found = masks[state]
                            if found & ~seen != 0 {
                                seen |= found
                                for phrase in outputPhrase[state] {
                                    let category = entries[Int(phrase)]
                                    if hits.firstPhrase[category] < 0 { hits.firstPhrase[category] = phrase }
                                }
                            }
                        }
                    }
                }
            }
        }
        hits.categories = seen
        return hits
    }

    /// The phrase that first put `category` into `hits`, for a reason string.
    func phrase(for category: CueCategory, in hits: Hits) -> String? {
        let index = hits.firstPhrase[category.rawValue]
        return index < 0 ? nil : String(decoding: phrases[Int(index)], as: UTF8.self)
    }
}
