// SourceAddress.swift -- an IPv4 or IPv6 address as found in a Received header.

/// An IP address parsed from mail headers: 4 or 16 bytes, printed canonically.
///
/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`, as Courier writes IPv4 clients) is stored as IPv4,
/// so trust checks and the reported source agree whichever form a hop used.
/// Kept internal to `Extraction`: the store has its own `IPPrefix`.
struct SourceAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order.
    let bytes: [UInt8]

    var isIPv4: Bool { bytes.count == 4 }

    init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            self.bytes = Array(bytes[12..<16])
        } else {
            self.bytes = bytes
        }
    }

    /// Parses a textual address: dotted-quad IPv4, or IPv6 (RFC 4291 §2.2) with an optional
    /// `IPv6:` prefix (RFC 5321 §4.1.3) and zone index (`%eth0`, dropped).
    init?(_ text: some Collection<UInt8>) {
        let raw = Array(text)
        guard !raw.isEmpty, raw.count <= 64 else { return nil }
        var body = raw[...]
        if body.count > 5, ASCII.equalsIgnoringCase(body.prefix(5), Self.ipv6Tag) { body = body.dropFirst(5) }
        if let percent = body.firstIndex(of: 0x25) { body = body[..<percent] }
        if body.contains(ASCII.colon) {
            guard let parsed = Self.parseIPv6(body) else { return nil }
            self.init(bytes: parsed)
        } else {
            guard let parsed = Self.parseIPv4(body) else { return nil }
            self.init(bytes: parsed)
        }
    }

    init?(_ text: String) { self.init(Array(text.utf8)) }

    private static let ipv6Tag: [UInt8] = Array("ipv6:".utf8)

    /// Dotted-quad IPv4: exactly four decimal octets 0...255 (leading zeros read as decimal).
    static func parseIPv4(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var octets = [UInt8]()
        octets.reserveCapacity(4)
        var value = 0
        var digits = 0
        for byte in text {
            if ASCII.isDigit(byte) {
                value = value * 10 + Int(byte &- 0x30)
                digits += 1
                if digits > 3 || value > 255 { return nil }
            } else if byte == ASCII.dot {
                guard digits > 0, octets.count < 3 else { return nil }
                octets.append(UInt8(value))
                value = 0
                digits = 0
            } else {
                return nil
            }
        }
        guard digits > 0, octets.count == 3 else { return nil }
        octets.append(UInt8(value))
        return octets
    }

    /// IPv6 text form (RFC 4291 §2.2), including `::` and a trailing dotted-quad.
    static func parseIPv6(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        var index = text.startIndex
        let end = text.endIndex
        if index < end, text[index] == ASCII.colon {
            guard index + 1 < end, text[index + 1] == ASCII.colon else { return nil }
            sawDoubleColon = true
            index += 2
        }
        while index < end {
            // One group: up to 4 hex digits, or a dotted-quad as the last 32 bits.
            let groupStart = index
            var value = 0
            var digits = 0
            while index < end, let hex = ASCII.hexValue(text[index]) {
                value = value << 4 | Int(hex)
                digits += 1
                index += 1
                if digits > 4 { return nil }
            }
            if index < end, text[index] == ASCII.dot {
                guard let v4 = parseIPv4(text[groupStart..<end]) else { return nil }
                let high = UInt16(v4[0]) << 8 | UInt16(v4[1])
                let low = UInt16(v4[2]) << 8 | UInt16(v4[3])
                if sawDoubleColon { tail += [high, low] } else { head += [high, low] }
                index = end
                break
            }
            guard digits > 0 else { return nil }
            if sawDoubleColon { tail.append(UInt16(value)) } else { head.append(UInt16(value)) }
            guard index < end else { break }
            guard text[index] == ASCII.colon else { return nil }
            index += 1
            if index < end, text[index] == ASCII.colon {
                guard !sawDoubleColon else { return nil }
                sawDoubleColon = true
                index += 1
            } else if index == end {
                return nil   // a single trailing colon
            }
            if head.count + tail.count > 8 { return nil }
        }
        let groupCount = head.count + tail.count
        if sawDoubleColon {
            guard groupCount <= 7 else { return nil }
        } else {
            guard groupCount == 8 else { return nil }
        }
        let groups = head + [UInt16](repeating: 0, count: 8 - groupCount) + tail
        var bytes = [UInt8]()
        bytes.reserveCapacity(16)
        for group in groups {
            bytes.append(UInt8(group >> 8))
            bytes.append(UInt8(group & 0xFF))
        }
        return bytes
    }

    /// Dotted-quad for IPv4; RFC 5952 canonical text for IPv6 (lowercase, the longest run
    /// of two or more zero groups shortened to `::`, the first such run on a tie).
    var description: String {
        if isIPv4 { return "\(bytes[0]).\(bytes[1]).\(bytes[2]).\(bytes[3])" }
        var groups = [UInt16]()
        for index in stride(from: 0, to: 16, by: 2) { groups.append(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])) }
        var bestStart = -1
        var bestLength = 0
        var runStart = -1
        for index in 0...8 {
            if index < 8, groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                if index - runStart > bestLength { bestStart = runStart; bestLength = index - runStart }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var text = ""
        var index = 0
        while index < 8 {
            if index == bestStart {
                text += "::"
                index += bestLength
                continue
            }
            if !text.isEmpty, !text.hasSuffix(":") { text += ":" }
            text += String(groups[index], radix: 16)
            index += 1
        }
        return text
    }

    /// Whether the address can never be a public mail source (RFC 6890 special-purpose
    /// ranges that are not globally reachable: this-network, private, shared CGN, loopback,
    /// link-local, multicast, reserved; ULA and link-local IPv6). Documentation ranges
    /// (RFC 5737, RFC 3849) are not included: test data uses them as stand-ins for public hosts.
    var isNonPublic: Bool {
        if isIPv4 {
            let first = bytes[0], second = bytes[1]
            return first == 0 || first == 10 || first == 127 || first >= 224
                || (first == 100 && second & 0xC0 == 64)          // 100.64.0.0/10
                || (first == 169 && second == 254)                // 169.254.0.0/16
                || (first == 172 && second & 0xF0 == 16)          // 172.16.0.0/12
                || (first == 192 && second == 168)                // 192.168.0.0/16
                || (first == 192 && second == 0 && bytes[2] == 0) // 192.0.0.0/24
                || (first == 198 && second & 0xFE == 18)          // 198.18.0.0/15
        }
        let first = bytes[0]
        if bytes.allSatisfy({ $0 == 0 }) { return true }                                   // ::
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }          // ::1
        return first & 0xFE == 0xFC                                                         // fc00::/7
            || (first == 0xFE && bytes[1] & 0xC0 == 0x80)                                   // fe80::/10
            || first == 0xFF                                                                // ff00::/8
    }
}
