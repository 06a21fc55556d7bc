// AddressText.swift -- an address in presentation form, written without allocating.

/// Text of an IPv4 address (dotted quad) or IPv6 address (RFC 5952 canonical form) in a
/// fixed buffer: the longest form, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", is 45 bytes.
struct AddressText {
    private(set) var bytes = InlineArray<48, UInt8>(repeating: 0)
    private(set) var count = 0

    private mutating func append(_ byte: UInt8) {
        bytes[count] = byte
        count &+= 1  // < 48: at most 45 bytes are ever written
    }

    private mutating func appendDecimal(_ value: UInt8) {
        if value >= 100 { append(0x30 &+ value / 100) }
        if value >= 10 { append(0x30 &+ (value / 10) % 10) }
        append(0x30 &+ value % 10)
    }

    private mutating func appendHex(_ value: UInt16) {
        let digits: StaticString = "0123456789abcdef"
        var started = false
        for shift in stride(from: 12, through: 0, by: -4) {
            let nibble = Int((value >> UInt16(shift)) & 0xF)
            if nibble != 0 || started || shift == 0 {
                append(digits.utf8Start[nibble])
                started = true
            }
        }
    }

    mutating func format(v4 address: UInt32) {
        count = 0
        appendV4(address)
    }

    private mutating func appendV4(_ address: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) {
            if shift != 24 { append(0x2E) }  // "."
            appendDecimal(UInt8(truncatingIfNeeded: address >> UInt32(shift)))
        }
    }

    /// RFC 5952 §4: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as
    /// "::" (the first on a tie); §5: IPv4-mapped addresses end in dotted-quad form.
    mutating func format(v6 address: UInt128) {
        count = 0
        if address >> 32 == 0xFFFF {
            for byte in "::ffff:".utf8 { append(byte) }
            appendV4(UInt32(truncatingIfNeeded: address))
            return
        }
        var groups = InlineArray<8, UInt16>(repeating: 0)
        for index in 0..<8 { groups[index] = UInt16(truncatingIfNeeded: address >> UInt128(112 &- 16 &* index)) }
        var bestStart = -1, bestLength = 0, runStart = -1
        for index in 0...8 {
            if index < 8 && groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                let length = index &- runStart
                if length > bestLength && length >= 2 { (bestStart, bestLength) = (runStart, length) }
                runStart = -1
            }
        }
        var index = 0
        while index < 8 {
            if index == bestStart {
                append(0x3A); append(0x3A)  // "::"
                index &+= bestLength
                continue
            }
            if index > 0 && index != bestStart &+ bestLength { append(0x3A) }
            appendHex(groups[index])
            index &+= 1
        }
    }
}
