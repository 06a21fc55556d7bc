// PrefixTableShardTests.swift -- host shards: deltas against the oracle, shared shards, deltas in parts.

import Testing
@testable import DNSBL

@Suite("PrefixTable host shards")
struct PrefixTableShardTests {
    /// A table made by deltas and its oracle, checked together after every step.
    struct Run<Key: TableKey> {
        let family: PrefixTableTesting.Family<Key>
        let seed: UInt64
        var rng: PrefixTableTesting.RNG
        var oracle = PrefixTableTesting.Oracle<Key>()
        var table = PrefixTable.empty

        init(family: PrefixTableTesting.Family<Key>, seed: UInt64) {
            self.family = family
            self.seed = seed
            rng = PrefixTableTesting.RNG(seed: seed)
        }

        /// The hosts the oracle holds, sorted.
        var hosts: [Key] { oracle.entries.keys.filter { $0.length == Key.bitWidth }.map(\.start).sorted() }

        mutating func value() -> TableValue {
            // Mostly one value, so shards take the exception form, and some of every kind.
            if rng.chance(80) { return TableValue(listing: 1) }
            return TableValue(listing: UInt16(rng.below(3)), expires: rng.chance(50) ? 0 : UInt32(rng.below(1000)))
        }

        /// Applies `edits` (address, length, value or nil to remove) as one delta and checks the result.
        mutating func apply(_ edits: [(Key, Int, TableValue?)], stage: String) {
            var delta = PrefixTableDelta()
            for (address, length, value) in edits {
                if let value {
                    family.insertDelta(&delta, address, length, value)
                    oracle.insert(address, length, value)
                } else {
                    family.removeDelta(&delta, address, length)
                    oracle.remove(address, length)
                }
            }
            table = table.applying(delta)
            check(stage: stage)
        }

        /// The table against the oracle (lookups) and against the same entries frozen from
        /// scratch (entries, serialized bytes), and its invariants.
        mutating func check(stage: String) {
            let context = "\(family.name), seed \(seed), \(stage)"
            #expect(table.invariantViolations() == [], "\(context)")
            var fresh = PrefixTableBuilder()
            for (prefix, value) in oracle.entries { family.insert(&fresh, prefix.start, prefix.length, value) }
            let scratch = fresh.freeze()
            #expect(PrefixTableTesting.entries(of: table) == PrefixTableTesting.entries(of: scratch), "\(context): entries")
            #expect(table.serialized() == scratch.serialized(), "\(context): serialized bytes")
            let scan = oracle.scanner()
            var queries: [Key] = [0, Key.max]
            // Every host and its neighbours would make the naive scan slow: a sample of them.
            let all = hosts
            for host in all.shuffledPrefix(200, rng: &rng) + all.prefix(2) + all.suffix(2) {
                queries += [host, host &+ 1, host &- 1]
            }
            for _ in 0..<300 { queries.append(rng.key(Key.self)) }
            let wrong = queries.filter {
                family.lookup(table, $0) != PrefixTableTesting.Oracle<Key>.lookup($0, in: scan)
                    || family.lookup(scratch, $0) != family.lookup(table, $0)
            }
            #expect(wrong.isEmpty, "\(context): \(wrong.count) lookups differ, first \(wrong.first.map { "\($0)" } ?? "")")
        }

        /// Random hosts over the whole address space.
        mutating func randomHosts(_ count: Int) -> [(Key, Int, TableValue?)] {
            (0..<count).map { _ in (rng.key(Key.self), Key.bitWidth, value()) }
        }
    }

    static func deltasMatchOracle<Key: TableKey>(_ family: PrefixTableTesting.Family<Key>, seed: UInt64) {
        var run = Run(family: family, seed: seed)
        run.check(stage: "empty")
        var edits = run.randomHosts(1500) + [(0, Key.bitWidth - 8, TableValue(listing: 2))]
        run.apply(edits, stage: "first hosts")
        // One host, in one shard: added, changed, removed.
        let some = run.hosts[run.rng.below(run.hosts.count)]
        run.apply([(some &+ 1, Key.bitWidth, TableValue(listing: 3))], stage: "one host added")
        run.apply([(some, Key.bitWidth, TableValue(listing: 2, expires: 5))], stage: "one host changed")
        run.apply([(some, Key.bitWidth, nil)], stage: "one host removed")
        // Many shards at once, with removals and a shorter prefix.
        let hosts = run.hosts
        edits = hosts.shuffledPrefix(200, rng: &run.rng).map { ($0, Key.bitWidth, nil) }
        edits += run.randomHosts(500)
        edits.append((run.rng.key(Key.self), Key.bitWidth - 12, .excluded))
        run.apply(edits, stage: "many shards")
        // The first and last hosts: removed, then new ones beyond them (the layout may move).
        edits = [run.hosts.first!, run.hosts.last!].map { ($0, Key.bitWidth, nil) }
        run.apply(edits, stage: "ends removed")
        run.apply([(0, Key.bitWidth, TableValue(listing: 1)), (Key.max, Key.bitWidth, TableValue(listing: 2))], stage: "extreme ends added")
        // Hosts in one narrow cluster only: the layout narrows to it, then widens again.
        edits = run.hosts.map { ($0, Key.bitWidth, nil) }
        run.apply(edits, stage: "no hosts left")
        let cluster = run.rng.key(Key.self) & ~Key(0xFFFFF)
        edits = []
        for _ in 0..<400 { edits.append((cluster | Key(run.rng.below(0x10_0000)), Key.bitWidth, run.value())) }
        run.apply(edits, stage: "one cluster")
        run.apply([(cluster &+ 0x10_0000 &* 3, Key.bitWidth, TableValue(listing: 1))], stage: "cluster widened")
        edits = run.randomHosts(300)
        run.apply(edits, stage: "spread again")
    }

