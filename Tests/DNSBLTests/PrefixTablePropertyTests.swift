// PrefixTablePropertyTests.swift -- PrefixTable against a naive longest-match scan on seeded random data.

import Testing
@testable import DNSBL

/// Shared helpers of the prefix-table tests, namespaced so other test files can't collide.
enum PrefixTableTesting {
    /// SplitMix64: tiny, fast and seedable, so every failure names a seed that reproduces it.
    struct RNG {
        var state: UInt64
        init(seed: UInt64) { state = seed }

        mutating func next() -> UInt64 {
            // Wrapping arithmetic is the algorithm here, not an overflow to prove away.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        /// A uniform value in 0..<bound (bias is irrelevant for tests).
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

        mutating func key<Key: FixedWidthInteger>(_: Key.Type = Key.self) -> Key {
            Key(truncatingIfNeeded: UInt128(next()) << 64 | UInt128(next()))
        }
    }

    /// The reference: every inserted prefix in a dictionary, looked up by scanning them all.
    struct Oracle<Key: FixedWidthInteger & UnsignedInteger & Hashable> {
        struct Prefix: Hashable { var start: Key; var length: Int }
        private(set) var entries: [Prefix: TableValue] = [:]
        /// Every prefix ever inserted, in order: dictionary order changes between runs,
        /// so random picks come from here to keep a seed reproducible.
        private(set) var history: [Prefix] = []

        /// The mask of the first `length` bits, derived independently of the table's code.
        static func mask(_ length: Int) -> Key { ~(Key.max >> length) }

        static func prefix(_ address: Key, _ length: Int) -> Prefix {
            Prefix(start: address & mask(length), length: length)
        }

        mutating func insert(_ address: Key, _ length: Int, _ value: TableValue) {
            entries[Self.prefix(address, length)] = value
            history.append(Self.prefix(address, length))
        }

        mutating func remove(_ address: Key, _ length: Int) {
            entries[Self.prefix(address, length)] = nil
        }

        /// A flat copy of the entries, so repeated scans don't walk the dictionary.
        func scanner() -> [(start: Key, mask: Key, length: Int, value: TableValue)] {
            entries.map { ($0.key.start, Self.mask($0.key.length), $0.key.length, $0.value) }
        }

        static func lookup(_ address: Key, in scan: [(start: Key, mask: Key, length: Int, value: TableValue)]) -> TableValue? {
            var best: (length: Int, value: TableValue)?
            for entry in scan where address & entry.mask == entry.start && entry.length >= (best?.length ?? -1) {
                best = (entry.length, entry.value)
            }
            guard let best, best.value.listing != 0 else { return nil }
            return best.value
        }
    }

    /// How to reach one address family through the public API.
    struct Family<Key: FixedWidthInteger & UnsignedInteger & Hashable>: Sendable {
        var name: String
        var insert: @Sendable (inout PrefixTableBuilder, Key, Int, TableValue) -> Void
        var remove: @Sendable (inout PrefixTableBuilder, Key, Int) -> Void
        var insertDelta: @Sendable (inout PrefixTableDelta, Key, Int, TableValue) -> Void
        var removeDelta: @Sendable (inout PrefixTableDelta, Key, Int) -> Void
        var lookup: @Sendable (PrefixTable, Key) -> TableValue?
        var count: @Sendable (PrefixTable) -> Int
        var entryAddress: @Sendable (Key) -> TableEntry.Address
        var bits: Int { Key.bitWidth }
    }

    static let v4 = Family<UInt32>(
        name: "v4",
        insert: { $0.insert(v4: $1, prefixLength: $2, value: $3) },
        remove: { $0.remove(v4: $1, prefixLength: $2) },
        insertDelta: { $0.insert(v4: $1, prefixLength: $2, value: $3) },
        removeDelta: { $0.remove(v4: $1, prefixLength: $2) },
        lookup: { $0.lookup(v4: $1) },
        count: { $0.v4Count },
        entryAddress: { .v4($0) })

