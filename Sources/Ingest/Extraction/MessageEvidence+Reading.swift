// MessageEvidence+Reading.swift -- how single facts are read from header fields and text.

extension MessageEvidence {
    /// The addr-spec of an address header value: inside `<...>` when present, else the first
    /// word with an `@`, else the trimmed value (RFC 5322 §3.4).
    static func addrSpec(in value: [UInt8]) -> String {
        if let open = value.lastIndex(of: ASCII.lessThan) {
            let close = value[open...].firstIndex(of: ASCII.greaterThan) ?? value.count
            var inner = Array(value[(open + 1)..<close])
            // "<<>>" and "<>" are both null.
            inner.removeAll { $0 == ASCII.lessThan || $0 == ASCII.greaterThan || ASCII.isWhitespace($0) }
            return ASCII.string(inner[...])
        }
        var words = value.split(whereSeparator: { ASCII.isWhitespace($0) || $0 == ASCII.openParen || $0 == ASCII.closeParen })
        words = words.filter { $0.contains(ASCII.at) }
        if let word = words.first { return ASCII.string(word) }
        let (start, end) = ASCII.trimmed(value, 0, value.count)
        let trimmed = value[start..<end]
        if trimmed.contains(ASCII.openParen) {
            // "MAILER-DAEMON (Mail Delivery System)": the word before the comment.
            return ASCII.string(trimmed.prefix { !ASCII.isWhitespace($0) && $0 != ASCII.openParen })
        }
        return ASCII.string(trimmed)
    }

    /// Whether a From address or display name is the mail system's (RFC 5321 §4.5.1
    /// `postmaster`, the traditional `MAILER-DAEMON`, Exchange's `MicrosoftExchange…`).
    ///
    /// Local parts are compared without their separators, so `post_master`, `Mailer.Daemon`
    /// and `mail-delivery-system` are the same names; a display name counts when it contains
    /// one of the mail system's names or the word `NDR` (non-delivery report).
    static func isMailSystem(address: String, header: String) -> Bool {
        if address.isEmpty { return true }
        let local = address.split(separator: "@", maxSplits: 1).first.map(String.init) ?? address
        let bare = String(local.filter { $0 != "-" && $0 != "_" && $0 != "." })
        if mailSystemLocalParts.contains(bare) { return true }
        if bare.hasPrefix("microsoftexchange") || bare.hasPrefix("mailerdaemon") || bare.hasPrefix("postmaster") {
            return true
        }
        let lower = Array(header.utf8)
        for name in mailSystemNames where ASCII.firstRange(of: name, in: lower, from: 0, to: lower.count) != nil { return true }
        let words = header.split { !$0.isLetter && !$0.isNumber }
        return words.contains { mailSystemWords.contains(String($0)) }
    }

    /// Local parts of the mail system, separators removed (RFC 5321 §4.5.1 `postmaster`, the
    /// traditional `MAILER-DAEMON`, delivery-system and non-delivery-report senders).
    private static let mailSystemLocalParts: Set<String> = [
        "mailerdaemon", "maildaemon", "postmaster", "mdaemon", "maildeliverysystem", "maildeliverysubsystem",
        "ndr", "nondelivery", "bouncenotification",
    ]

    private static let mailSystemNames = [
        "mail delivery system", "mail delivery subsystem", "mail delivery service", "mailer-daemon", "mailer daemon",
        "mail administrator", "delivery status notification", "mail system error", "microsoft outlook",
        "(mail delivery",
    ].map { Array($0.utf8) }

    /// Whole words of a display name that name the mail system.
    private static let mailSystemWords: Set<String> = ["ndr", "postmaster"]

