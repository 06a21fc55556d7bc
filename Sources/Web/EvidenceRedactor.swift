// EvidenceRedactor.swift -- the evidence a listed party may see: no trap address, trap host or trap-side hop.

public import Store
import Foundation

/// One hit as the public sees it.
public struct PublicEvidence: Hashable, Sendable, Codable {
    /// When the trap received it (RFC 3339).
    public var time: String
    public var kind: String
    /// `strong` or `weak`.
    public var strength: String
    /// The bouncing host's name: the DSN's Reporting-MTA, else the name the source hop gives.
    public var host: String?
    /// Header lines that are safe to show.
    public var lines: [String]
}

/// Turns a stored hit into evidence that reveals no trap.
///
/// Ingest already replaces the local part of the trap addresses it knew with `[trap]`;
/// this is the second line of defence, and it works by allowing rather than removing: of a
/// stored excerpt only the notice's own fields are kept (From, Subject, Date, Message-ID,
/// Content-Type, Auto-Submitted, the classifier's reason) and, of the Received fields,
/// only the `from` clause and date of the hop from the listed address itself. Every other
/// field goes: the trap-side hops above it (whose `by` names trap hosts), the delivery
/// fields (Delivered-To, X-Original-To, Return-Path ...), To and Cc (the forged sender
/// is the trap). In what is kept, any address at a trap domain, any address with a
/// redacted local part, any e-mail address at all in the subject and reason, and every
/// trap name given (trap domains, trap hosts) is replaced.
public struct EvidenceRedactor: Sendable {
    /// Names never shown, lowercased: trap domains and trap hosts.
    public let trapNames: [String]

    /// - Parameter trapNames: trap domains and trap host names; names without a dot are
    ///   ignored (they would match ordinary words).
    public init(trapNames: some Sequence<String>) {
        var names = Set<String>()
        for name in trapNames {
            var lower = name.lowercased()
            while lower.hasSuffix(".") { lower.removeLast() }
            if lower.contains("."), lower.utf8.count >= 4 { names.insert(lower) }
        }
        // Longest first, so a host inside a trap domain is replaced whole.
        self.trapNames = names.sorted { $0.utf8.count != $1.utf8.count ? $0.utf8.count > $1.utf8.count : $0 < $1 }
    }

    /// The trap domain a stored `trap` value (`…@domain`) names, if any.
    public static func trapDomain(ofStoredTrap trap: String) -> String? {
        guard let at = trap.lastIndex(of: "@") else { return nil }
        let domain = trap[trap.index(after: at)...].lowercased()
        return domain.isEmpty ? nil : domain
    }

    static let keptFields: Set<String> = ["from", "subject", "date", "message-id", "content-type", "auto-submitted", "reason"]
    /// Fields whose every e-mail address is masked, trap or not.
    static let maskAllAddresses: Set<String> = ["subject", "reason"]

    /// The public view of one stored hit of `source`.
    public func evidence(_ hit: SourceReport.Evidence, source: IPPrefix) -> PublicEvidence {
        var names = trapNames
        if let domain = Self.trapDomain(ofStoredTrap: hit.trap), domain.contains("."), !names.contains(domain) {
            names.append(domain)
            names.sort { $0.utf8.count > $1.utf8.count }
        }
        var lines: [String] = []
        var hopHost: String?
        var hopLine: String?
        for line in (hit.excerpt ?? "").split(separator: "\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces
            if name == "received" {
                // The source hop is the last Received field of the excerpt that names the
                // listed address in its from clause; the trap-side hops come before it.
                if let hop = Self.sourceHop(String(value), source: source) {
                    hopLine = "Received: " + scrub(hop.clause, names: names, maskAll: false)
                        + (hop.date.map { "; " + scrub($0, names: names, maskAll: false) } ?? "")
                    hopHost = hop.host
                }
                continue
            }
            guard Self.keptFields.contains(name) else { continue }
            let label = name == "reason" ? "Reason" : String(line[..<colon])
            lines.append("\(label): " + scrub(String(value), names: names, maskAll: Self.maskAllAddresses.contains(name)))
        }
        if let hopLine { lines.insert(hopLine, at: 0) }
        var host = hit.reporter.map { scrub(Self.withoutAddressType($0), names: names, maskAll: true) }
            ?? hopHost.map { scrub($0, names: names, maskAll: true) }
        if let value = host, value.contains("[") || value.isEmpty { host = nil }
        return PublicEvidence(time: Store.formatRFC3339(hit.time), kind: hit.kind, strength: hit.strength, host: host, lines: lines)
    }

    /// A DSN's Reporting-MTA without its type (`dns; mx.example` is `mx.example`, RFC 3464 §2.2.2).
    static func withoutAddressType(_ value: String) -> String {
        guard let semicolon = value.firstIndex(of: ";") else { return value }
        return String(value[value.index(after: semicolon)...].trimmingSpaces)
    }