    static let v6 = Family<UInt128>(
        name: "v6",
        insert: { $0.insert(v6: $1, prefixLength: $2, value: $3) },
        remove: { $0.remove(v6: $1, prefixLength: $2) },
        insertDelta: { $0.insert(v6: $1, prefixLength: $2, value: $3) },
        removeDelta: { $0.remove(v6: $1, prefixLength: $2) },
        lookup: { $0.lookup(v6: $1) },
        count: { $0.v6Count },
        entryAddress: { .v6($0) })

    /// All entries of a table, in enumeration order.
    static func entries(of table: PrefixTable) -> [TableEntry] {
        var entries: [TableEntry] = []
        table.forEachEntry { entries.append($0) }
        return entries
    }

    /// Where an entry belongs in enumeration order: family, start, prefix length.
    static func order(_ entry: TableEntry) -> (Int, UInt128, Int) {
        switch entry.address {
        case .v4(let address): (4, UInt128(address), entry.prefixLength)
        case .v6(let address): (6, address, entry.prefixLength)
        }
    }

    /// Serializes and loads again, recording a failure when loading throws.
    static func reloaded(_ table: PrefixTable, context: String) -> PrefixTable? {
        let bytes = table.serialized()
        do {
            return try bytes.withUnsafeBytes { buffer throws(TableError) in try PrefixTable(serialized: buffer) }
        } catch {
            Issue.record("\(context): reloading a fresh serialization failed with \(error)")
            return nil
        }
    }
}

/// A random scenario for one family: inserts with nesting, exclusions, duplicates and
/// masking, then removals, each state checked against the oracle.
struct PrefixTableScenario<Key: FixedWidthInteger & UnsignedInteger & Hashable> {
    typealias Support = PrefixTableTesting
    let family: PrefixTableTesting.Family<Key>
    let seed: UInt64
    var rng: PrefixTableTesting.RNG
    var bases: [Key] = []
    /// At most this many low bits of a base are randomized; less keeps hosts in a narrow cluster.
    var maxRandomBits = Key.bitWidth
    /// When set, every prefix length is drawn from these instead of the usual mix.
    var onlyLengths: [Int]?
    /// The share of inserted values that are exclusions.
    var exclusionPercent = 25
    /// When set, the share of inserted values that are `commonValue`, so that most hosts
    /// share one value and the others are stored as exceptions (or, when many differ, per host).
    var commonPercent: Int?
    var commonValue = TableValue(listing: 1)
    var builder = PrefixTableBuilder()
    /// The same edits as `builder` since the first freeze, and since the removals.
    var deltas = [PrefixTableDelta(), PrefixTableDelta()]
    var oracle = PrefixTableTesting.Oracle<Key>()

    init(family: PrefixTableTesting.Family<Key>, seed: UInt64) {
        self.family = family
        self.seed = seed
        rng = PrefixTableTesting.RNG(seed: seed)
        // Few bases, so random prefixes nest and overlap a lot.
        bases = (0..<6).map { _ in rng.key(Key.self) } + [0, Key.max]
    }

    var context: String { "family \(family.name), seed \(seed)" }

    /// An address near one of the bases: its top bits shared, a random number of low bits random.
    mutating func nearAddress() -> Key {
        let base = bases[rng.below(bases.count)]
        let randomBits = rng.below(maxRandomBits + 1)
        let low = randomBits == 0 ? 0 : Key.max >> (family.bits - randomBits)
        return base ^ (rng.key(Key.self) & low)
    }

    mutating func randomLength() -> Int {
        if let onlyLengths { return onlyLengths[rng.below(onlyLengths.count)] }
        let roll = rng.below(100)
        if roll < 40 { return family.bits }                                         // host
        if roll < 60 { return rng.below(family.bits + 1) }                          // anything, /0 included
        if roll < 70, family.bits == 128 { return [48, 56, 64][rng.below(3)] }      // usual v6 sizes
        return family.bits - 1 - rng.below(min(16, family.bits))                    // long prefixes
    }

