// ListFileParser.swift -- reads plain IP lists and rbldnsd ip4set/ip6trie data files.

/// Parses list files for `rbld import`.
///
/// - `plain`: one IP or CIDR a line, `!` before it for an exclusion; `#` and `;` start
///   comments (whole-line or after the address); blank lines are ignored.
/// - `rbldnsd`: the ip4set/ip6trie data format (rbldnsd(8)): `$SOA ttl mname rname serial
///   refresh retry expire minimum`, `$NS ttl ns...`, `$TTL ttl`, a line `:A:TXT` that sets
///   the default answer, and entries `1.2.3.4`, `1.2.3.0/24`, `1.2.3` (= /24), `1.2`
///   (= /16), `1.2.3.4-1.2.3.10` (split into the fewest CIDRs), `2001:db8::/32`,
///   `!1.2.3.4`, each optionally followed by a value `:127.0.0.3:text`, `:3:`, or `text`.
///   A value that starts with `#` or `;` is a comment.
///
/// A CIDR with host bits set (`1.2.3.4/24`) is an error, as in rbldnsd without `-e`
/// (a typo there would list another network); every line that does not parse is an
/// error naming `file:line`. Unknown `$` directives are warnings.
public struct ListFileParser {
    /// The list file format.
    public enum Format: String, Sendable, CaseIterable, Codable {
        case plain, rbldnsd
    }

    /// Parses a whole file. Never throws: bad lines are returned in `errors`.
    public static func parse(_ bytes: some Collection<UInt8>, format: Format, fileName: String) -> ListFileResult {
        if let result = bytes.withContiguousStorageIfAvailable({ parse(buffer: $0, format: format, fileName: fileName) }) {
            return result
        }
        return Array(bytes).withUnsafeBufferPointer { parse(buffer: $0, format: format, fileName: fileName) }
    }

    static func parse(buffer: UnsafeBufferPointer<UInt8>, format: Format, fileName: String) -> ListFileResult {
        var state = LineParser(bytes: buffer, format: format, fileName: fileName)
        state.result.entries.reserveCapacity(buffer.count / 14)
        var lineStart = 0, lineNumber = 0
        while lineStart < buffer.count {
            var lineEnd = lineStart
            while lineEnd < buffer.count, buffer[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            lineNumber += 1
            state.parseLine(from: lineStart, to: lineEnd, number: lineNumber)
            lineStart = lineEnd + 1
        }
        state.result.lineCount = lineNumber
        return state.result
    }

    /// The fewest CIDR prefixes covering `first...last` (IPv4, inclusive).
    public static func cidrs(first: UInt32, last: UInt32) -> [IPPrefix] {
        var prefixes: [IPPrefix] = []
        var start = UInt64(first)
        let end = UInt64(last)
        while start <= end {
            var sizeBits = start == 0 ? 32 : min(32, start.trailingZeroBitCount)
            while sizeBits > 0, start + (UInt64(1) << sizeBits) - 1 > end { sizeBits -= 1 }
            prefixes.append(IPPrefix(unchecked: .v4, UInt128(start), 32 - sizeBits))
            start += UInt64(1) << sizeBits
        }
        return prefixes
    }

    /// Parses a TTL or duration: `3600`, `1h`, `2d`, `1w`, `1h30m` (rbldnsd time units).
    public static func parseDuration(_ text: Substring) -> UInt32? {
        var total: UInt64 = 0, current: UInt64 = 0, sawDigit = false
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                current = current * 10 + UInt64(digit)
                sawDigit = true
                guard current <= UInt64(UInt32.max) else { return nil }
                continue
            }
            guard sawDigit else { return nil }
            let unit: UInt64
            switch character {
            case "s", "S": unit = 1
            case "m", "M": unit = 60
            case "h", "H": unit = 3600
            case "d", "D": unit = 86400
            case "w", "W": unit = 604_800
            default: return nil
            }
            total += current * unit
            current = 0
            sawDigit = false
            guard total <= UInt64(UInt32.max) else { return nil }
        }
        total += current
        guard !text.isEmpty, total <= UInt64(UInt32.max) else { return nil }
        return UInt32(total)
    }
}

