// TrapAddress.swift -- the trap address a message was delivered to, and its redaction.

import Foundation

/// Finds and redacts trap addresses; a trap's local part is its secret (publishing it
/// invites the listed party to filter the trap out).
enum TrapAddress {
    /// Header fields a delivery agent writes with the envelope recipient, most specific first.
    private static let deliveryFields = ["delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "x-rcpt-to"]
        .map { Array($0.utf8) }

    /// Bytes of the header section scanned for them: delivery agents prepend their fields.
    static let scanByteCount = 64 << 10

    /// Envelope recipients recorded in the top of the header, in field order of preference.
    static func fromHeader(_ bytes: [UInt8]) -> [String] {
        var found: [(rank: Int, address: String)] = []
        let end = min(bytes.count, scanByteCount)
        var lineStart = 0
        while lineStart < end {
            var lineEnd = lineStart
            while lineEnd < end, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > lineStart, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            if contentEnd == lineStart { break }  // the empty line ends the header section
            for (rank, name) in deliveryFields.enumerated() where matches(bytes, at: lineStart, end: contentEnd, name: name) {
                let value = bytes[(lineStart + name.count + 1)..<contentEnd]
                let address = addrSpec(value)
                if !address.isEmpty { found.append((rank, address)) }
            }
            lineStart = lineEnd + 1
        }
        return found.sorted { $0.rank < $1.rank }.map(\.address)
    }

    /// `name:` at `offset`, case-insensitively.
    private static func matches(_ bytes: [UInt8], at offset: Int, end: Int, name: [UInt8]) -> Bool {
        guard end - offset > name.count, bytes[offset + name.count] == UInt8(ascii: ":") else { return false }
        for index in 0..<name.count where bytes[offset + index] | 0x20 != name[index] | 0x20 {
            return false
        }
        return true
    }

    /// The address inside `<...>`, else the trimmed value; at most 320 bytes (RFC 5321 §4.5.3.1).
    private static func addrSpec(_ value: ArraySlice<UInt8>) -> String {
        var inner = value
        if let open = value.firstIndex(of: UInt8(ascii: "<")) {
            let close = value[open...].firstIndex(of: UInt8(ascii: ">")) ?? value.endIndex
            inner = value[(open + 1)..<close]
        }
        let trimmed = inner.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
        guard trimmed.count <= 320, trimmed.contains(UInt8(ascii: "@")) else { return "" }
        return String(decoding: trimmed, as: UTF8.self)
    }

    /// `…@domain`: the trap's local part removed; `…` when the address has no domain.
    static func redacted(_ address: String) -> String {
        var text = address
        if text.hasPrefix("<"), text.hasSuffix(">") { text = String(text.dropFirst().dropLast()) }
        guard let at = text.lastIndex(of: "@") else { return "…" }
        return "…" + text[at...].lowercased()
    }

    /// Bytes of a trap key: enough to tell a trap network's addresses apart.
    static let keyByteCount = 16

    /// The key the store tells traps apart by: the first bytes of the HMAC-SHA256 of the
    /// lowercased address under the store's secret (``Store/trapKeySecret()``). Equal for
    /// one trap however its address is written, different for different traps, and no way
    /// back to the address without the secret.
    static func key(_ address: String, secret: [UInt8]) -> [UInt8] {
        var bare = address.lowercased()
        if bare.hasPrefix("<"), bare.hasSuffix(">") { bare = String(bare.dropFirst().dropLast()) }
        return Array(SHA256.hmac(key: secret, message: Array(bare.utf8)).prefix(keyByteCount))
    }

    /// `text` with each address's local part replaced by `[trap]` (case-insensitive), as
    /// the classifier's header excerpt does for the addresses it found itself; also where
    /// the local part stands alone as a word (a subject that quotes it without the domain),
    /// when it is long enough (3 characters and more) not to be an ordinary word's piece.
    static func redact(_ text: String, addresses: [String]) -> String {
        var result = text
        for address in addresses {
            var bare = address
            if bare.hasPrefix("<"), bare.hasSuffix(">") { bare = String(bare.dropFirst().dropLast()) }
            guard let at = bare.lastIndex(of: "@"), at > bare.startIndex else { continue }
            let localPart = String(bare[..<at])
            result = replacing(localPart + "@", in: result, with: "[trap]@", wholeWord: false)
            if localPart.count >= 3 { result = replacing(localPart, in: result, with: "[trap]", wholeWord: true) }
        }
        return result
    }

    /// `text` with every case-insensitive occurrence of `needle` replaced; with `wholeWord`,
    /// only where no letter, digit, dot, dash, underscore or plus adjoins it.
    private static func replacing(_ needle: String, in text: String, with replacement: String, wholeWord: Bool) -> String {
        func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || "._-+".contains(c) }
        var output = ""
        var rest = Substring(text)
        while let range = rest.range(of: needle, options: [.caseInsensitive]) {
            let before = range.lowerBound > text.startIndex ? text[text.index(before: range.lowerBound)] : nil
            let after = range.upperBound < text.endIndex ? text[range.upperBound] : nil
            if wholeWord, before.map(isWordCharacter) == true || after.map(isWordCharacter) == true {
                output += rest[..<range.upperBound]
            } else {
                output += rest[..<range.lowerBound]
                output += replacement
            }
            rest = rest[range.upperBound...]
        }
        return output + rest
    }
}