    mutating func randomValue() -> TableValue {
        if let commonPercent, rng.chance(commonPercent) { return commonValue }
        let listing: UInt16 = rng.chance(exclusionPercent) ? 0 : UInt16(1 + rng.below(4))
        let expires: UInt32 = rng.chance(50) ? 0 : UInt32(truncatingIfNeeded: rng.next())
        return TableValue(listing: listing, expires: expires)
    }

    mutating func insertRandom(count: Int) {
        for _ in 0..<count {
            var address: Key
            var length: Int
            if rng.chance(10), !oracle.history.isEmpty {
                let existing = oracle.history[rng.below(oracle.history.count)]
                // Re-insert an existing prefix with host bits set: masking plus last write wins.
                length = existing.length
                address = existing.start | (rng.key(Key.self) & ~Support.Oracle<Key>.mask(length))
            } else {
                address = nearAddress()
                length = randomLength()
            }
            let value = randomValue()
            family.insert(&builder, address, length, value)
            for index in deltas.indices { family.insertDelta(&deltas[index], address, length, value) }
            oracle.insert(address, length, value)
        }
    }

    /// Removal list: mostly existing prefixes (with host bits set), some absent ones.
    mutating func randomRemovals(count: Int) -> [(Key, Int)] {
        var removals: [(Key, Int)] = []
        let existing = oracle.history
        for _ in 0..<count {
            if rng.chance(80), !existing.isEmpty {
                let prefix = existing[rng.below(existing.count)]
                removals.append((prefix.start | (rng.key(Key.self) & ~Support.Oracle<Key>.mask(prefix.length)), prefix.length))
            } else {
                removals.append((nearAddress(), randomLength()))
            }
        }
        return removals
    }

    /// Addresses worth asking: the edges of every prefix and random ones.
    mutating func queries(random: Int) -> [Key] {
        var queries: [Key] = []
        for prefix in oracle.entries.keys {
            let first = prefix.start
            let last = prefix.start | ~Support.Oracle<Key>.mask(prefix.length)
            // Wraps at the ends of the address space on purpose: 0 - 1 asks about the top.
            queries += [first, last, first &- 1, last &+ 1]
        }
        for _ in 0..<random { queries.append(nearAddress()) }
        for _ in 0..<(random / 4) { queries.append(rng.key(Key.self)) }
        return queries + [0, Key.max]
    }

    /// Checks one frozen table against the oracle's answers: lookups, enumeration,
    /// counts, invariants.
    func check(_ table: PrefixTable, queries: [Key], expected: [TableValue?], stage: String) {
        let context = "\(self.context), \(stage)"
        #expect(table.invariantViolations() == [], "\(context)")
        #expect(family.count(table) == oracle.entries.count, "\(context)")

        var mismatches = 0
        for (query, expected) in zip(queries, expected) {
            let actual = family.lookup(table, query)
            if actual != expected {
                mismatches += 1
                if mismatches <= 5 {
                    Issue.record("\(context): lookup 0x\(String(query, radix: 16)) gave \(String(describing: actual)), oracle \(String(describing: expected))")
                }
            }
        }
        #expect(mismatches == 0, "\(context): \(mismatches) of \(queries.count) lookups differ")

        // Enumeration gives back exactly the inserted prefixes (masked, last write wins).
        let inserted = Set(oracle.entries.map {
            TableEntry(address: family.entryAddress($0.key.start), prefixLength: $0.key.length, value: $0.value)
        })
        let enumerated = PrefixTableTesting.entries(of: table)
        #expect(enumerated.count == inserted.count && Set(enumerated) == inserted, "\(context): enumeration")
        // In address order, a shorter prefix before the longer ones at the same start.
        let order = enumerated.map(PrefixTableTesting.order)
        #expect(zip(order, order.dropFirst()).allSatisfy { $0 < $1 }, "\(context): enumeration order")
    }

