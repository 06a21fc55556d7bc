// AddressFamilyTable+Difference.swift -- where two frozen tables of one family differ, as networks to re-walk.

extension AddressFamilyTable {
    /// The label-aligned networks outside which `self` and `other` make the same names.
    ///
    /// A zone's names below a network depend only on the entries inside it, unless a wider
    /// prefix covers it (its wildcard, or the siblings written when an exclusion breaks it).
    /// So each entry that differs between the two tables is widened to the outermost prefix
    /// that covers it in either table, then down to a label boundary (`labelBits`), where a
    /// walk from that network alone makes the names a walk of the whole table makes there.
    ///
    /// The entries are compared array by array, O(n) with no rendering, so an incremental
    /// transfer walks only where something changed. The networks come out sorted and
    /// disjoint (nested ones are dropped).
    func changedNetworks(comparedWith other: Self, labelBits: Int) -> [TablePrefix<Key>] {
        var changed: [TablePrefix<Key>] = []
        Self.mergeHosts(self, other) { changed.append(TablePrefix(address: $0, prefixLength: Key.bitWidth)) }
        Self.mergePrefixes(self, other) { changed.append($0) }
        guard !changed.isEmpty else { return [] }

        let covers = (outermostPrefixes(), other.outermostPrefixes())
        var networks = changed.map { prefix -> TablePrefix<Key> in
            var widest = prefix
            for cover in [Self.cover(of: prefix, in: covers.0), Self.cover(of: prefix, in: covers.1)] {
                if let cover, cover.length < widest.length { widest = cover }
            }
            let aligned = Int(widest.length) / labelBits * labelBits
            return TablePrefix(address: widest.start, prefixLength: aligned)
        }
        networks.sort()
        // Label-aligned networks are nested or disjoint: keep the outer ones.
        var disjoint: [TablePrefix<Key>] = []
        for network in networks {
            if let last = disjoint.last, network.start <= last.end { continue }
            disjoint.append(network)
        }
        return disjoint
    }

    /// Calls `body` with every host key whose presence or value differs between `a` and `b`.
    private static func mergeHosts(_ a: Self, _ b: Self, _ body: (Key) -> Void) {
        var aHosts = a.hosts.makeIterator(), bHosts = b.hosts.makeIterator()
        var aHost = aHosts.nextHost(), bHost = bHosts.nextHost()
        while aHost != nil || bHost != nil {
            if let x = aHost, let y = bHost, x.key == y.key {
                if x.value != y.value { body(x.key) }
                aHost = aHosts.nextHost()
                bHost = bHosts.nextHost()
            } else if let x = aHost, bHost.map({ x.key < $0.key }) ?? true {
                body(x.key)
                aHost = aHosts.nextHost()
            } else if let y = bHost {
                body(y.key)
                bHost = bHosts.nextHost()
            }
        }
    }

    /// Calls `body` with every shorter prefix whose presence or value differs between `a` and `b`.
    private static func mergePrefixes(_ a: Self, _ b: Self, _ body: (TablePrefix<Key>) -> Void) {
        func prefix(_ table: Self, _ index: Int) -> TablePrefix<Key> {
            TablePrefix(address: table.prefixStarts[index], prefixLength: Int(table.prefixLengths[index]))
        }
        var i = 0, j = 0
        while i < a.prefixStarts.count || j < b.prefixStarts.count {
            if i < a.prefixStarts.count, j < b.prefixStarts.count, prefix(a, i) == prefix(b, j) {
                if a.prefixValues[i] != b.prefixValues[j] { body(prefix(a, i)) }
                i += 1
                j += 1
            } else if j == b.prefixStarts.count || (i < a.prefixStarts.count && prefix(a, i) < prefix(b, j)) {
                body(prefix(a, i))
                i += 1
            } else {
                body(prefix(b, j))
                j += 1
            }
        }
    }

    /// The shorter prefixes that no other prefix covers, in address order.
    private func outermostPrefixes() -> [TablePrefix<Key>] {
        var outermost: [TablePrefix<Key>] = []
        for index in prefixStarts.indices {
            let prefix = TablePrefix<Key>(address: prefixStarts[index], prefixLength: Int(prefixLengths[index]))
            // Sorted by (start, length): a prefix is nested exactly when it starts inside the last outer one.
            if let last = outermost.last, prefix.start <= last.end { continue }
            outermost.append(prefix)
        }
        return outermost
    }

    /// The prefix of `outermost` (sorted, disjoint) that covers `prefix`, if one does.
    private static func cover(of prefix: TablePrefix<Key>, in outermost: [TablePrefix<Key>]) -> TablePrefix<Key>? {
        var low = 0, high = outermost.count
        while low < high {
            let middle = (low + high) / 2
            if outermost[middle].start <= prefix.start { low = middle + 1 } else { high = middle }
        }
        guard low > 0, outermost[low - 1].end >= prefix.end else { return nil }
        return outermost[low - 1]
    }
}
