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
    /// them without the label offsets, eight bytes (four labels) at a time, and checks and
    /// converts the four digits of a word together, without a branch per digit: hex digits
    /// in random order defeat any branch predictor. The common IPv6 query, at a fraction of
    /// the cost of the general loop, which decides every other name (it gives the same
    /// answer for this one).
    @inline(__always)
    static func nibbles(_ packet: UnsafeRawBufferPointer) -> UInt128? {
        guard packet.count >= WireLimits.headerSize + 64 else { return nil }
        var halves: (low: UInt64, high: UInt64) = (0, 0)
        var valid = true
        for word in 0..<8 {
            let bytes = UInt64(littleEndian: packet.loadUnaligned(fromByteOffset: WireLimits.headerSize + 8 * word, as: UInt64.self))
            let digits = Self.hexDigits(inLanesOf: bytes)
            valid = valid && digits != nil
            let shift = UInt64(16 * (word & 3))
            if word < 4 { halves.low |= (digits ?? 0) << shift } else { halves.high |= (digits ?? 0) << shift }
        }
        return valid ? UInt128(halves.high) << 64 | UInt128(halves.low) : nil
    }

    /// The four hex digits of four one-character labels (length byte 1, then the digit, in
    /// each 16-bit lane of `bytes`, first label lowest), as four nibbles, first lowest; nil
    /// when a length is not 1 or a character is not a digit.
    @inline(__always)
    static func hexDigits(inLanesOf bytes: UInt64) -> UInt64? {
        let lane: UInt64 = 0x0001_0001_0001_0001
        let chars = (bytes >> 8) & (lane &* 0xFF)
        // Each lane's bit 8 says whether its character reaches a bound: adding 0x100 - bound
        // carries into it, and never into the next lane (the sum stays below 0x200).
        func atLeast(_ value: UInt64, _ bound: UInt64) -> UInt64 { (value &+ lane &* (0x100 &- bound)) & (lane << 8) }
        let folded = chars | lane &* 0x20    // A-F to a-f
        let digit = atLeast(chars, 0x30) & ~atLeast(chars, 0x3A)
        let letter = atLeast(folded, 0x61) & ~atLeast(folded, 0x67)
        guard bytes & (lane &* 0xFF) == lane, digit | letter == lane << 8 else { return nil }
        // '0'...'9' end in their value, 'a'...'f' in 1...6: nine short.
        let values = (chars & (lane &* 0x0F)) &+ (letter >> 8) &* 9
        // Lane i's nibble to bits 4i..4i+3.
        let pairs = (values | values >> 12) & 0x0000_00FF_0000_00FF
        return (pairs | pairs >> 24) & 0xFFFF
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