    /// Checks the table, its rebuilt twin (`builder().freeze()`) and its reloaded twin
    /// (`serialized()` then `init(serialized:)`) against one set of oracle answers.
    func checkAllForms(_ table: PrefixTable, queries: [Key], stage: String) {
        let scan = oracle.scanner()
        let expected = queries.map { Support.Oracle<Key>.lookup($0, in: scan) }
        check(table, queries: queries, expected: expected, stage: stage)
        let rebuilt = table.builder().freeze()
        #expect(rebuilt.serialized() == table.serialized(), "\(context), \(stage): builder() round trip")
        check(rebuilt, queries: queries, expected: expected, stage: stage + ", rebuilt")
        if let reloaded = PrefixTableTesting.reloaded(table, context: "\(context), \(stage)") {
            #expect(reloaded.serialized() == table.serialized(), "\(context), \(stage): reserialization")
            check(reloaded, queries: queries, expected: expected, stage: stage + ", reloaded")
        }
    }

    mutating func run(inserts: Int, removals: Int, randomQueries: Int) {
        insertRandom(count: inserts)
        #expect(builder.count == oracle.entries.count, "\(context)")
        let table = builder.freeze()
        checkAllForms(table, queries: queries(random: randomQueries), stage: "after inserts")
        #expect(table.applying(PrefixTableDelta()) === table, "\(context): an empty delta changes nothing")

        // Removals applied to the original builder, to a builder from the table and as a
        // delta merged into the table agree.
        var fromTable = table.builder()
        deltas = [PrefixTableDelta(), PrefixTableDelta()]
        for (address, length) in randomRemovals(count: removals) {
            family.remove(&builder, address, length)
            family.remove(&fromTable, address, length)
            family.removeDelta(&deltas[0], address, length)
            oracle.remove(address, length)
        }
        #expect(builder.count == oracle.entries.count, "\(context)")
        let afterRemovals = builder.freeze()
        #expect(fromTable.freeze().serialized() == afterRemovals.serialized(), "\(context): delta on builder()")
        let merged = table.applying(deltas[0])
        #expect(merged.serialized() == afterRemovals.serialized(), "\(context): removals merged by applying(_:)")
        checkAllForms(afterRemovals, queries: queries(random: randomQueries), stage: "after removals")

        // More inserts on top, so holes and relistings interleave with removed prefixes;
        // the same edits merged into the first table (removals and re-inserts, with
        // prefixes edited more than once) and into the table after the removals.
        deltas[1] = PrefixTableDelta()
        insertRandom(count: inserts / 2)
        let afterReinserts = builder.freeze()
        checkAllForms(afterReinserts, queries: queries(random: randomQueries), stage: "after re-inserts")
        #expect(table.applying(deltas[0]).serialized() == afterReinserts.serialized(), "\(context): all edits merged at once")
        let chained = merged.applying(deltas[1])
        #expect(chained.serialized() == afterReinserts.serialized(), "\(context): re-inserts merged after the removals")
        checkAllForms(chained, queries: queries(random: randomQueries), stage: "merged deltas")
    }
}

@Suite("PrefixTable properties")
struct PrefixTablePropertyTests {
    static let seeds: [UInt64] = [1, 0xDEAD_BEEF, 20_250_601, 0x5EED_0F_7AB1E]

    @Test("v4 matches the naive longest-match scan", arguments: seeds)
    func v4MatchesOracle(seed: UInt64) {
        var scenario = PrefixTableScenario(family: PrefixTableTesting.v4, seed: seed)
        scenario.run(inserts: 300, removals: 100, randomQueries: 2000)
    }

    @Test("v6 matches the naive longest-match scan", arguments: seeds)
    func v6MatchesOracle(seed: UInt64) {
        var scenario = PrefixTableScenario(family: PrefixTableTesting.v6, seed: seed)
        scenario.run(inserts: 300, removals: 100, randomQueries: 2000)
    }

    @Test("small dense v4 tables, many seeds", arguments: 100..<124 as Range<UInt64>)
    func smallDenseV4(seed: UInt64) {
        // Few entries around few bases: every nesting shape shows up across seeds.
        var scenario = PrefixTableScenario(family: PrefixTableTesting.v4, seed: seed)
        scenario.bases = Array(scenario.bases.prefix(2))
        scenario.run(inserts: 30, removals: 10, randomQueries: 300)
    }