    /// Whether an `X-` header field marks a challenge-response request: the header conventions
    /// of known systems (SpamAssassin's CRBOUNCE list: BoxTrapper, Bluebottle, Boxbe, Spam
    /// Arrest, Sendio/ASK, Spamazoid, ExiSpam, TMDA), a name that says challenge or
    /// verification (`X-VerifyFirst-Challenge`, `X-ICE-Verification`), or a value that does
    /// (`X-SenderCheck: challenge`).
    static func isChallengeHeader(name: String, value: String) -> Bool {
        if Names.challengeHeaderPrefixes.contains(where: name.hasPrefix) { return true }
        if name.contains("challenge") || name.contains("verification") { return true }
        if name == "x-delivery-agent" && value.hasPrefix("tmda") { return true }
        return value.hasPrefix("challenge") || value.hasPrefix("verification request")
    }

    /// Whether an `X-` header field is a scanner's mark that the notice reports a virus:
    /// a value that names one (`Virus`, `virus-sender`, `Infected: W32/...`), or a virus
    /// header answering yes. Scan stamps every message gets (`X-Virus-Scanned`, `clean`,
    /// `virus-free`, a version string) are not.
    static func isVirusHeader(name: String, value: String) -> Bool {
        if ["scanned", "version", "checker", "checked"].contains(where: name.contains) { return false }
        if ["clean", "free", "not ", "no ", "none", "ok", "passed"].contains(where: value.hasPrefix)
            || value.contains("clean") || value.contains("virus-free") || value.contains("no virus") {
            return false
        }
        if value.hasPrefix("virus") || value.hasPrefix("infected") { return true }
        let virusName = name.contains("virus") || name.contains("infect") || name.contains("malware")
        return virusName && (value.hasPrefix("yes") || value.hasPrefix("found"))
    }

    /// A one-time reply address of a challenge system: a local part with `confirm` and a token
    /// of at least eight hex digits or digits (TMDA `user-confirm-1732884335.31877.b94f2e@`,
    /// qconfirm `user-qconfirm-1f4e7a9c02b3d5e8@`).
    static func isOneTimeConfirmationAddress(_ address: String) -> Bool {
        guard let at = address.firstIndex(of: "@") else { return false }
        let local = Array(address[..<at].utf8)
        guard let hit = ASCII.firstRange(of: Names.confirm, in: local, from: 0, to: local.count) else { return false }
        var run = 0, longest = 0
        for character in String(decoding: local[(hit + Names.confirm.count)...], as: UTF8.self) {
            if character.isHexDigit { run += 1; longest = max(longest, run) } else { run = 0 }
        }
        return longest >= 8
    }

    /// Leading `Fwd:`/`Re:`/`AUTO:` prefixes of a normalized subject.
    static func subjectPrefixes(_ subject: [UInt8]) -> (forward: Bool, reply: Bool, notesAuto: Bool) {
        var start = 0
        while start < subject.count, subject[start] == ASCII.space || subject[start] == ASCII.openBracket { start += 1 }
        func has(_ prefix: [UInt8]) -> Bool {
            ASCII.hasPrefix(subject, at: start, end: subject.count, lowercasePrefix: prefix)
        }
        let forward = Names.forwardPrefixes.contains(where: has)
        let reply = Names.replyPrefixes.contains(where: has)
        return (forward, reply, has(Names.notesAuto) || has(Names.notesAutoSpaced))
    }

    /// The file name a part carries (Content-Disposition `filename`, or Content-Type `name`).
    static func attachmentName(_ part: MIMEPart, bytes: [UInt8]) -> [UInt8]? {
        if let disposition = part.header.value(Names.contentDisposition, in: bytes),
           let parsed = MediaType(Array("x/x".utf8) + disposition.drop(while: { $0 != ASCII.semicolon })),
           let filename = parsed.parameter("filename"), !filename.isEmpty {
            return filename
        }
        if let name = part.mediaType.parameter("name"), !name.isEmpty { return name }
        return nil
    }

