// ListExporter.swift -- writes served listings as rbldnsd data, CSV or JSON.

/// Writes a zone's active listings for other tools.
///
/// - `rbldnsd`: ip4set/ip6trie data (`$SOA`, `$NS`, `$TTL`, the default `:A:TXT`, then
///   entries, `!` exclusions). rbldnsd datasets hold one family each: give `family`.
/// - `csv`: `prefix,status,code,text,expires` with a header row.
/// - `json`: one object: zone, serial, settings, listings.
public struct ListExporter {
    public enum Format: String, Sendable, CaseIterable, Codable {
        case rbldnsd, csv, json
    }

    public let settings: ZoneSettings
    public let serial: Int64
    public let now: Int64

    public init(settings: ZoneSettings, serial: Int64, now: Int64) {
        self.settings = settings
        self.serial = serial
        self.now = now
    }

    /// The SOA serial written: the fixed one, else the change serial.
    var soaSerial: UInt32 { settings.serial ?? UInt32(truncatingIfNeeded: max(serial, 1)) }

    /// Writes `listings` (any order) in `format`; `family` nil writes both.
    ///
    /// - Returns: the number of entries written.
    @discardableResult
    public func write(_ listings: [Listing], format: Format, family: IPPrefix.Family?, to output: inout some TextOutputStream) -> Int {
        let selected = listings.filter { family == nil || $0.prefix.family == family }.sorted { $0.prefix < $1.prefix }
        switch format {
        case .rbldnsd: writeRbldnsd(selected, family: family, to: &output)
        case .csv: writeCSV(selected, to: &output)
        case .json: writeJSON(selected, to: &output)
        }
        return selected.count
    }

    // MARK: rbldnsd

    /// The RFC 5782 §5 test points of each family: listed, and never listed.
    /// (Written in rbldnsd's own spelling: its ip6trie reads no dotted IPv4 tail.)
    static let testPoints: [(family: IPPrefix.Family, listed: IPPrefix, unlisted: IPPrefix, texts: (String, String))] = [
        (.v4, IPPrefix("127.0.0.2")!, IPPrefix("127.0.0.1")!, ("127.0.0.2", "127.0.0.1")),
        (.v6, IPPrefix("::ffff:7f00:2")!, IPPrefix("::ffff:7f00:1")!, ("::ffff:7f00:2", "::ffff:7f00:1")),
    ]

    func writeRbldnsd(_ listings: [Listing], family: IPPrefix.Family?, to output: inout some TextOutputStream) {
        let points = Self.testPoints.filter { family == nil || $0.family == family }
        output.write("# rbld export of \(settings.name), serial \(serial)\n")
        output.write("$SOA \(settings.soaTTL) \(settings.mname) \(settings.rname) \(soaSerial) \(settings.refresh) \(settings.retry) \(settings.expire) \(settings.minimum)\n")
        output.write("$NS \(settings.nsTTL) \(settings.servedNameservers.joined(separator: " "))\n")
        output.write("$TTL \(settings.ttl)\n")
        output.write(":127.0.0.\(settings.defaultCode):\(settings.txtTemplate)\n")
        for listing in listings where !points.contains(where: { $0.unlisted == listing.prefix }) {
            if listing.excluded {
                output.write("!\(listing.prefix)\n")
            } else if listing.code == settings.defaultCode, listing.text == nil || listing.text == settings.txtTemplate {
                output.write("\(listing.prefix)\n")
            } else {
                output.write("\(listing.prefix) :127.0.0.\(listing.code):\(listing.text ?? settings.txtTemplate)\n")
            }
        }
        // The test points as rbld answers them (docs/DNS-BEHAVIOUR.md), so that a mirror
        // loading only this file answers them too: the listed one with the default answer
        // unless a listed entry is its longest match, the unlisted one never.
        for point in points {
            let longest = listings.filter { $0.prefix.contains(point.listed) }.max { $0.prefix.length < $1.prefix.length }
            if longest == nil || longest!.excluded { output.write("\(point.texts.0)\n") }
            output.write("!\(point.texts.1)\n")
        }
    }

    // MARK: CSV and JSON

    func writeCSV(_ listings: [Listing], to output: inout some TextOutputStream) {
        output.write("prefix,status,code,text,expires\n")
        let defaultText = ListExporter.csvField(settings.txtTemplate)
        for listing in listings {
            let status = listing.excluded ? "excluded" : "listed"
            let code = listing.excluded ? "" : "127.0.0.\(listing.code)"
            let text = listing.excluded ? "" : listing.text.map(ListExporter.csvField) ?? defaultText
            let expires = listing.expires.map(Store.formatTime) ?? ""
            output.write("\(listing.prefix),\(status),\(code),\(text),\(expires)\n")
        }
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    func writeJSON(_ listings: [Listing], to output: inout some TextOutputStream) {
        output.write("{\"zone\":\(json(settings.name)),\"serial\":\(serial),\"generated\":\(now),")
        output.write("\"settings\":{\"ttl\":\(settings.ttl),\"default_code\":\(settings.defaultCode),\"txt\":\(json(settings.txtTemplate))},\n\"listings\":[")
        var first = true
        for listing in listings {
            output.write(first ? "\n" : ",\n")
            first = false
            output.write("{\"prefix\":\"\(listing.prefix)\",\"excluded\":\(listing.excluded)")
            if !listing.excluded {
                output.write(",\"code\":\(listing.code),\"answer\":\"127.0.0.\(listing.code)\"")
                if let text = listing.text { output.write(",\"text\":\(json(text))") }
            }
            if let expires = listing.expires { output.write(",\"expires\":\(expires)") }
            output.write("}")
        }
        output.write("\n]}\n")
    }

    func json(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