    @Test("v4 tables made by deltas answer as the oracle and as tables made from scratch", arguments: 0..<4 as Range<UInt64>)
    func v4DeltasMatchOracle(seed: UInt64) {
        Self.deltasMatchOracle(PrefixTableTesting.v4, seed: seed)
    }

    @Test("v6 tables made by deltas answer as the oracle and as tables made from scratch", arguments: 10..<14 as Range<UInt64>)
    func v6DeltasMatchOracle(seed: UInt64) {
        Self.deltasMatchOracle(PrefixTableTesting.v6, seed: seed)
    }

    @Test func directoryBitsFollowTheFamilySize() {
        let first: UInt128 = 0x2000 << 112, last: UInt128 = 0x3FFF << 112
        // At most four hosts a bucket, from one bucket a shard to 65,536 buckets.
        for (count, bits) in [(0, 8), (1, 8), (1024, 8), (1025, 9), (4096, 10), (4097, 11),
                              (99_000, 15), (131_072, 15), (131_073, 16), (10_000_000, 16)] {
            #expect(HostLayout<UInt128>.bucketBits(first: first, last: last, count: count) == bits, "\(count) hosts")
        }
        // The dense layout keeps 16 bits, whatever the count.
        #expect(HostLayout<UInt32>.bucketBits(first: 0, last: .max, count: 3) == 16)
        #expect(HostLayout<UInt128>.bucketBits(first: first, last: first | 0xFFFF_FFFF, count: 3) == 16)
        let small = HostLayout<UInt128>(first: first, last: last, count: 3000)
        #expect(small.bucketBits == 10 && small.bucketsPerShard == 4 && !small.isDense)
        #expect(small.shift == 128 - 3 - 10 && small.tailBytes == 15)
    }

    /// A growing and shrinking IPv6 family keeps its bucket bits within one of those its size
    /// calls for: edits inside that band rebuild only their shards, and edits that leave it
    /// lay the family out again, answering as the oracle throughout.
    @Test func aGrowingFamilyKeepsItsDirectoryWhileItCan() {
        var run = Run(family: PrefixTableTesting.v6, seed: 31)
        func bits(_ run: Run<UInt128>) -> (kept: Int, called: Int) {
            let hosts = run.table.v6.hosts
            return (hosts.layout.bucketBits,
                    HostLayout<UInt128>.bucketBits(first: hosts[0], last: hosts[hosts.count - 1], count: hosts.count))
        }
        // Both ends of the space, so the shared prefix never moves and only the count does.
        run.apply([(0, 128, TableValue(listing: 1)), (.max, 128, TableValue(listing: 1))] + run.randomHosts(1500), stage: "1,502 hosts")
        #expect(bits(run) == (9, 9))
        var seen: Set<Int> = [9]
        for (step, count) in [400, 2000, 3000, 9000, 20_000].enumerated() {
            let before = run.table.v6.hosts
            run.apply(run.randomHosts(count), stage: "growth \(step)")
            let (kept, called) = bits(run)
            #expect(abs(kept - called) <= 1, "growth \(step): \(kept) bits kept, \(called) called for")
            // A new directory shares no shard with the old one.
            let shared = zip(before.shards, run.table.v6.hosts.shards).contains { $0 === $1 }
            #expect(kept == before.layout.bucketBits || !shared, "growth \(step)")
            seen.insert(kept)
        }
        #expect(seen.count >= 3, "the directory grew with the family: \(seen.sorted())")
        // One more host within the band: one shard rebuilt.
        let before = run.table.v6.hosts
        run.apply(run.randomHosts(1), stage: "one more")
        #expect(zip(before.shards, run.table.v6.hosts.shards).filter { $0 !== $1 }.count == 1)
        // Most hosts removed: the directory shrinks with the family.
        let hosts = run.hosts
        run.apply(hosts.dropFirst().dropLast().shuffledPrefix(hosts.count - 300, rng: &run.rng).map { ($0, 128, nil) },
                  stage: "shrunk")
        #expect(bits(run) == (8, 8))
    }

