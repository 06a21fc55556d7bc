// AddressNameTests.swift -- query names to addresses, against a naive reading of the labels.

import DNSTestSupport
import Testing
@testable import DNSBL

@Suite("Address names")
struct AddressNameTests {
    /// What the labels in front of the zone mean, read from their text (RFC 5782 §2.1, §2.4).
    static func oracle(_ labels: [String]) -> AddressName {
        let octets = labels.map { label -> UInt32? in
            guard (1...3).contains(label.count), label.allSatisfy(\.isASCII), label.allSatisfy(\.isNumber),
                  label.count == 1 || !label.hasPrefix("0"), let value = UInt32(label), value <= 255
            else { return nil }
            return value
        }
        let nibbles = labels.map { $0.count == 1 ? UInt8($0, radix: 16) : nil }
        let allOctets = labels.count <= 4 && octets.allSatisfy { $0 != nil }
        let allNibbles = labels.count <= 32 && nibbles.allSatisfy { $0 != nil }
        if allOctets && labels.count == 4 {
            return .v4(octets.enumerated().reduce(0) { $0 | $1.element! << (8 * $1.offset) })
        }
        if allNibbles && labels.count == 32 {
            return .v6(nibbles.enumerated().reduce(0) { $0 | UInt128($1.element!) << (4 * $1.offset) })
        }
        return allOctets || allNibbles ? .emptyNonTerminal : .notAnAddress
    }

    static func parse(_ labels: [String]) -> AddressName {
        let packet = makeQuery((labels + ["bl", "example", "org"]).joined(separator: "."))
        return packet.withUnsafeBytes { raw in
            var starts = InlineArray<128, UInt8>(repeating: 0)
            var offset = WireLimits.headerSize
            for index in labels.indices {
                starts[index] = UInt8(offset - WireLimits.headerSize)
                offset += 1 + Int(raw[offset])
            }
            return AddressName.parse(raw, labelStarts: starts, count: labels.count)
        }
    }

    @Test(arguments: [
        (["2", "0", "0", "127"], AddressName.v4(0x7F00_0002)),
        (["255", "255", "255", "255"], .v4(.max)),
        (["01", "0", "0", "127"], .notAnAddress),
        (["256", "0", "0", "1"], .notAnAddress),
        (["0", "0", "127"], .emptyNonTerminal),
        (Array(repeating: "f", count: 32), .v6(.max)),
        (Array(repeating: "F", count: 32), .v6(.max)),
        (["1"] + Array(repeating: "0", count: 31), .v6(1)),
        (Array(repeating: "0", count: 31) + ["a"], .v6(UInt128(0xA) << 124)),
        (Array(repeating: "0", count: 31) + ["g"], .notAnAddress),
        (Array(repeating: "0", count: 31) + ["10"], .notAnAddress),
        (Array(repeating: "0", count: 33), .notAnAddress),
        (Array(repeating: "e", count: 31), .emptyNonTerminal),
    ] as [([String], AddressName)])
    func namedCases(labels: [String], expected: AddressName) {
        #expect(Self.parse(labels) == expected)
        #expect(Self.oracle(labels) == expected, "the oracle itself")
    }

    /// Every byte value as the digit of one label, in each lane of the 8-byte words the
    /// IPv6 reading takes four labels from: only the 22 hex digits read, as their value.
    @Test("every byte as one digit of an IPv6 name", arguments: [0, 1, 2, 3, 14, 17, 30, 31])
    func everyByteAsADigit(position: Int) {
        var wrong: [UInt8] = []
        for byte in 0...255 as ClosedRange<UInt8> {
            var packet = [UInt8](repeating: 0, count: WireLimits.headerSize)
            var starts = InlineArray<128, UInt8>(repeating: 0)
            for index in 0..<32 {
                starts[index] = UInt8(2 * index)
                packet += [1, index == position ? byte : 0x30]
            }
            packet += [2, 0x62, 0x6C, 0, 0, 1, 0, 1]      // "bl", the root, type A, class IN
            let expected = UInt8(String(UnicodeScalar(byte)), radix: 16).map { AddressName.v6(UInt128($0) << (4 * position)) }
            let parsed = packet.withUnsafeBytes { AddressName.parse($0, labelStarts: starts, count: 32) }
            if parsed != expected ?? .notAnAddress { wrong.append(byte) }
        }
        #expect(wrong.isEmpty, "bytes read wrongly: \(wrong)")
    }

    @Test("random names read as their labels say", arguments: [1, 2, 3] as [UInt64])
    func randomNamesMatchTheOracle(seed: UInt64) {
        var rng = PrefixTableTesting.RNG(seed: seed)
        let digits = Array("0123456789abcdefABCDEF")
        let forms = ["0", "7", "9", "a", "F", "g", "-", "00", "10", "99", "255", "256", "01", "ab", "1a"]
        for _ in 0..<3000 {
            // Mostly 32 or 4 labels of digits, with a wrong one now and then.
            let count = [4, 32, 32, 31, 33, rng.below(40) + 1][rng.below(6)]
            let labels = (0..<count).map { _ -> String in
                rng.chance(96) ? String(digits[rng.below(digits.count)]) : forms[rng.below(forms.count)]
            }
            #expect(Self.parse(labels) == Self.oracle(labels), "\(labels)")
        }
    }
}
