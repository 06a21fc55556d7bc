// ZoneNodeWalker.swift -- the names a zone's table becomes, one address family, in order.

/// One name of the zone as records: a host (full-length address) or a wildcard under a
/// network at a label boundary, with the listing it answers.
struct ZoneNode<Key: TableKey>: Equatable {
    /// The first address of the name's range; bits below `length` are zero.
    var start: Key
    /// Bits of the address the name fixes: a multiple of the label width (8 for IPv4,
    /// 4 for IPv6); the full width for a host.
    var length: Int
    /// True for `*.<labels>`: every name below the labels that does not exist otherwise.
    var wildcard: Bool
    var value: TableValue
}

/// Walks one address family of a frozen table and yields the names that make a secondary
/// answer every address as the table does, in address order, holding only a stack as
/// deep as the label tree (5 frames for IPv4, 33 for IPv6), never the records.
///
/// The rules (RFC 1034 §4.3.3, RFC 4592):
///
/// - A network that one live listing covers completely becomes the wildcard `*.<labels>`
///   at its label boundary; a shorter prefix is expanded to the label boundary below it
///   (a /25 into 128 hosts, a /17 into 128 wildcards under /24s).
/// - Below such a wildcard only what answers differently is written: hosts and networks
///   with another listing. A name that exists stops the wildcard from applying below it
///   (RFC 4592 §2.2.2), so each written network repeats its own wildcard.
/// - Nothing is written for an address that is not listed (no entry, an exclusion, or a
///   listing that has expired): when a wildcard would cover it, the wildcard is left out
///   and its listed siblings are written one by one instead (at most 255 per label), so
///   the address has no name at all and the secondary answers NXDOMAIN, as rbld does.
///
/// `overlay` holds hosts that replace the table's (the RFC 5782 test points): a listing,
/// or ``TableValue/excluded`` for an address that is never listed.
struct ZoneNodeWalker<Key: TableKey> {
    private let table: AddressFamilyTable<Key>
    private let overlay: [(key: Key, value: TableValue)]
    private let now: UInt32
    private let labelBits: Int

    /// A network being enumerated: its children are looked at one by one from `cursor`.
    private struct Frame {
        var start: Key
        var length: Int
        var cursor: Key
        var finished: Bool
        /// The listing of its wildcard, when one was written: children answering the same
        /// need no name of their own.
        var background: TableValue?
        /// Only hosts can answer below (the rest is covered by a wildcard, or by a listing
        /// that has expired): ranges are not walked address by address.
        var hostsOnly: Bool
    }

    private var stack: [Frame] = []
    private var pending: ZoneNode<Key>?
    private var started = false
    private let root: TablePrefix<Key>

    /// The bits of one label of a reverse name: 8 for IPv4, 4 (a nibble) for IPv6.
    static var labelBits: Int { Key.bitWidth == 32 ? 8 : 4 }

    /// - Parameters:
    ///   - overlay: hosts whose answer replaces the table's, sorted by key.
    ///   - now: Unix seconds; a listing that expired by then is not listed.
    ///   - root: the network whose names are walked, label-aligned; the whole family by
    ///     default. A smaller one yields what the whole walk yields inside it only when no
    ///     prefix of the table covers more than it (``AddressFamilyTable/changedNetworks(comparedWith:labelBits:)``).
    init(_ table: AddressFamilyTable<Key>, overlay: [(key: Key, value: TableValue)], now: UInt32,
         root: TablePrefix<Key> = TablePrefix(address: 0, prefixLength: 0)) {
        self.table = table
        self.overlay = overlay
        self.now = now
        self.root = root
        labelBits = Self.labelBits
        stack.reserveCapacity(Key.bitWidth / labelBits + 1)
    }

    /// The next name in address order (a wildcard before the names below it), or nil.
    mutating func next() -> ZoneNode<Key>? {
        if !started {
            started = true
            visit(root, background: nil)
        }
        while true {
            if let node = pending {
                pending = nil
                return node
            }
            guard var frame = stack.popLast() else { return nil }
            if frame.finished { continue }
            let parent = TablePrefix<Key>(address: frame.start, prefixLength: frame.length)
            guard let found = nextContent(from: frame.cursor, upTo: parent.end, hostsOnly: frame.hostsOnly)
            else { continue }  // nothing more below this network
            let child = TablePrefix<Key>(address: found, prefixLength: frame.length + labelBits)
            if child.end == parent.end {
                frame.finished = true
            } else {
                frame.cursor = child.end + 1  // child.end < parent.end ≤ Key.max
            }
            let background = frame.background
            stack.append(frame)
            visit(child, background: background)
        }
    }

