// HostTable+Applying.swift -- host edits merged into new shards, the untouched shards shared.

extension HostTable {
    /// This table with `edits` applied: host edits sorted by key, at most one per key.
    ///
    /// Only the shards that an edit falls in are rebuilt (their hosts merged with the
    /// edits); every other shard is the same object in both tables. When the edits move
    /// the first or last host so far that the shared prefix, and with it every bucket,
    /// moves (``HostLayout``), or change the number of hosts so much that the directory
    /// should have twice or half as many bucket bits, all shards are rebuilt. That is rare:
    /// IPv4 hosts spread over the address space share no prefix, a table with hosts at both
    /// ends keeps its layout under any edit that keeps one host at each end, and the
    /// bucket bits follow the size of a growing family a few times in all.
    func applying(_ edits: [TableEdit<Key>]) -> Self {
        guard !edits.isEmpty else { return self }
        guard let first = first(after: edits), let last = last(after: edits) else { return .empty }
        let bounds = HostLayout(first: first, last: last, count: count, keeping: layout)
        if !shards.isEmpty, bounds == layout {
            let applied = applying(edits, sameLayout: layout)
            // The bucket bits stay while they are within one of those the new count calls for.
            if HostLayout(first: first, last: last, count: applied.count, keeping: layout) == layout { return applied }
            return Self(first: first, last: last, count: applied.count) { visit in
                var hosts = applied.makeIterator()
                while let host = hosts.nextHost() { visit(host.key, host.value) }
            }
        }
        var total = 0
        var hosts = makeIterator()
        Self.merge(next: { hosts.nextHost() }, edits: edits[...]) { _, _ in total += 1 }
        return Self(first: first, last: last, count: total) { visit in
            var hosts = makeIterator()
            Self.merge(next: { hosts.nextHost() }, edits: edits[...], visit)
        }
    }

    /// This table with `edits` applied shard by shard in `layout`, its own.
    private func applying(_ edits: [TableEdit<Key>], sameLayout layout: HostLayout<Key>) -> Self {
        var shards = self.shards
        var emptyShard: HostShard<Key>?
        var start = 0
        while start < edits.count {
            let shard = layout.shard(of: edits[start].prefix.start)
            var end = start + 1
            while end < edits.count, layout.shard(of: edits[end].prefix.start) == shard { end += 1 }
            if let rebuilt = shards[shard].applying(edits[start..<end], layout: layout) {
                shards[shard] = rebuilt
            } else {
                if emptyShard == nil { emptyShard = HostShard(keys: [], values: [], layout: layout) }
                shards[shard] = emptyShard!
            }
            start = end
        }
        return Self(layout: layout, shards: shards)
    }

    /// Calls `visit` with the hosts `next` yields in order merged with `edits` (sorted, at
    /// most one per key): an edit replaces or removes the host of its key.
    static func merge(next: () -> (key: Key, value: TableValue)?, edits: ArraySlice<TableEdit<Key>>,
                      _ visit: (Key, TableValue) -> Void) {
        var host = next()
        for edit in edits {
            let key = edit.prefix.start
            while let current = host, current.key < key {
                visit(current.key, current.value)
                host = next()
            }
            if let current = host, current.key == key { host = next() }
            if let value = edit.value { visit(key, value) }
        }
        while let current = host {
            visit(current.key, current.value)
            host = next()
        }
    }

    /// Whether `edits` (sorted, at most one per key) remove the host `key`.
    private static func removes(_ edits: [TableEdit<Key>], _ key: Key) -> Bool {
        let index = SortedSearch.firstIndex(in: edits.lazy.map(\.prefix.start), in: edits.indices, notBefore: key)
        return index < edits.count && edits[index].prefix.start == key && edits[index].value == nil
    }

    /// The first host once `edits` are applied, if any is left. Every host passed over
    /// is removed by an edit, so this reads at most one host more than there are edits.
    private func first(after edits: [TableEdit<Key>]) -> Key? {
        let inserted = edits.first { $0.value != nil }?.prefix.start
        var hosts = makeIterator()
        while let key = hosts.next() {
            if let inserted, inserted <= key { return inserted }
            if !Self.removes(edits, key) { return key }
        }
        return inserted
    }

    /// The last host once `edits` are applied, if any is left.
    private func last(after edits: [TableEdit<Key>]) -> Key? {
        let inserted = edits.last { $0.value != nil }?.prefix.start
        var index = count - 1
        while index >= 0 {
            let key = self[index]
            if let inserted, inserted >= key { return inserted }
            if !Self.removes(edits, key) { return key }
            index -= 1
        }
        return inserted
    }
}
