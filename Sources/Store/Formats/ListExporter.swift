// ListExporter.swift -- writes served listings as rbldnsd data, a DNS master file, CSV or JSON.

/// Writes a zone's active listings for other tools.
///
/// - `rbldnsd`: ip4set/ip6trie data (`$SOA`, `$NS`, `$TTL`, the default `:A:TXT`, then
///   entries, `!` exclusions). rbldnsd datasets hold one family each: give `family`.
/// - `zone`: an RFC 1035 master file for BIND/NSD/Knot. CIDRs become wildcards at octet
///   (IPv4) or nibble (IPv6) boundaries, expanded where the length is not aligned; holes
///   (exclusions) become names that exist without an A record (an `HINFO` placeholder),
///   so the wildcard above them does not apply (RFC 4592 §2.2); and where an entry inside
///   a wildcard's range makes an empty non-terminal, a wildcard under it repeats the
///   covering answer.
/// - `csv`: `prefix,status,code,text,expires` with a header row.
/// - `json`: one object: zone, serial, settings, listings.
public struct ListExporter {
    public enum Format: String, Sendable, CaseIterable, Codable {
        case rbldnsd, zone, csv, json
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
        case .zone: return writeZone(selected, to: &output)
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

    // MARK: Master file

    /// A block aligned to a label boundary (octet / nibble), with the answer of the
    /// original entry that produced it.
    struct Block {
        var originalLength: Int
        var listing: Listing
    }

    /// Label width in bits of the reverse tree: 8 for IPv4, 4 for IPv6.
    static func labelBits(_ family: IPPrefix.Family) -> Int { family == .v4 ? 8 : 4 }

    /// Reverse owner labels of an aligned prefix relative to the zone (`3.2.1` for 1.2.3.0/24).
    static func ownerLabels(_ prefix: IPPrefix) -> String {
        let bits = labelBits(prefix.family)
        let count = prefix.length / bits
        var text = ""
        text.reserveCapacity(count * (bits == 8 ? 4 : 2))
        for index in stride(from: count - 1, through: 0, by: -1) {
            let shift = prefix.family.bitCount - bits * (index + 1)
            let value = Int(truncatingIfNeeded: (prefix.address >> shift) & UInt128((1 << bits) - 1))
            if !text.isEmpty { text += "." }
            text += String(value, radix: bits == 8 ? 10 : 16)
        }
        return text
    }

    /// A master-file owner: a host or network name, or the wildcard under a network.
    struct Owner: Hashable, Comparable {
        var prefix: IPPrefix
        var wildcard: Bool
        static func < (a: Owner, b: Owner) -> Bool { a.prefix != b.prefix ? a.prefix < b.prefix : !a.wildcard && b.wildcard }
        var name: String { wildcard ? ListExporter.wildcard(prefix) : ListExporter.ownerLabels(prefix) }
    }

    func writeZone(_ listings: [Listing], to output: inout some TextOutputStream) -> Int {
        // A host that no wider entry (listed or excluded) contains stands alone: nothing is
        // expanded, resolved or added for it. Such hosts skip the maps of `zoneRecords`
        // and are merged into the output as they come (`listings` is sorted); in a scored
        // zone that is nearly every entry, so the maps hold only networks, holes and what
        // lies inside networks (2.1M entries: 2 GB of maps before).
        var wider = PrefixIndex<Void>()
        for listing in listings where !listing.prefix.isHost { wider.insert(listing.prefix, ()) }
        let alone = listings.map { $0.prefix.isHost && !wider.covers($0.prefix) }
        let records = zoneRecords(listings.indices.filter { !alone[$0] }.map { listings[$0] })
        let owners = records.keys.sorted()

        output.write("; rbld export of \(settings.name), serial \(serial)\n")
        output.write("$ORIGIN \(settings.name).\n$TTL \(settings.ttl)\n")
        output.write("@ \(settings.soaTTL) IN SOA \(settings.mname). \(settings.rname). ( \(soaSerial) \(settings.refresh) \(settings.retry) \(settings.expire) \(settings.minimum) )\n")
        for ns in settings.servedNameservers { output.write("@ \(settings.nsTTL) IN NS \(ns).\n") }
        let writer = ZoneRecordWriter(settings: settings, now: now)
        var next = owners.startIndex
        var written = records.count
        for index in listings.indices where alone[index] {
            let listing = listings[index]
            // The last of equal prefixes wins, as in `zoneRecords`; an excluded host alone
            // is in no listed range, so it needs no record.
            if index + 1 < listings.endIndex, listings[index + 1].prefix == listing.prefix { continue }
            let owner = Owner(prefix: listing.prefix, wildcard: false)
            while next < owners.endIndex, owners[next] < owner {
                writer.write(owners[next], records[owners[next]]!, to: &output)
                next += 1
            }
            guard !listing.excluded else { continue }
            writer.write(owner, listing, to: &output)
            written += 1
        }
        for owner in owners[next...] { writer.write(owner, records[owner]!, to: &output) }
        return written
    }