    /// Whether the part is an executable, archive, macro document or disk image of the notice
    /// (not of an attached original): worm and phishing mail dressed as a bounce carries one,
    /// real notices return the original as a message or its header.
    static func isRisky(_ part: MIMEPart, bytes: [UInt8]) -> Bool {
        guard !part.isInsideAttachedMessage else { return false }
        let type = part.mediaType
        if type.isType("application") {
            let subtype = ASCII.string(type.subtype[...])
            if ["x-msdownload", "x-msdos-program", "x-ms-dos-executable", "x-executable", "x-dosexec",
                "vnd.microsoft.portable-executable", "x-zip-compressed", "zip", "x-rar-compressed", "x-7z-compressed",
                "java-archive", "x-javascript", "hta", "x-iso9660-image"].contains(subtype) {
                return true
            }
        }
        guard let name = attachmentName(part, bytes: bytes) else { return false }
        let decoded = ASCII.string(EncodedWords.decode(name)[...]).lowercased().trimmingSpaces
        guard let dot = decoded.lastIndex(of: ".") else { return false }
        return riskyExtensions.contains(String(decoded[decoded.index(after: dot)...]))
    }

    private static let riskyExtensions: Set<String> = [
        "exe", "scr", "pif", "com", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "wsh", "jar", "cpl", "msi",
        "hta", "lnk", "iso", "img", "zip", "rar", "7z", "ace", "arj", "cab", "gz", "docm", "xlsm", "pptm", "dotm", "xlam",
    ]

    /// Whether the text holds an RFC 3463 enhanced status code of class 4 or 5 (`5.1.1`),
    /// standing alone (not part of a version number such as `4.96.2` or an IP address). The
    /// subject is one digit: RFC 3463 defines subjects 0 to 7.
    static func containsEnhancedStatusCode(_ text: [UInt8]) -> Bool {
        let count = text.count
        var index = 1
        while index + 4 < count {
            let byte = text[index]
            if (byte == 0x34 || byte == 0x35), text[index + 1] == ASCII.dot {
                let before = text[index - 1]
                if !(ASCII.isDigit(before) || before == ASCII.dot || ASCII.isAlpha(before)) {
                    var probe = index + 2
                    var digits = 0
                    while probe < count, ASCII.isDigit(text[probe]), digits < 4 { probe += 1; digits += 1 }
                    if digits == 1, text[index + 2] <= 0x37, probe < count, text[probe] == ASCII.dot {
                        probe += 1
                        digits = 0
                        while probe < count, ASCII.isDigit(text[probe]), digits < 4 { probe += 1; digits += 1 }
                        let after: UInt8 = probe < count ? text[probe] : ASCII.space
                        let afterNext: UInt8 = probe + 1 < count ? text[probe + 1] : ASCII.space
                        if digits >= 1, digits <= 3, !ASCII.isDigit(after), !ASCII.isAlpha(after),
                           !(after == ASCII.dot && ASCII.isDigit(afterNext)) {
                            return true
                        }
                    }
                }
            }
            index += 1
        }
        return false
    }

    /// The `envelope-from <x>` of one of the top Received headers, as `<x>`.
    static func receivedEnvelopeFrom(header: MessageHeader, bytes: [UInt8]) -> [UInt8]? {
        for field in header.all(Names.received, in: bytes).prefix(4) {
            var value = MessageHeader.unfoldedValue(field, in: bytes, limit: 2048)
            ASCII.lowercaseInPlace(&value)
            guard let hit = ASCII.firstRange(of: Names.envelopeFrom, in: value, from: 0, to: value.count) else { continue }
            var start = hit + Names.envelopeFrom.count
            while start < value.count, value[start] == ASCII.space || value[start] == ASCII.equals { start += 1 }
            var end = start
            while end < value.count, !ASCII.isWhitespace(value[end]), value[end] != ASCII.closeParen,
                  value[end] != ASCII.semicolon { end += 1 }
            let word = value[start..<end]
            return word.first == ASCII.lessThan ? Array(word) : [ASCII.lessThan] + word + [ASCII.greaterThan]
        }
        return nil
    }

