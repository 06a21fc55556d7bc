// CompactColumn.swift -- per-host values appended one by one, kept as one value while they agree.

/// A column of values parallel to a table's host keys, built by appending, that holds no
/// array while every value is the same: most tables have one listing class and no
/// expiries, and an array of ten million equal values would cost 20 or 40 MB for nothing
/// (briefly, but beside the table being served).
///
/// The array appears at the first value that differs, filled with the shared value so
/// far, at the capacity given.
struct CompactColumn<Element: Equatable> {
    /// The value every element has while ``values`` is empty (nil before the first, unless
    /// fixed at creation).
    private(set) var shared: Element?
    /// Every element, once two differ (or one differs from the fixed shared value).
    private(set) var values: [Element] = []
    private(set) var count = 0
    private let capacity: Int

    /// - Parameters:
    ///   - capacity: How many elements to reserve room for if the array is needed.
    ///   - shared: The only value that may be held without an array (nil: the first one).
    init(capacity: Int, shared: Element? = nil) {
        self.capacity = capacity
        self.shared = shared
    }

    /// Whether every element so far has the shared value, and no array is held.
    var isUniform: Bool { values.isEmpty }

    mutating func append(_ value: Element) {
        append(repeating: value, count: 1)
    }

    mutating func append(repeating value: Element, count added: Int) {
        guard added > 0 else { return }
        if values.isEmpty {
            if shared == nil { shared = value }
            if value == shared {
                count += added
                return
            }
            spill()
        }
        values.append(contentsOf: repeatElement(value, count: added))
        count += added
    }

    mutating func append(contentsOf slice: ArraySlice<Element>) {
        if values.isEmpty {
            if shared == nil, let first = slice.first { shared = first }
            if slice.allSatisfy({ $0 == shared }) {
                count += slice.count
                return
            }
            spill()
        }
        values.append(contentsOf: slice)
        count += slice.count
    }

    /// The array of every element so far, the shared value repeated.
    private mutating func spill() {
        values.reserveCapacity(max(capacity, count + 1))
        if let shared { values.append(contentsOf: repeatElement(shared, count: count)) }
    }
}