    /// Master-file owners for `listings` (any order) and what each holds: a listing, or
    /// nil for a placeholder (a name that exists without an A record).
    func zoneRecords(_ listings: [Listing]) -> [Owner: Listing?] {
        // 1. Expand every entry to aligned blocks; the more specific original wins a block.
        var blocks: [IPPrefix: Block] = [:]
        blocks.reserveCapacity(listings.count)
        var networks = PrefixIndex<Void>()   // aligned listed networks (wildcards)
        for listing in listings {
            let bits = ListExporter.labelBits(listing.prefix.family)
            let aligned = (listing.prefix.length + bits - 1) / bits * bits
            let extra = aligned - listing.prefix.length
            for index in 0..<(1 << extra) {
                let address = listing.prefix.address | (UInt128(index) << (listing.prefix.family.bitCount - aligned))
                let block = IPPrefix(unchecked: listing.prefix.family, address, aligned)
                if let existing = blocks[block], existing.originalLength > listing.prefix.length { continue }
                var copy = listing
                copy.prefix = block
                blocks[block] = Block(originalLength: listing.prefix.length, listing: copy)
                if !listing.excluded, !block.isHost { networks.insert(block, ()) }
            }
        }
        // The answer for a block: its own, else the nearest aligned ancestor's.
        func resolved(_ block: IPPrefix) -> Listing? {
            let bits = ListExporter.labelBits(block.family)
            var length = block.length
            while length >= 0 {
                if let found = blocks[block.truncated(to: length)] { return found.listing }
                length -= bits
            }
            return nil
        }
        // 2. Owners: hosts and wildcards for listings, placeholders for holes under a listing.
        var records: [Owner: Listing?] = [:]  // nil = placeholder (exists, no A)
        records.reserveCapacity(blocks.count)
        for (prefix, block) in blocks {
            let listing = block.listing
            if listing.excluded {
                let bits = ListExporter.labelBits(prefix.family)
                guard prefix.length >= bits, let parent = resolved(prefix.truncated(to: prefix.length - bits)), !parent.excluded else { continue }
                records[Owner(prefix: prefix, wildcard: false)] = .some(nil)
            } else {
                records[Owner(prefix: prefix, wildcard: !prefix.isHost)] = listing
            }
        }
        // 3. Every ancestor of an owner exists (an empty non-terminal at least): where a
        //    listing covers it, repeat that answer with a wildcard under it. Only owners
        //    inside some listed network can need this.
        if !networks.isEmpty {
            for owner in Array(records.keys) where networks.firstCovering(owner.prefix, where: { prefix, _ in prefix.length < owner.prefix.length }) {
                let bits = ListExporter.labelBits(owner.prefix.family)
                var length = owner.prefix.length - bits
                while length > 0 {
                    let ancestor = owner.prefix.truncated(to: length)
                    let key = Owner(prefix: ancestor, wildcard: true)
                    if records[key] == nil, let listing = resolved(ancestor), !listing.excluded {
                        var copy = listing
                        copy.prefix = ancestor
                        records[key] = copy
                    }
                    length -= bits
                }
            }
        }
        return records
    }

    /// Writes one owner's records: A and TXT, or the HINFO placeholder of a hole.
    struct ZoneRecordWriter {
        let settings: ZoneSettings
        let now: Int64
        /// The zone template, escaped once; the address goes between its pieces.
        let templatePieces: [String]
        let templateBytes: Int

        init(settings: ZoneSettings, now: Int64) {
            self.settings = settings
            self.now = now
            templatePieces = settings.txtTemplate.split(separator: "$", omittingEmptySubsequences: false)
                .map { ListExporter.escapedCharacterString(String($0)) }
            templateBytes = settings.txtTemplate.utf8.count
        }

        func write(_ owner: Owner, _ entry: Listing?, to output: inout some TextOutputStream) {
            let name = owner.name
            guard let listing = entry else {
                output.write("\(name) IN HINFO \"rbld\" \"excluded\"\n")
                return
            }
            var ttl = settings.ttl
            if let expires = listing.expires { ttl = UInt32(clamping: max(1, min(Int64(ttl), expires - now))) }
            output.write("\(name) \(ttl) IN A 127.0.0.\(listing.code)\n")
            // A wildcard cannot substitute the queried address: it shows the network instead.
            let shown = listing.prefix.isHost ? listing.prefix.addressText : listing.prefix.description
            let txt: String
            if listing.text == nil, templateBytes + (templatePieces.count - 1) * shown.utf8.count <= 255 {
                txt = "\"" + templatePieces.joined(separator: shown) + "\""
            } else {
                txt = ListExporter.masterFileString((listing.text ?? settings.txtTemplate).replacingDollar(with: shown))
            }
            output.write("\(name) \(ttl) IN TXT \(txt)\n")
        }
    }

    static func wildcard(_ prefix: IPPrefix) -> String {
        prefix.length == 0 ? "*" : "*." + ownerLabels(prefix)
    }

    /// `text` with `"` and `\\` escaped (RFC 1035 §5.1), unquoted.
    static func escapedCharacterString(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return text }
        var result = ""
        for character in text {
            if character == "\"" || character == "\\" { result.append("\\") }
            result.append(character)
        }
        return result
    }

    /// A quoted character-string (RFC 1035 §5.1), split into 255-byte pieces.
    static func masterFileString(_ text: String) -> String {
        var pieces: [String] = []
        var current = "", currentBytes = 0
        for character in text {
            var escaped = String(character)
            if character == "\"" || character == "\\" { escaped = "\\" + escaped }
            let bytes = String(character).utf8.count
            if currentBytes + bytes > 255 { pieces.append(current); current = ""; currentBytes = 0 }
            current += escaped
            currentBytes += bytes
        }
        pieces.append(current)
        return pieces.map { "\"\($0)\"" }.joined(separator: " ")
    }
}