    /// Addresses the trap received the message as, from the delivery headers at the top.
    static func trapAddresses(header: MessageHeader, bytes: [UInt8]) -> [String] {
        var result: [String] = []
        func add(_ address: String) {
            let lower = address.lowercased()
            guard lower.contains("@"), lower.count < 256, !result.contains(lower), result.count < 8 else { return }
            result.append(lower)
        }
        for name in Names.deliveryHeaders {
            for field in header.all(name, in: bytes).prefix(4) {
                add(addrSpec(in: MessageHeader.unfoldedValue(field, in: bytes, limit: 512)))
            }
        }
        for field in header.all(Names.received, in: bytes).prefix(4) {
            let value = MessageHeader.unfoldedValue(field, in: bytes, limit: 2048)
            var lower = value
            ASCII.lowercaseInPlace(&lower)
            if let hit = ASCII.firstRange(of: Names.forClause, in: lower, from: 0, to: lower.count) {
                let rest = Array(value[(hit + Names.forClause.count)...].prefix(300))
                let end = rest.firstIndex(where: { $0 == ASCII.semicolon || $0 == ASCII.greaterThan }) ?? rest.count
                let word = rest[..<end].split(whereSeparator: ASCII.isWhitespace).first ?? []
                add(ASCII.string(word.filter { $0 != ASCII.lessThan }[...]))
            }
        }
        for field in header.all(Names.to, in: bytes).prefix(2) {
            add(addrSpec(in: MessageHeader.unfoldedValue(field, in: bytes, limit: 512)))
        }
        return result
    }

    /// The domains of the message IDs (`<left@domain>`) in a header value, lowercased.
    static func messageIDDomains(in value: [UInt8]) -> [String] {
        var result: [String] = []
        var offset = 0
        while result.count < 16, let at = ASCII.firstIndex(of: ASCII.at, in: value, from: offset, to: value.count) {
            var end = at + 1
            while end < value.count, ASCII.isAlpha(value[end]) || ASCII.isDigit(value[end]) || value[end] == ASCII.dot
                    || value[end] == ASCII.dash { end += 1 }
            var domain = Array(value[(at + 1)..<end])
            ASCII.lowercaseInPlace(&domain)
            result.append(ASCII.string(domain[...]))
            offset = end
        }
        return result
    }

    /// The last two labels of a domain or of an address's domain (`mail.example.org` and
    /// `a@b.example.org` both give `example.org`): near enough to a registered domain to tell
    /// one organisation's hosts from another's.
    static func registeredDomain(_ name: String) -> String {
        let domain = name.split(separator: "@").last.map(String.init) ?? name
        let labels = domain.split(separator: ".", omittingEmptySubsequences: true)
        return labels.suffix(2).joined(separator: ".")
    }

    /// The addresses a header names as its sender (From, Return-Path, Sender), lowercased.
    static func senders(of header: MessageHeader, in bytes: [UInt8]) -> [String] {
        Names.senderHeaders.compactMap { name in
            header.value(name, in: bytes).map { addrSpec(in: Array($0.prefix(1024))).lowercased() }
        }.filter { $0.contains("@") }
    }

    /// The web links of a notice's own plain text (before `end`, where a quoted original
    /// begins), and whether one carries a trap address (plain
    /// or with `@` percent-encoded). Links on a line that quotes a remote server's SMTP reply
    /// (`<<< 550 ...`, `550-5.7.1 ...`, `... said: 550 ...`) are the remote server's words,
    /// not the notice's own.
    static func links(inText text: [UInt8], before end: Int, trapAddresses: [String]) -> (count: Int, carriesTrapAddress: Bool) {
        var count = 0
        var carries = false
        var lineStart = 0
        while lineStart < end {
            let lineEnd = ASCII.lineEnd(in: text, from: lineStart, to: end)
            if !isQuotedSMTPReply(text, lineStart, lineEnd) {
                let found = urls(in: text, from: lineStart, to: lineEnd, trapAddresses: trapAddresses, hrefOnly: false)
                count += found.count
                carries = carries || found.carriesTrapAddress
            }
            lineStart = lineEnd + 1
        }
        return (count, carries)
    }