/// Line-by-line state of one parse.
private struct LineParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let format: ListFileParser.Format
    let fileName: String
    var result = ListFileResult()

    init(bytes: UnsafeBufferPointer<UInt8>, format: ListFileParser.Format, fileName: String) {
        self.bytes = bytes
        self.format = format
        self.fileName = fileName
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    func text(_ start: Int, _ end: Int, limit: Int = 80) -> String {
        let clipped = end - start > limit ? start + limit : end
        let string = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<clipped]), as: UTF8.self)
        return clipped < end ? string + "…" : string
    }

    mutating func error(_ line: Int, _ reason: String) {
        result.errors.append(ListFileError(file: fileName, line: line, reason: reason))
    }

    mutating func warning(_ line: Int, _ reason: String) {
        result.warnings.append(ListFileError(file: fileName, line: line, reason: reason))
    }

    mutating func parseLine(from lineStart: Int, to lineEnd: Int, number: Int) {
        var start = lineStart, end = lineEnd
        while start < end, LineParser.isSpace(bytes[start]) { start += 1 }
        while end > start, LineParser.isSpace(bytes[end - 1]) { end -= 1 }
        guard start < end else { return }
        let first = bytes[start]
        if first == UInt8(ascii: "#") || first == UInt8(ascii: ";") { return }
        if format == .rbldnsd {
            if first == UInt8(ascii: "$") { return parseDirective(from: start, to: end, line: number) }
            // `:A:TXT` sets the default answer; `::1` is an IPv6 entry (rbldnsd tells them
            // apart the same way: only a line starting with one ':' is a default value).
            if first == UInt8(ascii: ":"), !startsWithIPv6Address(from: start, to: end) {
                guard let (code, text) = parseValue(from: start, to: end, line: number) else { return }
                if let code { result.settings.defaultCode = code }
                if let text { result.settings.txtTemplate = text }
                return
            }
        }
        var excluded = false
        if first == UInt8(ascii: "!") {
            excluded = true
            start += 1
            while start < end, LineParser.isSpace(bytes[start]) { start += 1 }
        }
        var tokenEnd = start
        while tokenEnd < end, !LineParser.isSpace(bytes[tokenEnd]) { tokenEnd += 1 }
        guard tokenEnd > start else { return error(number, "'!' without an address") }
        var valueStart = tokenEnd
        while valueStart < end, LineParser.isSpace(bytes[valueStart]) { valueStart += 1 }
        var code: UInt8?, text: String?
        let hasValue = valueStart < end && bytes[valueStart] != UInt8(ascii: "#") && bytes[valueStart] != UInt8(ascii: ";")
        if hasValue, format == .rbldnsd, !excluded {
            guard let value = parseValue(from: valueStart, to: end, line: number) else { return }
            (code, text) = value
        }
        let entryCount = result.entries.count, errorCount = result.errors.count
        appendEntries(from: start, to: tokenEnd, excluded: excluded, code: code, text: text, line: number)
        guard hasValue, result.errors.count == errorCount, format == .plain || excluded else { return }
        // The address was fine, but nothing may follow it here.
        result.entries.removeSubrange(entryCount...)
        error(number, format == .plain
              ? "unexpected text after the address: '\(self.text(valueStart, end))'"
              : "an exclusion takes no value: '\(self.text(valueStart, end))'")
    }

    /// True when the line's first word is an IPv6 address or prefix (`::1`, `::/0`).
    func startsWithIPv6Address(from start: Int, to end: Int) -> Bool {
        guard end - start >= 2, bytes[start + 1] == UInt8(ascii: ":") else { return false }
        var tokenEnd = start
        while tokenEnd < end, !LineParser.isSpace(bytes[tokenEnd]) { tokenEnd += 1 }
        switch IPPrefix.parse(bytes: bytes, from: start, to: tokenEnd) {
        case .success, .failure(.hostBitsSet), .failure(.badLength): return true
        case .failure(.badAddress): return false
        }
    }

    /// An address, CIDR, abbreviated ip4set network, or IPv4 range.
    mutating func appendEntries(from start: Int, to end: Int, excluded: Bool, code: UInt8?, text: String?, line: Int) {
        var hasColon = false, dash = -1, slash = -1
        for index in start..<end {
            switch bytes[index] {
            case UInt8(ascii: ":"): hasColon = true
            case UInt8(ascii: "-"): dash = index
            case UInt8(ascii: "/"): slash = index
            default: break
            }
        }
        let token = self.text(start, end)
        if dash >= 0 {
            guard format == .rbldnsd, !hasColon, slash < 0,
                  let low = IPPrefix.parseV4(bytes, from: start, to: dash, minOctets: 4)?.address
            else { return error(line, "bad range '\(token)'") }
            var high: UInt32
            if let full = IPPrefix.parseV4(bytes, from: dash + 1, to: end, minOctets: 4) {
                high = full.address
            } else if let last = IPPrefix.parseDecimal(bytes, from: dash + 1, to: end, maxDigits: 3), last <= 255 {
                high = low & 0xFFFF_FF00 | UInt32(last)  // rbldnsd's `1.2.3.4-10`
            } else {
                return error(line, "bad range '\(token)'")
            }
            guard high >= low else { return error(line, "bad range '\(token)': end before start") }
            for prefix in ListFileParser.cidrs(first: low, last: high) {
                result.entries.append(ImportEntry(prefix: prefix, excluded: excluded, code: code, text: text, line: line))
            }
            return
        }
        if !hasColon, format == .rbldnsd {
            // ip4set: `1.2.3` means 1.2.3.0/24, `1.2` 1.2.0.0/16, `1.2.3/24` is 1.2.3.0/24.
            let addressEnd = slash >= 0 ? slash : end
            guard let (address, octets) = IPPrefix.parseV4(bytes, from: start, to: addressEnd, minOctets: 1)
            else { return error(line, "bad address '\(token)'") }
            var length = 8 * octets
            if slash >= 0 {
                guard let value = IPPrefix.parseDecimal(bytes, from: slash + 1, to: end, maxDigits: 3), value <= 32
                else { return error(line, "bad CIDR '\(token)'") }
                length = value
            }
            let masked = IPPrefix(unchecked: .v4, UInt128(address) & IPPrefix.mask(family: .v4, length: length), length)
            if masked.address != UInt128(address) {
                return error(line, "host bits set in '\(token)' (the network is \(masked))")
            }
            result.entries.append(ImportEntry(prefix: masked, excluded: excluded, code: code, text: text, line: line))
            return
        }
        switch IPPrefix.parse(bytes: bytes, from: start, to: end) {
        case .success(let prefix):
            result.entries.append(ImportEntry(prefix: prefix, excluded: excluded, code: code, text: text, line: line))
        case .failure(.hostBitsSet(let masked)):
            error(line, "host bits set in '\(token)' (the network is \(masked))")
        case .failure(.badLength):
            error(line, "bad CIDR '\(token)'")
        case .failure(.badAddress):
            error(line, slash >= 0 ? "bad CIDR '\(token)'" : "bad address '\(token)'")
        }
    }

    /// `:A:TXT`, `:A`, or `TXT`. A is `127.0.0.X` or `X`, X in 2...255; either part may be empty.
    mutating func parseValue(from start: Int, to end: Int, line: Int) -> (UInt8?, String?)? {
        guard bytes[start] == UInt8(ascii: ":") else { return (nil, text(start, end, limit: .max)) }
        var aEnd = start + 1
        while aEnd < end, bytes[aEnd] != UInt8(ascii: ":") { aEnd += 1 }
        var code: UInt8?
        if aEnd > start + 1 {
            let value: Int?
            if let v4 = IPPrefix.parseV4(bytes, from: start + 1, to: aEnd, minOctets: 4) {
                value = v4.address >> 8 == 0x7F_0000 ? Int(v4.address & 0xFF) : nil
            } else {
                value = IPPrefix.parseDecimal(bytes, from: start + 1, to: aEnd, maxDigits: 3)
            }
            guard let value, value >= 2, value <= 255 else {
                error(line, "bad answer '\(text(start + 1, aEnd))': expected 127.0.0.X or X with X in 2...255")
                return nil
            }
            code = UInt8(value)
        }
        var txt: String?
        if aEnd + 1 < end {
            txt = text(aEnd + 1, end, limit: .max)
        }
        return (code, txt)
    }

    mutating func parseDirective(from start: Int, to end: Int, line: Int) {
        let words = text(start, end, limit: .max).split(whereSeparator: { $0 == " " || $0 == "\t" })
        let name = words[0].uppercased()
        func ttl(_ word: Substring) -> UInt32? {
            guard let value = ListFileParser.parseDuration(word) else {
                error(line, "bad time '\(word)' in \(name)")
                return nil
            }
            return value
        }
        switch name {
        case "$SOA":
            guard words.count == 9 else { return error(line, "$SOA needs: ttl mname rname serial refresh retry expire minimum") }
            guard let soaTTL = ttl(words[1]), let refresh = ttl(words[5]), let retry = ttl(words[6]),
                  let expire = ttl(words[7]), let minimum = ttl(words[8])
            else { return }
            guard let serial = UInt32(words[4]) else { return error(line, "bad serial '\(words[4])' in $SOA") }
            result.settings.soaTTL = soaTTL
            result.settings.mname = String(words[2])
            result.settings.rname = String(words[3])
            result.settings.serial = serial == 0 ? nil : serial
            result.settings.refresh = refresh
            result.settings.retry = retry
            result.settings.expire = expire
            result.settings.minimum = minimum
        case "$NS":
            guard words.count >= 3 else { return error(line, "$NS needs: ttl ns [ns...]") }
            guard let nsTTL = ttl(words[1]) else { return }
            result.settings.nsTTL = nsTTL
            result.settings.nameservers = (result.settings.nameservers ?? []) + words.dropFirst(2).map(String.init)
        case "$TTL":
            guard words.count == 2 else { return error(line, "$TTL needs: ttl") }
            guard let value = ttl(words[1]) else { return }
            result.settings.ttl = value
        default:
            warning(line, "directive \(words[0]) ignored")
        }
    }
}