    /// The `from` clause, date and host name of a Received value whose from clause names
    /// `source`; nil for any other hop.
    static func sourceHop(_ value: String, source: IPPrefix) -> (clause: String, date: String?, host: String?)? {
        let lower = value.lowercased()
        guard lower.hasPrefix("from ") else { return nil }
        // The from clause ends where the next clause (by, with, id, for, via) or the date starts.
        var end = value.endIndex
        for marker in [" by ", " with ", " id ", " for ", " via ", ";"] {
            if let range = lower.range(of: marker), range.lowerBound < end { end = range.lowerBound }
        }
        let clause = String(value[..<end])
        let address = source.addressText.lowercased()
        // RFC 5321 §4.1.3 writes an IPv6 literal as `[IPv6:...]`.
        guard Self.containsAddress(clause.lowercased().replacingOccurrences(of: "ipv6:", with: " "), address) else { return nil }
        let date = value.lastIndex(of: ";").map { String(value[value.index(after: $0)...].trimmingSpaces) }
        // "from HELO (RDNS [ADDR])": the reverse name when there is one, else the HELO name.
        let words = clause.dropFirst(5).split(separator: " ", omittingEmptySubsequences: true)
        var host = words.first.map(String.init)
        if words.count > 1, words[1].hasPrefix("("), !words[1].hasPrefix("(["), words[1].lowercased() != "(unknown" {
            host = String(words[1].dropFirst())
        }
        if let name = host, name.hasPrefix("[") || !name.contains(".") { host = nil }
        return (clause, date?.isEmpty == true ? nil : date, host)
    }

    /// Whether `text` names `address` as a whole token (not as part of a longer one).
    static func containsAddress(_ text: String, _ address: String) -> Bool {
        var rest = Substring(text)
        while let range = rest.range(of: address) {
            let before = range.lowerBound == text.startIndex ? nil : text[text.index(before: range.lowerBound)]
            let after = range.upperBound == text.endIndex ? nil : text[range.upperBound]
            func isAddressCharacter(_ c: Character?) -> Bool { c.map { $0.isHexDigit || $0 == "." || $0 == ":" } ?? false }
            if !isAddressCharacter(before) && !isAddressCharacter(after) { return true }
            rest = text[range.upperBound...]
        }
        return false
    }

    /// `text` with trap addresses and trap names replaced; with `maskAll`, every e-mail address.
    func scrub(_ text: String, names: [String], maskAll: Bool) -> String {
        var output = Self.maskAddresses(text) { local, domain in
            maskAll || local.contains("[trap]") || local.contains("…") || names.contains { Self.isWithin(domain, $0) }
        }
        for name in names {
            output = Self.replacingCaseInsensitive(name, in: output, with: "[trap host]")
        }
        // Ingest's own marker, wherever it is left.
        return output.replacingOccurrences(of: "[trap]", with: "[trap address]")
    }

    /// Whether `domain` is `name` or a name below it.
    static func isWithin(_ domain: String, _ name: String) -> Bool {
        let lower = domain.lowercased()
        return lower == name || lower.hasSuffix("." + name)
    }

    /// Characters of an e-mail address's local part (RFC 5322 atext, dots, and the
    /// brackets and ellipsis of ingest's redaction markers).
    static func isLocalCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || "!#$%&'*+/=?^_`{|}~.-[]".contains(c)) || c == "…"
    }

    static func isDomainCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "-")
    }

    /// `text` with each `local@domain` for which `mask` is true replaced by `[trap address]`
    /// (or `[address]` when the address is not a trap's but is masked all the same).
    static func maskAddresses(_ text: String, mask: (String, String) -> Bool) -> String {
        let characters = Array(text)
        var output = ""
        var index = 0
        var copied = 0
        while index < characters.count {
            guard characters[index] == "@" else { index += 1; continue }
            var start = index
            while start > copied, isLocalCharacter(characters[start - 1]) { start -= 1 }
            var end = index + 1
            while end < characters.count, isDomainCharacter(characters[end]) { end += 1 }
            let local = String(characters[start..<index])
            let domain = String(characters[(index + 1)..<end])
            if mask(local, domain) {
                output += String(characters[copied..<start])
                output += "[address]"
                copied = end
            }
            index = max(end, index + 1)
        }
        output += String(characters[copied...])
        return output
    }

    static func replacingCaseInsensitive(_ needle: String, in text: String, with replacement: String) -> String {
        guard !needle.isEmpty else { return text }
        var output = ""
        var rest = Substring(text)
        while let range = rest.range(of: needle, options: [.caseInsensitive]) {
            output += rest[..<range.lowerBound]
            output += replacement
            rest = rest[range.upperBound...]
        }
        return output + rest
    }
}