    /// The web links of a (lowercased) HTML part: `href` targets and URLs in the visible text,
    /// not namespace or schema URLs in other attributes (`xmlns="http://www.w3.org/..."`).
    static func links(inHTML html: [UInt8], trapAddresses: [String]) -> (count: Int, carriesTrapAddress: Bool) {
        let anchors = urls(in: html, from: 0, to: html.count, trapAddresses: trapAddresses, hrefOnly: true)
        var visible = CueText(limit: MessageLimits.maxTextBytesPerPart)
        visible.append(html, dropQuoted: false, html: true)
        let text = urls(in: visible.bytes, from: 0, to: visible.bytes.count, trapAddresses: trapAddresses, hrefOnly: false)
        return (anchors.count + text.count, anchors.carriesTrapAddress || text.carriesTrapAddress)
    }

    private static func urls(in text: [UInt8], from start: Int, to end: Int, trapAddresses: [String],
                             hrefOnly: Bool) -> (count: Int, carriesTrapAddress: Bool) {
        var count = 0
        var carries = false
        var offset = start
        while let hit = ASCII.firstRange(of: Names.http, in: text, from: offset, to: end) {
            let schemeEnd = hit + Names.http.count
            offset = schemeEnd
            guard ASCII.hasPrefix(text, at: schemeEnd, end: end, lowercasePrefix: Names.slashes)
                    || ASCII.hasPrefix(text, at: schemeEnd, end: end, lowercasePrefix: Names.secureSlashes) else { continue }
            if hit > start, ASCII.isAlpha(text[hit - 1]) { continue }
            if hrefOnly && !isHrefValue(text, at: hit, from: start) { continue }
            var urlEnd = schemeEnd
            while urlEnd < end, urlEnd - hit < 2048, !ASCII.isWhitespace(text[urlEnd]), text[urlEnd] != ASCII.quote,
                  text[urlEnd] != ASCII.lessThan, text[urlEnd] != ASCII.greaterThan, text[urlEnd] != 0x27 { urlEnd += 1 }
            count += 1
            if !carries && !trapAddresses.isEmpty {
                let url = percentDecodedAt(text[hit..<urlEnd])
                carries = trapAddresses.contains { url.contains($0) }
            }
            offset = urlEnd
        }
        return (count, carries)
    }

    /// Whether the URL at `offset` is the value of an `href` attribute (`href="`, `href='`, `href=`).
    private static func isHrefValue(_ html: [UInt8], at offset: Int, from start: Int) -> Bool {
        var index = offset - 1
        if index >= start, html[index] == ASCII.quote || html[index] == 0x27 { index -= 1 }
        while index >= start, ASCII.isWhitespace(html[index]) { index -= 1 }
        guard index >= start, html[index] == ASCII.equals else { return false }
        index -= 1
        while index >= start, ASCII.isWhitespace(html[index]) { index -= 1 }
        return index - 3 >= start && html[(index - 3)...index].elementsEqual(Names.href)
    }

    /// A line that quotes an SMTP reply: `<<< 550 ...`, `550 5.1.1 ...`/`550-...`, `... said: 550`.
    private static func isQuotedSMTPReply(_ text: [UInt8], _ start: Int, _ end: Int) -> Bool {
        var index = start
        while index < end, ASCII.isWhitespace(text[index]) { index += 1 }
        if ASCII.hasPrefix(text, at: index, end: end, lowercasePrefix: Names.smtpQuote) { return true }
        if index + 3 < end, text[index] == 0x34 || text[index] == 0x35, ASCII.isDigit(text[index + 1]), ASCII.isDigit(text[index + 2]),
           text[index + 3] == ASCII.space || text[index + 3] == ASCII.dash {
            return true
        }
        var lower = Array(text[index..<end].prefix(512))
        ASCII.lowercaseInPlace(&lower)
        return ASCII.firstRange(of: Names.said, in: lower, from: 0, to: lower.count) != nil
    }

