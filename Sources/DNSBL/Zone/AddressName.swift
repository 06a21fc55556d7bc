// AddressName.swift -- the address a DNSBL query name stands for (RFC 5782 §2.1, §2.4).

/// What the labels in front of the zone name mean.
enum AddressName: Equatable {
    /// `d.c.b.a` for IPv4 a.b.c.d.
    case v4(UInt32)
    /// 32 nibbles, least significant first, for IPv6 (RFC 5782 §2.4).
    case v6(UInt128)
    /// Fewer labels than an address but each could start one (`0.0.127`, `f.f`): the name
    /// exists as an empty non-terminal (RFC 8020).
    case emptyNonTerminal
    case notAnAddress

    /// Parses the first `count` labels of the question name.
    ///
    /// - Parameters:
    ///   - labelStarts: label offsets relative to the name's start at byte 12, as checked by
    ///     `Query.classify`.
    static func parse(_ packet: UnsafeRawBufferPointer, labelStarts: InlineArray<128, UInt8>, count: Int) -> AddressName {
        if count == 32, let address = nibbles(packet) { return .v6(address) }
        var allOctets = count <= 4
        var allNibbles = count <= 32
        var v4: UInt32 = 0
        var v6: UInt128 = 0
        var index = 0
        while index < count && (allOctets || allNibbles) {
            let start = WireLimits.headerSize &+ Int(labelStarts[index])  // < 12 + 255
            let length = Int(packet[start])
            if allNibbles {
                if length == 1, let nibble = hexValue(packet[start &+ 1]) {
                    v6 |= UInt128(nibble) << (4 &* index)  // index < 32, shift < 128
                } else {
                    allNibbles = false
                }
            }
            if allOctets {
                if let octet = decimalOctet(packet, start: start &+ 1, length: length) {
                    v4 |= UInt32(octet) << (8 &* index)  // index < 4, shift < 32
                } else {
                    allOctets = false
                }
            }
            index &+= 1
        }
        if allOctets && count == 4 { return .v4(v4) }
        if allNibbles && count == 32 { return .v6(v6) }
        if allOctets || allNibbles { return .emptyNonTerminal }
        return .notAnAddress
    }

    /// The IPv6 address of a name that starts with 32 one-digit labels, or nil. The labels
    /// lie at fixed offsets (a length byte 1 and a digit each, from byte 12), so this reads
    /// them without the label offsets and gathers the nibbles in two 64-bit halves: the
    /// common IPv6 query, at about half the cost of the general loop, which decides every
    /// other name (it gives the same answer for this one).
    @inline(__always)
    static func nibbles(_ packet: UnsafeRawBufferPointer) -> UInt128? {
        var halves: (low: UInt64, high: UInt64) = (0, 0)
        for index in 0..<32 {
            let offset = WireLimits.headerSize &+ 2 &* index   // inside the name while every label before had length 1
            guard packet[offset] == 1, let nibble = hexValue(packet[offset &+ 1]) else { return nil }
            let shift = UInt64(4 &* (index & 15))
            if index < 16 { halves.low |= UInt64(nibble) << shift } else { halves.high |= UInt64(nibble) << shift }
        }
        return UInt128(halves.high) << 64 | UInt128(halves.low)
    }

    /// "0"..."255" without leading zeros (rbldnsd accepts them; RFC 5782 §2.1 writes none).
    @inline(__always)
    static func decimalOctet(_ packet: UnsafeRawBufferPointer, start: Int, length: Int) -> UInt8? {
        guard length >= 1 && length <= 3 else { return nil }
        var value = 0
        for offset in start..<(start &+ length) {
            let digit = Int(packet[offset]) &- 0x30
            guard digit >= 0 && digit <= 9 else { return nil }
            value = value &* 10 &+ digit  // ≤ 999
        }
        guard value <= 255, length == 1 || packet[start] != 0x30 else { return nil }
        return UInt8(value)
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte &- 0x30
        case 0x61...0x66: return byte &- 0x57   // a-f
        case 0x41...0x46: return byte &- 0x37   // A-F (0x20 case randomisation)
        default: return nil
        }
    }
}
