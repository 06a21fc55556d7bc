// HostColumn.swift -- one per-host value column, allocated only once two hosts differ.

/// One per-host value (listing or expiry) gathered in host order: a single shared value
/// until two hosts differ, and only then an array, so merging or freezing hosts that all
/// share a listing and never expire allocates nothing for them.
struct HostColumn<Value: Equatable> {
    /// Every value, once two differed; empty before.
    private(set) var values: [Value] = []
    /// The value every host so far shares, while `values` is empty.
    private(set) var shared: Value?
    private var count = 0
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Adds the value of the next host.
    mutating func append(_ value: Value) {
        append(value, times: 1)
    }

    /// Adds `value` for each of the next `times` hosts.
    mutating func append(_ value: Value, times: Int) {
        guard times > 0 else { return }
        if values.isEmpty, count == 0 || shared == value {
            shared = value
            count += times
            return
        }
        if values.isEmpty, let shared {
            values.reserveCapacity(capacity)
            values.append(contentsOf: repeatElement(shared, count: count))
        }
        values.append(contentsOf: repeatElement(value, count: times))
        count += times
    }

    /// Adds the values of the next hosts.
    mutating func append(contentsOf newValues: ArraySlice<Value>) {
        if values.isEmpty {
            for value in newValues { append(value) }
        } else {
            values.append(contentsOf: newValues)
            count += newValues.count
        }
    }
}