    /// Decides what `prefix` (a label-aligned network or a host) needs: nothing, one name
    /// (host record or wildcard), or its children enumerated (pushed as a frame).
    private mutating func visit(_ prefix: TablePrefix<Key>, background: TableValue?) {
        let length = Int(prefix.length)
        if length == Key.bitWidth {
            if let value = liveValue(at: prefix.start), value != background {
                pending = ZoneNode(start: prefix.start, length: length, wildcard: false, value: value)
            }
            return
        }
        let range = coveringRange(prefix)
        guard let cover = range.flatMap({ isLive($0) ? $0 : nil }) else {
            // Partly covered, inside an expired listing, or hosts only: the children
            // decide; no wildcard can stand here because some address below is unlisted.
            let expired = range != nil
            if expired ? nextContent(from: prefix.start, upTo: prefix.end, hostsOnly: true) != nil : hasContent(prefix) {
                stack.append(Frame(start: prefix.start, length: length, cursor: prefix.start, finished: false,
                                   background: nil, hostsOnly: expired))
            }
            return
        }
        let hosts = hostsDiffering(from: cover, in: prefix)
        if !hosts.any {
            // Uniform: one wildcard (none when it answers as the wildcard above already does).
            if cover != background {
                pending = ZoneNode(start: prefix.start, length: length, wildcard: true, value: cover)
            }
            return
        }
        // Mixed under a live cover. A wildcard may stand here unless an unlisted host sits
        // directly below it (a host child that must not exist).
        let childrenAreHosts = length + labelBits == Key.bitWidth
        if childrenAreHosts && hosts.unlisted {
            stack.append(Frame(start: prefix.start, length: length, cursor: prefix.start, finished: false,
                               background: nil, hostsOnly: false))
            return
        }
        // The wildcard is written even when a wildcard above answers the same: this name
        // exists (its children do), so the one above no longer applies below it.
        pending = ZoneNode(start: prefix.start, length: length, wildcard: true, value: cover)
        stack.append(Frame(start: prefix.start, length: length, cursor: prefix.start, finished: false,
                           background: cover, hostsOnly: true))
    }

    // MARK: - Reading the table

    /// The value answered for `address` if it is listed now: overlay, then hosts, then ranges.
    private func liveValue(at address: Key) -> TableValue? {
        let value: TableValue?
        if let index = overlayIndex(address) {
            value = overlay[index].value
        } else if let host = table.hosts.value(of: address) {
            value = host
        } else if let network = table.intervalValue(covering: address) {
            value = network
        } else {
            value = nil
        }
        guard let value, isLive(value) else { return nil }
        return value
    }

    private func isLive(_ value: TableValue) -> Bool {
        value.listing != 0 && (value.expires == 0 || now < value.expires)
    }

    private func overlayIndex(_ address: Key) -> Int? {
        overlay.firstIndex { $0.key == address }
    }

    private func rangeIndex(notAfter address: Key) -> Int? {
        table.intervalIndex(notAfter: address)
    }

    /// The value (live or expired) of the one range that covers all of `prefix`, if any.
    private func coveringRange(_ prefix: TablePrefix<Key>) -> TableValue? {
        guard let index = rangeIndex(notAfter: prefix.start), table.intervalEnd(index) >= prefix.end else { return nil }
        return table.intervalValue(index)
    }

    /// The first index in the sorted host keys at or after `address`.
    private func firstHost(atOrAfter address: Key) -> Int {
        table.hosts.firstIndex(notBefore: address)
    }

    /// Whether hosts (table or overlay) in `prefix` answer other than `cover`, and whether
    /// one of them is not listed at all.
    private func hostsDiffering(from cover: TableValue, in prefix: TablePrefix<Key>) -> (any: Bool, unlisted: Bool) {
        var any = false
        var unlisted = false
        func note(_ key: Key, _ value: TableValue) {
            guard value != cover else { return }
            any = true
            if !isLive(value) { unlisted = true }
        }
        var hosts = table.hosts.makeIterator(from: firstHost(atOrAfter: prefix.start))
        while let host = hosts.nextHost(), host.key <= prefix.end, !(any && unlisted) {
            if overlayIndex(host.key) == nil { note(host.key, host.value) }
        }
        for (key, value) in overlay where key >= prefix.start && key <= prefix.end { note(key, value) }
        return (any, unlisted)
    }

    /// Whether anything (a host, a range, an overlay host) lies in `prefix`.
    private func hasContent(_ prefix: TablePrefix<Key>) -> Bool {
        nextContent(from: prefix.start, upTo: prefix.end, hostsOnly: false) != nil
    }

    /// The first address at or after `cursor` (and at most `end`) where something is
    /// stored: a host, an overlay host, or (unless `hostsOnly`) a range.
    private func nextContent(from cursor: Key, upTo end: Key, hostsOnly: Bool) -> Key? {
        var best: Key?
        func consider(_ key: Key) {
            if key <= end, best.map({ key < $0 }) ?? true { best = key }
        }
        let host = firstHost(atOrAfter: cursor)
        if host < table.hosts.count { consider(table.hosts[host]) }
        for (key, _) in overlay where key >= cursor { consider(key); break }
        if !hostsOnly {
            if let index = rangeIndex(notAfter: cursor), table.intervalEnd(index) >= cursor {
                consider(cursor)
            } else {
                let next = rangeIndex(notAfter: cursor).map { $0 + 1 } ?? 0
                if next < table.intervalCount { consider(table.intervalStart(next)) }
            }
        }
        return best
    }
}
