// IPPrefix.swift -- an IPv4 or IPv6 network (address + prefix length), parsed and printed.

/// An IPv4 or IPv6 prefix: a host (`/32`, `/128`) or a CIDR network.
///
/// The address is kept in one `UInt128`; an IPv4 address sits in the low 32 bits. Host bits
/// beyond `length` are always zero, so two prefixes that cover the same network compare
/// equal. IPv4-mapped IPv6 text (`::ffff:192.0.2.1`) stays an IPv6 prefix: the DNS side
/// answers it under the IPv6 tree, as RFC 5782 §5 expects for `::FFFF:7F00:2`.
///
/// Order (`Comparable`): IPv4 before IPv6, then by address, then shorter prefixes first, so
/// a sorted array lists every network right before the prefixes it contains.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The address family.
    public enum Family: Sendable, Hashable, Comparable {
        case v4, v6

        /// Address width in bits: 32 or 128.
        public var bitCount: Int { self == .v4 ? 32 : 128 }
    }

    public let family: Family
    /// The network address; host bits beyond `length` are zero.
    public let address: UInt128
    /// Prefix length: 0...32 for IPv4, 0...128 for IPv6.
    public let length: Int

    /// Makes a prefix, masking host bits beyond `length`. Returns nil for a length outside
    /// the family's range, or an IPv4 address wider than 32 bits.
    public init?(family: Family, address: UInt128, length: Int) {
        guard length >= 0, length <= family.bitCount else { return nil }
        if family == .v4, address >> 32 != 0 { return nil }
        self.family = family
        self.address = address & IPPrefix.mask(family: family, length: length)
        self.length = length
    }

    /// The host prefix (`/32` or `/128`) of one address.
    public static func host(v4 address: UInt32) -> IPPrefix {
        IPPrefix(unchecked: .v4, UInt128(address), 32)
    }

    /// The host prefix (`/128`) of one IPv6 address.
    public static func host(v6 address: UInt128) -> IPPrefix {
        IPPrefix(unchecked: .v6, address, 128)
    }

    /// Internal: the caller guarantees a valid length and zero host bits.
    init(unchecked family: Family, _ address: UInt128, _ length: Int) {
        self.family = family
        self.address = address
        self.length = length
    }

    /// Parses `192.0.2.1`, `192.0.2.0/24`, `2001:db8::/32`, `::ffff:192.0.2.1`.
    ///
    /// Strict: rejects surrounding spaces, garbage, bad lengths, and a CIDR with host bits
    /// set (`192.0.2.1/24`), because a typo there would silently list a different network.
    /// Use ``parse(_:)`` to learn why text was rejected, or to accept and mask host bits.
    public init?(_ text: String) {
        guard case .success(let prefix) = IPPrefix.parse(text) else { return nil }
        self = prefix
    }

    /// Parses one address (no `/length`) from bytes as its host prefix: a dotted-quad IPv4
    /// address (1–3 decimal digits an octet) or IPv6 text (RFC 4291 §2.2, with `::` and a
    /// trailing dotted quad). Nil for anything else, including surrounding spaces.
    public init?(address text: some Collection<UInt8>) {
        let parsed = text.withContiguousStorageIfAvailable { IPPrefix.parseAddress($0, from: 0, to: $0.count) }
            ?? Array(text).withUnsafeBufferPointer { IPPrefix.parseAddress($0, from: 0, to: $0.count) }
        guard let (family, address) = parsed else { return nil }
        self.init(unchecked: family, address, family.bitCount)
    }

    /// Parses like ``init(_:)`` but says why text was rejected.
    ///
    /// For host bits set, the error carries the masked prefix, so a lenient caller (a list
    /// file import) can accept it with a warning.
    public static func parse(_ text: String) -> Result<IPPrefix, IPPrefixError> {
        var text = text
        return text.withUTF8 { parse(bytes: $0, from: 0, to: $0.count) }
    }

    /// The address mask of a prefix length, within the family's width.
    static func mask(family: Family, length: Int) -> UInt128 {
        if length == 0 { return 0 }
        let bits = family.bitCount
        let all: UInt128 = bits == 128 ? ~0 : (UInt128(1) << 32) &- 1  // &-: 1 << 32 >= 1
        return all & ~((UInt128(1) << (bits - length)) &- 1)         // &-: bits - length <= 32 or < 128 shift, value >= 1
    }

    /// An IPv4-mapped IPv6 prefix (`::ffff:a.b.c.d`, inside `::ffff:0:0/96`) as the IPv4
    /// prefix it stands for; every other prefix unchanged. Mail software writes IPv4 clients
    /// either way (Courier uses the mapped form), and trust checks must not care which.
    public var unmapped: IPPrefix {
        guard family == .v6, length >= 96, address >> 32 == 0xFFFF else { return self }
        return IPPrefix(unchecked: .v4, address & 0xFFFF_FFFF, length - 96)
    }

    /// True for a single address (`/32` or `/128`).
    public var isHost: Bool { length == family.bitCount }

    /// True when `other` lies inside this prefix (same family, not shorter, same network bits).
    public func contains(_ other: IPPrefix) -> Bool {
        other.family == family && other.length >= length
            && other.address & IPPrefix.mask(family: family, length: length) == address
    }

    /// The enclosing prefix of the given (shorter or equal) length.
    public func truncated(to newLength: Int) -> IPPrefix {
        precondition(newLength >= 0 && newLength <= length, "truncate only to a shorter length")
        return IPPrefix(unchecked: family, address & IPPrefix.mask(family: family, length: newLength), newLength)
    }

    /// The last address inside the prefix.
    public var lastAddress: UInt128 {
        address | (~IPPrefix.mask(family: family, length: length) & IPPrefix.mask(family: family, length: family.bitCount))
    }

    public static func < (lhs: IPPrefix, rhs: IPPrefix) -> Bool {
        if lhs.family != rhs.family { return lhs.family < rhs.family }
        if lhs.address != rhs.address { return lhs.address < rhs.address }
        return lhs.length < rhs.length
    }

    /// `192.0.2.1`, `192.0.2.0/24`, `2001:db8::1`, `2001:db8::/32` (RFC 5952 for IPv6; the
    /// length is omitted for hosts). IPv4-mapped addresses print in hex (`::ffff:7f00:2`),
    /// the form rbldnsd's ip6trie reads.
    public var description: String {
        let text = family == .v4 ? IPPrefix.formatV4(UInt32(truncatingIfNeeded: address)) : IPPrefix.formatV6(address)
        return isHost ? text : "\(text)/\(length)"
    }

    /// The address alone, without a length.
    public var addressText: String {
        family == .v4 ? IPPrefix.formatV4(UInt32(truncatingIfNeeded: address)) : IPPrefix.formatV6(address)
    }

    static func formatV4(_ value: UInt32) -> String {
        "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
    }

    /// RFC 5952 §4: lowercase, no leading zeros, the longest run (≥ 2) of zero groups
    /// compressed to `::`, the first one on a tie.
    static func formatV6(_ value: UInt128) -> String {
        var groups = [UInt16](repeating: 0, count: 8)
        for index in 0..<8 { groups[index] = UInt16(truncatingIfNeeded: value >> (112 - 16 * index)) }
        var bestStart = -1, bestCount = 0, runStart = -1
        for index in 0...8 {
            if index < 8, groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                let count = index - runStart
                if count > bestCount, count >= 2 { bestStart = runStart; bestCount = count }
                runStart = -1
            }
        }
        var text = ""
        var index = 0
        while index < 8 {
            if index == bestStart {
                text += "::"
                index += bestCount
                continue
            }
            if !text.isEmpty, !text.hasSuffix(":") { text += ":" }
            text += String(groups[index], radix: 16)
            index += 1
        }
        return text
    }
}