    /// A table of `count` random hosts of each family, with both ends of each address space.
    static func spreadTable(count: Int, seed: UInt64) -> PrefixTable {
        var rng = PrefixTableTesting.RNG(seed: seed)
        var builder = PrefixTableBuilder()
        for key in [0, UInt32.max] { builder.insert(v4: key, prefixLength: 32, value: TableValue(listing: 1)) }
        for key in [0, UInt128.max] { builder.insert(v6: key, prefixLength: 128, value: TableValue(listing: 1)) }
        for _ in 0..<count {
            builder.insert(v4: rng.key(), prefixLength: 32, value: TableValue(listing: 1))
            builder.insert(v6: rng.key(), prefixLength: 128, value: TableValue(listing: rng.chance(5) ? 2 : 1))
        }
        return builder.freeze()
    }

    @Test func oneHostDeltaSharesEveryOtherShard() {
        let table = Self.spreadTable(count: 20_000, seed: 5)
        let address: UInt32 = 0x0A0B_0C0D
        var delta = PrefixTableDelta()
        delta.insert(v4: address, prefixLength: 32, value: TableValue(listing: 2))
        let next = table.applying(delta)
        let edited = table.v4.hosts.layout.shard(of: address)
        let old = table.v4.hosts.shards, new = next.v4.hosts.shards
        #expect(old.count == HostTable<UInt32>.shardCount && new.count == old.count)
        let shared = old.indices.filter { old[$0] === new[$0] }
        #expect(shared == Array(old.indices).filter { $0 != edited }, "v4: only the edited shard is rebuilt")
        #expect(next.lookup(v4: address)?.listing == 2 && table.lookup(v4: address) == nil)
        // The family without edits is the same arrays.
        #expect(zip(table.v6.hosts.shards, next.v6.hosts.shards).allSatisfy { $0 === $1 })
        table.v6.hosts.shards[0].keys.bytes.withUnsafeBufferPointer { old in
            next.v6.hosts.shards[0].keys.bytes.withUnsafeBufferPointer { new in #expect(old.baseAddress == new.baseAddress) }
        }

        // Nor are the shorter prefixes copied when only hosts change.
        var networks = PrefixTableDelta()
        networks.insert(v4: 0xC633_6400, prefixLength: 24, value: TableValue(listing: 1))
        networks.insert(v4: 0xC000_0200, prefixLength: 24, value: TableValue(listing: 1))
        networks.insert(v4: 0xC000_0280, prefixLength: 25, value: .excluded)   // nested: intervals stored apart
        let withNetworks = table.applying(networks)
        let hostOnly = withNetworks.applying(delta)
        #expect(!withNetworks.v4.prefixesAreFlat && hostOnly.lookup(v4: address)?.listing == 2)
        for (before, after) in [(withNetworks.v4.prefixStarts, hostOnly.v4.prefixStarts),
                                (withNetworks.v4.rangeStarts, hostOnly.v4.rangeStarts)] {
            before.withUnsafeBufferPointer { old in
                after.withUnsafeBufferPointer { new in #expect(old.baseAddress == new.baseAddress) }
            }
        }
        #expect(hostOnly.lookup(v4: 0xC633_6405)?.listing == 1 && hostOnly.lookup(v4: 0xC000_0281) == nil)
        #expect(hostOnly.invariantViolations() == [])

        var removal = PrefixTableDelta()
        let host = table.v6.hosts[table.v6.hosts.count / 2]
        removal.remove(v6: host, prefixLength: 128)
        let removed = table.applying(removal)
        let edited6 = table.v6.hosts.layout.shard(of: host)
        #expect(table.v6.hosts.shards.indices.filter {
            table.v6.hosts.shards[$0] !== removed.v6.hosts.shards[$0]
        } == [edited6], "v6: only the edited shard is rebuilt")
        #expect(removed.lookup(v6: host) == nil && removed.invariantViolations() == [])
    }
}

extension Array {
    /// `count` elements picked at random without repeats (fewer when there are fewer).
    func shuffledPrefix(_ count: Int, rng: inout PrefixTableTesting.RNG) -> [Element] {
        var copy = self
        for index in copy.indices.reversed() where index > 0 { copy.swapAt(index, rng.below(index + 1)) }
        return Array(copy.prefix(count))
    }
}
