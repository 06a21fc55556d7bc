// ReceivedHeader.swift -- the client address of one Received header (RFC 5321 §4.4).

import Store

/// What one `Received` header says about the connection it records.
///
/// RFC 5321 §4.4 gives the shape `from HELO (TCP-info) by HOST ...`; MTAs fill TCP-info in
/// their own ways. The client (connecting) address is taken from the `from` clause only,
/// never from the `by` clause, and never from a HELO/EHLO argument:
///
/// | MTA | `from` clause | client |
/// |---|---|---|
/// | Postfix, Sendmail, Gmail | `helo (rdns [IP])`, `[10.0.0.5] (unknown [IP])` | bracket in parens |
/// | Exim | `rdns ([IP]:port helo=x)`, `[IP] (helo=[10.1.1.1])` | bracket in parens, else the `[IP]` word |
/// | qmail | `rdns (HELO x) (IP)`, `unknown (HELO [x]) (user@IP)` | bare IP in parens |
/// | Exchange, Office 365 | `host (IP) by host (IP)` | first parens (the second is `by`'s) |
/// | Courier | `helo (rdns [::ffff:a.b.c.d])` | mapped to IPv4 |
/// | CommuniGate | `helo ([IP] verified)`, `[IP] (account u HELO [x])` | bracket in parens, else the `[IP]` word |
///
/// Priority: an address inside a parenthesised group (HELO arguments skipped); then a
/// bracketed address standing alone after the HELO word (`rdns (EHLO x) [IP]`); then the
/// first word itself when it is an address literal (`from [IP] (helo=x)`, `from IP by`).
struct ReceivedHeader: Equatable {
    /// The connecting client's address, or `nil` when the header names none.
    var clientAddress: IPPrefix?
    /// The first word of the `from` clause (usually the HELO name), for evidence.
    var fromName: String?
    /// The host that wrote the header (`by`), for evidence.
    var byName: String?

    /// Longest `from` clause examined; real ones are under 300 bytes.
    static let maxFromClauseByteCount = 4096

    init(value: [UInt8]) {
        var index = 0
        let count = value.count
        while index < count, ASCII.isWhitespace(value[index]) { index += 1 }
        // "(from host [IP]) by ..." -- a whole from clause wrapped in a comment.
        var wrapped = false
        if index < count, value[index] == ASCII.openParen,
           ASCII.hasPrefix(value, at: index + 1, end: count, lowercasePrefix: Self.fromKeyword) {
            wrapped = true
            index += 1
        }
        guard ASCII.hasPrefix(value, at: index, end: count, lowercasePrefix: Self.fromKeyword) else {
            byName = Self.word(after: Self.byKeywordSpaced, in: value)
            return
        }
        index += Self.fromKeyword.count
        guard index == count || ASCII.isWhitespace(value[index]) || value[index] == ASCII.openParen
                || value[index] == ASCII.openBracket else { return }
        if Self.isRetrievalOrRescan(value) { return }

        let limit = min(count, index + Self.maxFromClauseByteCount)
        var words: [Word] = []
        Self.tokenize(value, from: index, to: limit, wrapped: wrapped, into: &words)

        var parenCandidate: IPPrefix?
        var bracketCandidate: IPPrefix?
        var firstWordCandidate: IPPrefix?
        var skipGroup = -1      // the group whose next word is a HELO argument
        for (position, word) in words.enumerated() {
            let text = value[word.start..<word.end]
            if position == 0, word.depth == 0 {
                fromName = ASCII.string(text)
                firstWordCandidate = Self.address(in: text)
                continue
            }
            if skipGroup >= 0 {
                let isArgument = word.group == skipGroup && word.depth > 0
                skipGroup = -1
                if isArgument { continue }
            }
            if word.depth == 1 {
                if Self.isHeloKeyword(text) {
                    skipGroup = word.group
                    continue
                }
                if Self.isHeloAssignment(text) { continue }
                if parenCandidate == nil, let candidate = Self.address(in: text) { parenCandidate = candidate }
            } else if word.depth == 0, text.first == ASCII.openBracket, bracketCandidate == nil {
                bracketCandidate = Self.address(in: text)
            }
        }
        clientAddress = parenCandidate ?? bracketCandidate ?? firstWordCandidate
        byName = Self.word(after: Self.byKeywordSpaced, in: value)
    }

    /// One word of the `from` clause and its parenthesis depth (1 = a top-level comment).
    struct Word {
        var start: Int
        var end: Int
        var depth: Int
        /// Which top-level parenthesised group the word is in (0 outside any).
        var group: Int
    }

    /// Splits `value[start..<end]` into words at whitespace and parentheses, up to the first
    /// top-level keyword that ends the `from` clause (`by`, `with`, `via`, `id`, `for`) or `;`.
    private static func tokenize(_ value: [UInt8], from start: Int, to end: Int, wrapped: Bool, into words: inout [Word]) {
        var index = start
        var depth = 0
        var group = 0
        while index < end {
            let byte = value[index]
            if ASCII.isWhitespace(byte) || byte == 0x2C {
                index += 1
                continue
            }
            if byte == ASCII.openParen {
                if depth == 0 { group += 1 }
                depth += 1
                index += 1
                continue
            }
            if byte == ASCII.closeParen {
                if depth == 0 {
                    if wrapped { return }
                } else {
                    depth -= 1
                }
                index += 1
                continue
            }
            if byte == ASCII.semicolon, depth == 0 { return }
            if byte == ASCII.quote {
                // A quoted string ("claiming to be \"x\""): one word, never an address we use.
                var close = index + 1
                while close < end, value[close] != ASCII.quote { close += 1 }
                index = close + 1
                continue
            }
            var wordEnd = index
            var bracketDepth = 0
            while wordEnd < end {
                let current = value[wordEnd]
                if current == ASCII.openBracket { bracketDepth += 1 }
                if current == ASCII.closeBracket { bracketDepth = max(0, bracketDepth - 1) }
                if bracketDepth == 0 && (ASCII.isWhitespace(current) || current == ASCII.openParen
                    || current == ASCII.closeParen || current == ASCII.semicolon || current == 0x2C) { break }
                if bracketDepth > 0 && (current == ASCII.openParen || current == ASCII.closeParen) { break }
                wordEnd += 1
            }
            if wordEnd == index { wordEnd += 1 }
            // Every top-level clause keyword ends the from clause ("from by host" names nothing).
            if depth == 0, isClauseKeyword(value[index..<wordEnd]) { return }
            words.append(Word(start: index, end: wordEnd, depth: min(depth, 2), group: depth == 0 ? 0 : group))
            index = wordEnd
        }
    }