    @Test("small v6 tables clustered under one prefix", arguments: 200..<212 as Range<UInt64>)
    func clusteredV6(seed: UInt64) {
        // One base and few random bits: hosts share a long prefix, so the host directory
        // indexes bits far below the top, and uniformly random queries fall outside it.
        var scenario = PrefixTableScenario(family: PrefixTableTesting.v6, seed: seed)
        scenario.bases = Array(scenario.bases.prefix(1))
        scenario.maxRandomBits = 24 + Int(seed % 40)
        scenario.run(inserts: 40, removals: 10, randomQueries: 300)
    }

    @Test("hosts mostly of one value: exceptions or per-host arrays", arguments: 300..<316 as Range<UInt64>)
    func mostHostsShareOneValue(seed: UInt64) {
        // Mostly hosts, so there are many; by seed, few or many of them differ from the
        // common value, which expires in some seeds.
        func expectForm(_ values: HostValues, commonPercent: Int?) {
            if commonPercent ?? 0 >= 90 {
                #expect(!values.exceptionIndexes.isEmpty, "seed \(seed): exceptions expected")
            } else {
                #expect(values.isFull, "seed \(seed): per-host arrays expected")
            }
        }
        for family in [0, 1] {
            func configure<Key>(_ scenario: inout PrefixTableScenario<Key>) {
                scenario.onlyLengths = [scenario.family.bits, scenario.family.bits, scenario.family.bits - 8]
                scenario.commonPercent = [99, 97, 90, 30][Int(seed % 4)]
                scenario.exclusionPercent = 10
                scenario.commonValue = seed % 3 == 0 ? TableValue(listing: 2, expires: 1_900_000_000) : TableValue(listing: 1)
            }
            if family == 0 {
                var scenario = PrefixTableScenario(family: PrefixTableTesting.v4, seed: seed)
                configure(&scenario)
                scenario.run(inserts: 600, removals: 60, randomQueries: 500)
                expectForm(scenario.builder.freeze().v4.hosts.globalValues(), commonPercent: scenario.commonPercent)
            } else {
                var scenario = PrefixTableScenario(family: PrefixTableTesting.v6, seed: seed)
                configure(&scenario)
                scenario.run(inserts: 600, removals: 60, randomQueries: 500)
                expectForm(scenario.builder.freeze().v6.hosts.globalValues(), commonPercent: scenario.commonPercent)
            }
        }
    }

    @Test("both families in one table stay apart", arguments: seeds)
    func familiesStayApart(seed: UInt64) {
        var rng = PrefixTableTesting.RNG(seed: seed)
        var builder = PrefixTableBuilder()
        var oracle4 = PrefixTableTesting.Oracle<UInt32>()
        var oracle6 = PrefixTableTesting.Oracle<UInt128>()
        for _ in 0..<300 {
            let address: UInt32 = rng.key()
            let length = rng.chance(50) ? 32 : rng.below(33)
            let value = TableValue(listing: UInt16(rng.below(3)))
            builder.insert(v4: address, prefixLength: length, value: value)
            oracle4.insert(address, length, value)
            // The same bits as a v4-mapped v6 address: must not leak into the v4 side.
            let mapped = UInt128(0xFFFF) << 32 | UInt128(address)
            builder.insert(v6: mapped, prefixLength: 96 + length, value: TableValue(listing: 9))
            oracle6.insert(mapped, 96 + length, TableValue(listing: 9))
        }
        let table = builder.freeze()
        #expect(table.v4Count == oracle4.entries.count && table.v6Count == oracle6.entries.count, "seed \(seed)")
        let scan4 = oracle4.scanner()
        let scan6 = oracle6.scanner()
        for _ in 0..<2000 {
            let address: UInt32 = rng.key()
            #expect(table.lookup(v4: address) == PrefixTableTesting.Oracle.lookup(address, in: scan4), "seed \(seed)")
            let mapped = UInt128(0xFFFF) << 32 | UInt128(address)
            #expect(table.lookup(v6: mapped) == PrefixTableTesting.Oracle.lookup(mapped, in: scan6), "seed \(seed)")
        }
    }
}