    /// The lowercased text of a URL with `%40` read as `@`.
    private static func percentDecodedAt(_ url: ArraySlice<UInt8>) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(url.count)
        var index = url.startIndex
        while index < url.endIndex {
            if url[index] == 0x25, index + 2 < url.endIndex, url[index + 1] == 0x34, url[index + 2] == 0x30 {
                bytes.append(ASCII.at)
                index += 3
            } else {
                bytes.append(ASCII.lowercased(url[index]))
                index += 1
            }
        }
        return ASCII.string(bytes[...])
    }

    /// A header block of an original message quoted in a text (qmail's "--- Below this line
    /// is a copy of the message.", Exim's "------ This is a copy of the message, including all
    /// the headers."): at least two header lines (From, To, Subject, Date, Message-ID,
    /// Received, Return-Path, Sender) within six lines, one of them a field that mail
    /// software writes (Date, Message-ID, Received, Return-Path) rather than only the From and
    /// Subject a person would quote. Returns where the block starts (nil when there is none)
    /// and its sender addresses.
    static func inlineHeaderBlock(in text: [UInt8]) -> (start: Int?, senders: [String]) {
        var blockStart: Int? = nil
        var senders: [String] = []
        var recent: [(line: Int, offset: Int, isMachineField: Bool)] = []
        var lineNumber = 0
        var lineStart = 0
        let count = min(text.count, 64 << 10)
        while lineStart < count {
            let lineEnd = ASCII.lineEnd(in: text, from: lineStart, to: count)
            var start = lineStart
            while start < lineEnd, text[start] == ASCII.space || text[start] == ASCII.tab || text[start] == ASCII.greaterThan {
                start += 1
            }
            for name in Names.quotedHeaderNames where ASCII.hasPrefix(text, at: start, end: lineEnd, lowercasePrefix: name) {
                recent = recent.filter { lineNumber - $0.line < 6 }
                    + [(lineNumber, lineStart, Names.machineHeaderNames.contains(name))]
                if recent.count >= 2, recent.contains(where: \.isMachineField), blockStart == nil { blockStart = recent[0].offset }
                if Names.senderHeaders.contains(where: { Array($0 + [ASCII.colon]) == name }) {
                    let address = addrSpec(in: Array(text[(start + name.count)..<lineEnd])).lowercased()
                    if address.contains("@") { senders.append(address) }
                }
                break
            }
            lineNumber += 1
            lineStart = lineEnd + 1
        }
        return (blockStart, blockStart == nil ? [] : senders)
    }

    /// The email addresses in a normalized text (lowercase), at most 32.
    static func addresses(in text: [UInt8]) -> [String] {
        var result: [String] = []
        var offset = 0
        while result.count < 32, let at = ASCII.firstIndex(of: ASCII.at, in: text, from: offset, to: text.count) {
            var start = at
            while start > 0, isAddressByte(text[start - 1]) { start -= 1 }
            var end = at + 1
            while end < text.count, isAddressByte(text[end]) { end += 1 }
            while end > at + 1, text[end - 1] == ASCII.dot { end -= 1 }
            let domain = text[(at + 1)..<end]
            if start < at, domain.contains(ASCII.dot) {
                result.append(ASCII.string(text[start..<end]))
            }
            offset = max(end, at + 1)
        }
        return result
    }

    private static func isAddressByte(_ byte: UInt8) -> Bool {
        ASCII.isAlpha(byte) || ASCII.isDigit(byte) || byte == ASCII.dot || byte == ASCII.dash || byte == ASCII.underscore
            || byte == 0x2B || byte == ASCII.equals
    }

    enum Names {
        static let returnPath = Array("return-path".utf8)
        static let from = Array("from".utf8)
        static let to = Array("to".utf8)
        static let cc = Array("cc".utf8)
        static let replyTo = Array("reply-to".utf8)
        static let subject = Array("subject".utf8)
        static let autoSubmitted = Array("auto-submitted".utf8)
        static let precedence = Array("precedence".utf8)
        static let failedRecipients = Array("x-failed-recipients".utf8)
        static let inReplyTo = Array("in-reply-to".utf8)
        static let references = Array("references".utf8)
        static let contentDisposition = Array("content-disposition".utf8)
        static let received = Array("received".utf8)
        static let forClause = Array(" for ".utf8)
        static let envelopeFrom = Array("envelope-from".utf8)
        static let http = Array("http".utf8)
        static let slashes = Array("://".utf8)
        static let secureSlashes = Array("s://".utf8)
        static let formTag = Array("<form".utf8)
        static let confirm = Array("confirm".utf8)
        static let href = Array("href".utf8)
        static let smtpQuote = Array("<<<".utf8)
        static let said = Array("said: ".utf8)
        static let notesAuto = Array("auto:".utf8)
        static let notesAutoSpaced = Array("auto :".utf8)
        static let senderHeaders = ["from", "return-path", "sender"].map { Array($0.utf8) }
        static let quotedHeaderNames = ["from:", "to:", "subject:", "date:", "message-id:", "received:", "return-path:",
                                        "sender:", "cc:"].map { Array($0.utf8) }
        static let machineHeaderNames = ["date:", "message-id:", "received:", "return-path:"].map { Array($0.utf8) }
        static let identityHeaders = ["from", "x-mailer", "user-agent", "message-id"].map { Array($0.utf8) }
        static let challengeHeaderPrefixes = [
            "x-boxtrapper", "x-bluebottle-request", "x-boxbe-", "x-spamarrest-", "x-askversion", "x-spamazoid-",
            "x-exispam", "x-sender-verification", "x-tmda-", "x-spamlion",
        ]
        static let listHeaders = ["list-id", "list-unsubscribe", "list-post"].map { Array($0.utf8) }
        /// Headers list managers put on their own notices (Mailman 2 and 3).
        static let listAdministriviaHeaders: Set<String> = [
            "x-list-administrivia", "x-mailman-administrivia",
        ]
        /// Address parts of list managers (RFC 2142 `-request`, the `owner-` convention, Mailman's
        /// `-bounces`, Groups.io's `+owner` and Google Groups' `+owners`, the list servers' own names).
        static let listManagerAddresses = [
            "-owner@", "+owner@", "+owners@", "-admin@", "-request@", "-bounces@", "owner-", "mailman@", "majordomo@",
            "listserv@", "sympa@", "ezmlm", "lyris",
        ]
        static let deliveryHeaders = ["delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "x-rcpt-to"]
            .map { Array($0.utf8) }
        /// Forward prefixes of mail clients, in the languages Outlook and Thunderbird localize them to.
        static let forwardPrefixes = [
            "fwd:", "fw:", "fwd ", "fw ", "wg:", "tr:", "rv:", "i:", "enc:", "doorst:", "pd:", "fs:", "vb:", "vl:",
            "továbbítás:", "ilt:", "пересл:", "転送:", "转发:", "轉寄:", "전달:",
        ].map { Array($0.utf8) }
        /// Reply prefixes of mail clients, localized the same way.
        static let replyPrefixes = [
            "re:", "re ", "aw:", "sv:", "antw:", "odp:", "ynt:", "réf:", "ref:", "r:", "vs:", "res:", "rif:",
            "vá:", "отв:", "返信:", "回复:", "答复:", "回覆:", "답장:",
        ].map { Array($0.utf8) }
        /// Headers whose mere presence marks an auto-responder (de-facto, pre-RFC 3834).
        static let autoresponderHeaders: [([UInt8], String)] = [
            ("x-autoreply", "X-Autoreply"), ("x-autorespond", "X-Autorespond"), ("x-autoresponder", "X-Autoresponder"),
            ("x-autoresponse", "X-Autoresponse"), ("x-auto-reply", "X-Auto-Reply"), ("x-vacation", "X-Vacation"),
            ("x-ms-exchange-inbox-rules-loop", "X-MS-Exchange-Inbox-Rules-Loop"),
        ].map { (Array($0.0.utf8), $0.1) }
        /// Headers whose value may name an auto-responder (`X-Autogenerated: Reply`, `X-Mailer: vacation`).
        static let autoReplyValueHeaders: [([UInt8], String, [String])] = [
            (Array("x-autogenerated".utf8), "X-Autogenerated", ["reply"]),
            (Array("x-auto-response".utf8), "X-Auto-Response", ["reply", "vacation"]),
            (Array("x-mailer".utf8), "X-Mailer", ["vacation", "autoreply", "auto-reply", "autorespond", "autoresponder"]),
        ]
    }
}
