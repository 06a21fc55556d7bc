// PrefixIndex.swift -- an in-memory set of prefixes answering "which of them cover this one".

/// Prefixes with a value each, answering which entries contain a given prefix by one hash
/// lookup per prefix length in use (few lengths in practice, at most 33 or 129).
struct PrefixIndex<Value> {
    private var entries: [IPPrefix: Value] = [:]
    private var v4Lengths: [Int] = []
    private var v6Lengths: [Int] = []

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    mutating func insert(_ prefix: IPPrefix, _ value: Value) {
        if entries.updateValue(value, forKey: prefix) == nil {
            if prefix.family == .v4 {
                if !v4Lengths.contains(prefix.length) { v4Lengths.append(prefix.length); v4Lengths.sort() }
            } else if !v6Lengths.contains(prefix.length) {
                v6Lengths.append(prefix.length); v6Lengths.sort()
            }
        }
    }

    subscript(exact prefix: IPPrefix) -> Value? { entries[prefix] }

    /// Calls `body` for every entry that contains `prefix` (itself included), widest first;
    /// stops when `body` returns true, and returns whether it did.
    @discardableResult
    func firstCovering(_ prefix: IPPrefix, where body: (IPPrefix, Value) -> Bool) -> Bool {
        let lengths = prefix.family == .v4 ? v4Lengths : v6Lengths
        for length in lengths {
            if length > prefix.length { break }
            let candidate = prefix.truncated(to: length)
            if let value = entries[candidate], body(candidate, value) { return true }
        }
        return false
    }

    /// Whether `prefix` itself is an entry, and whether a wider entry contains it.
    func exclusion(of prefix: IPPrefix) -> (exact: Bool, insideWider: Bool) {
        var exact = false, wider = false
        firstCovering(prefix) { candidate, _ in
            if candidate.length == prefix.length { exact = true } else { wider = true }
            return exact && wider
        }
        return (exact, wider)
    }

    /// Calls `body` for every entry.
    func forEach(_ body: (IPPrefix, Value) -> Void) {
        for (prefix, value) in entries { body(prefix, value) }
    }
}

extension PrefixIndex where Value: Comparable {
    /// The greatest value among the entries that contain `prefix` (itself included).
    func newestCovering(_ prefix: IPPrefix) -> Value? {
        var newest: Value?
        firstCovering(prefix) { _, value in
            if newest.map({ value > $0 }) ?? true { newest = value }
            return false
        }
        return newest
    }
}