/// Why text is not an IP prefix.
public enum IPPrefixError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Neither an IPv4 nor an IPv6 address.
    case badAddress
    /// The part after `/` is not a number within the family's range.
    case badLength
    /// The address has bits set beyond the prefix length; `masked` is what was probably meant.
    case hostBitsSet(masked: IPPrefix)

    public var description: String {
        switch self {
        case .badAddress: "not an IP address"
        case .badLength: "bad prefix length"
        case .hostBitsSet(let masked): "host bits set beyond the prefix length (network is \(masked))"
        }
    }
}

// MARK: - Byte-level parsing (used by the list file parser on whole files, so no Strings)

extension IPPrefix {
    /// Parses `bytes[from..<to]` as `ADDRESS` or `ADDRESS/LENGTH`.
    static func parse(bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Result<IPPrefix, IPPrefixError> {
        var slash = start
        while slash < end, bytes[slash] != UInt8(ascii: "/") { slash += 1 }
        guard let (family, address) = parseAddress(bytes, from: start, to: slash) else { return .failure(.badAddress) }
        var length = family.bitCount
        if slash < end {
            guard let value = parseDecimal(bytes, from: slash + 1, to: end, maxDigits: 3), value <= family.bitCount
            else { return .failure(.badLength) }
            length = value
        }
        let prefix = IPPrefix(unchecked: family, address & mask(family: family, length: length), length)
        if prefix.address != address { return .failure(.hostBitsSet(masked: prefix)) }
        return .success(prefix)
    }

    /// A decimal number of 1...maxDigits digits, nothing else.
    static func parseDecimal(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, maxDigits: Int) -> Int? {
        guard end > start, end - start <= maxDigits else { return nil }
        var value = 0
        for index in start..<end {
            let digit = Int(bytes[index]) &- 48  // &-: a byte minus 48 cannot overflow Int
            guard digit >= 0, digit <= 9 else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    /// An IPv4 or IPv6 address, chosen by the presence of `:`.
    static func parseAddress(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> (Family, UInt128)? {
        var index = start
        while index < end {
            if bytes[index] == UInt8(ascii: ":") {
                guard let value = parseV6(bytes, from: start, to: end) else { return nil }
                return (.v6, value)
            }
            index += 1
        }
        guard let value = parseV4(bytes, from: start, to: end, minOctets: 4) else { return nil }
        return (.v4, UInt128(value.address))
    }

    /// Dotted-quad IPv4 (decimal octets, 1–3 digits each). With `minOctets` < 4 it also
    /// accepts the rbldnsd ip4set abbreviations `1.2.3` and `1.2`, zero-filled; `octets`
    /// tells how many were given.
    static func parseV4(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, minOctets: Int) -> (address: UInt32, octets: Int)? {
        var value: UInt32 = 0, octets = 0, partStart = start, index = start
        while true {
            if index == end || bytes[index] == UInt8(ascii: ".") {
                guard octets < 4, let octet = parseDecimal(bytes, from: partStart, to: index, maxDigits: 3), octet <= 255
                else { return nil }
                value = value << 8 | UInt32(octet)
                octets += 1
                if index == end { break }
                partStart = index + 1
            }
            index += 1
        }
        guard octets >= minOctets else { return nil }
        return (value << (8 * (4 - octets)), octets)
    }

    /// IPv6 text (RFC 4291 §2.2): up to eight hex groups, one `::`, an optional trailing
    /// dotted IPv4 part.
    static func parseV6(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> UInt128? {
        var head: UInt128 = 0, headCount = 0
        var tail: UInt128 = 0, tailCount = 0
        var sawGap = false
        var index = start
        guard end - start >= 2 else { return nil }
        if bytes[index] == UInt8(ascii: ":") {
            guard bytes[index + 1] == UInt8(ascii: ":") else { return nil }
            sawGap = true
            index += 2
            if index == end { return 0 }
        }
        while index < end {
            // One group: hex digits up to ':' or end, or a dotted IPv4 tail.
            var groupEnd = index, isV4 = false
            while groupEnd < end, bytes[groupEnd] != UInt8(ascii: ":") {
                if bytes[groupEnd] == UInt8(ascii: ".") { isV4 = true }
                groupEnd += 1
            }
            if isV4 {
                guard groupEnd == end, let v4 = parseV4(bytes, from: index, to: end, minOctets: 4) else { return nil }
                for half in [v4.address >> 16, v4.address & 0xFFFF] {
                    if sawGap { tail = tail << 16 | UInt128(half); tailCount += 1 } else { head = head << 16 | UInt128(half); headCount += 1 }
                }
                index = end
                break
            }
            guard groupEnd > index, groupEnd - index <= 4 else { return nil }
            var group: UInt128 = 0
            for position in index..<groupEnd {
                guard let nibble = hexValue(bytes[position]) else { return nil }
                group = group << 4 | UInt128(nibble)
            }
            if sawGap { tail = tail << 16 | group; tailCount += 1 } else { head = head << 16 | group; headCount += 1 }
            guard headCount + tailCount <= 8 else { return nil }
            index = groupEnd
            if index == end { break }
            // At a ':': either a separator, or the start of the one '::'.
            index += 1
            guard index < end else { return nil }  // trailing single ':'
            if bytes[index] == UInt8(ascii: ":") {
                guard !sawGap else { return nil }
                sawGap = true
                index += 1
                if index == end { break }
            }
        }
        let total = headCount + tailCount
        if sawGap {
            guard total <= 7 else { return nil }
        } else {
            guard total == 8 else { return nil }
        }
        let headShift = 16 * (8 - headCount)
        return (headCount == 0 ? 0 : head << headShift) | tail
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