    private static func isClauseKeyword(_ word: ArraySlice<UInt8>) -> Bool {
        for keyword in clauseKeywords where ASCII.equalsIgnoringCase(word, keyword) { return true }
        return false
    }

    private static func isHeloKeyword(_ word: ArraySlice<UInt8>) -> Bool {
        for keyword in heloKeywords where ASCII.equalsIgnoringCase(word, keyword) { return true }
        return false
    }

    private static func isHeloAssignment(_ word: ArraySlice<UInt8>) -> Bool {
        for keyword in heloKeywords where word.count > keyword.count
            && ASCII.equalsIgnoringCase(word.prefix(keyword.count), keyword) && word[word.startIndex + keyword.count] == ASCII.equals {
            return true
        }
        return false
    }

    /// The address in one word: `[IP]`, `[IPv6:x]`, `[IP]:port`, `[IP:port]`, `[a.b.c.d.port]`,
    /// `IP`, `IP:port`, `user@IP`; trailing punctuation ignored.
    static func address(in word: ArraySlice<UInt8>) -> IPPrefix? {
        var text = word
        if let at = text.lastIndex(of: ASCII.at) { text = text[(at + 1)...] }
        while let last = text.last, last == ASCII.dot || last == 0x2C || last == ASCII.semicolon || last == ASCII.closeParen
            || last == ASCII.greaterThan || last == ASCII.questionMark {
            text = text.dropLast()
        }
        while let first = text.first, first == ASCII.lessThan || first == ASCII.questionMark { text = text.dropFirst() }
        var bracketed = false
        if text.first == ASCII.openBracket {
            guard let close = text.firstIndex(of: ASCII.closeBracket) else { return nil }
            text = text[(text.startIndex + 1)..<close]
            bracketed = true
        }
        guard !text.isEmpty, text.count <= 64, ASCII.isHexDigit(text[text.startIndex]) || text.first == ASCII.colon
                || ASCII.hasPrefix(Array(text), at: 0, end: text.count, lowercasePrefix: ipv6Tag) else { return nil }
        if let address = IPPrefix.mailAddress(text) { return address }
        // IPv4 with a port: "a.b.c.d:port", or "a.b.c.d.port" as some MTAs write it in brackets.
        if let colon = text.lastIndex(of: ASCII.colon), let address = IPPrefix(address: text[..<colon]), address.family == .v4 {
            return address
        }
        if bracketed, let lastDot = text.lastIndex(of: ASCII.dot),
           text[(lastDot + 1)...].allSatisfy(ASCII.isDigit), !text[(lastDot + 1)...].isEmpty,
           let address = IPPrefix(address: text[..<lastDot]), address.family == .v4 {
            return address
        }
        return nil
    }

    /// Fetchmail retrievals (`with IMAP`/`POP3`, `(fetchmail-x)`) and qmail-scanner rescans
    /// record no SMTP connection from a client: they name no source.
    private static func isRetrievalOrRescan(_ value: [UInt8]) -> Bool {
        var lower = Array(value.prefix(2048))
        ASCII.lowercaseInPlace(&lower)
        for marker in retrievalMarkers where ASCII.firstRange(of: marker, in: lower, from: 0, to: lower.count) != nil {
            return true
        }
        return false
    }

    /// The word following `keyword` (lowercase, with surrounding spaces) in `value`.
    private static func word(after keyword: [UInt8], in value: [UInt8]) -> String? {
        var lower = Array(value.prefix(2048))
        ASCII.lowercaseInPlace(&lower)
        var start: Int
        if ASCII.hasPrefix(lower, at: 0, end: lower.count, lowercasePrefix: Array(keyword.dropFirst())) {
            start = keyword.count - 1
        } else if let hit = ASCII.firstRange(of: keyword, in: lower, from: 0, to: lower.count) {
            start = hit + keyword.count
        } else {
            return nil
        }
        while start < value.count, ASCII.isWhitespace(value[start]) { start += 1 }
        var end = start
        while end < min(value.count, lower.count), !ASCII.isWhitespace(value[end]), value[end] != ASCII.semicolon,
              value[end] != ASCII.openParen { end += 1 }
        return end > start ? ASCII.string(value[start..<end]) : nil
    }

    private static let fromKeyword: [UInt8] = Array("from".utf8)
    private static let byKeywordSpaced: [UInt8] = Array(" by ".utf8)
    private static let ipv6Tag: [UInt8] = Array("ipv6:".utf8)
    private static let clauseKeywords: [[UInt8]] = ["by", "with", "via", "id", "for"].map { Array($0.utf8) }
    private static let heloKeywords: [[UInt8]] = ["helo", "ehlo", "lhlo"].map { Array($0.utf8) }
    private static let retrievalMarkers: [[UInt8]] = [" with imap", " with pop3", "(fetchmail", "qmail-scanner"]
        .map { Array($0.utf8) }
}
