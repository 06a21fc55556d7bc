// ZoneMasterFile.swift -- a zone snapshot as an RFC 1035 master file: the records a transfer sends.

extension ZoneSnapshot {
    /// Writes the zone as an RFC 1035 §5 master file for BIND, NSD or Knot: exactly the
    /// records a zone transfer sends (``ZoneRecordStream``; docs/MIRRORS.md), so a server
    /// loading the file answers as a secondary of rbld does, the RFC 5782 test points
    /// included. Names are written in the transfer's order, so an unchanged zone gives the
    /// same bytes and rsync deltas stay small.
    ///
    /// - Parameters:
    ///   - now: Unix seconds: listings expired by then are left out, and expiring ones get
    ///     the time they have left as TTL.
    ///   - comment: a first line, written after `; `.
    /// - Returns: the number of names (hosts and wildcards) written.
    @discardableResult
    public func writeMasterFile(now: UInt32, comment: String, to output: inout some TextOutputStream) -> Int {
        let config = zone.config
        let soa = config.soa
        output.write("; \(comment)\n")
        output.write("$ORIGIN \(Self.absolute(config.name))\n")
        output.write("@ \(soa.ttl) IN SOA \(Self.absolute(soa.mname)) \(Self.absolute(soa.rname)) ( \(soa.serial) \(soa.refresh) \(soa.retry) \(soa.expire) \(soa.minimum) )\n")
        for server in config.nameservers { output.write("@ \(config.nsTTL) IN NS \(Self.absolute(server))\n") }
        let renderer = ZoneRecordRenderer(zone: zone, now: now)
        var (v4, v6) = ZoneRecordStream.walkers(table, now: now)
        var count = 0
        while let node = v4.next().map(AnyZoneNode.v4) ?? v6.next().map(AnyZoneNode.v6) {
            let owner = Self.owner(node)
            let (code, _, ttl) = renderer.rendering(of: node)
            output.write("\(owner) \(ttl) IN A 127.0.0.\(code)\n")
            output.write("\(owner) \(ttl) IN TXT \(Self.characterStrings(renderer.text(of: node)))\n")
            count += 1
        }
        return count
    }

    private static func absolute(_ name: String) -> String {
        name.hasSuffix(".") ? name : name + "."
    }

    /// The owner relative to the origin: `*.` for a wildcard, then the address labels.
    static func owner(_ node: AnyZoneNode) -> String {
        var labels: [String] = []
        switch node {
        case .v4(let inner):
            if inner.wildcard { labels.append("*") }
            for octet in stride(from: inner.length / 8 - 1, through: 0, by: -1) {
                labels.append(String((inner.start >> UInt32(24 - 8 * octet)) & 0xFF))
            }
        case .v6(let inner):
            if inner.wildcard { labels.append("*") }
            for nibble in stride(from: inner.length / 4 - 1, through: 0, by: -1) {
                labels.append(String(Int(truncatingIfNeeded: inner.start >> UInt128(124 - 4 * nibble)) & 0xF, radix: 16))
            }
        }
        return labels.isEmpty ? "@" : labels.joined(separator: ".")
    }

    /// Quoted character-strings of at most 255 bytes (RFC 1035 §3.3.14, §5.1): `"` and `\`
    /// escaped, bytes outside printable ASCII as `\DDD`.
    static func characterStrings(_ bytes: [UInt8]) -> String {
        var pieces: [String] = []
        var start = 0
        repeat {
            let end = min(start + 255, bytes.count)
            var piece = "\""
            for byte in bytes[start..<end] {
                switch byte {
                case 0x22, 0x5C: piece += "\\" + String(UnicodeScalar(byte))
                case 0x20...0x7E: piece.append(Character(UnicodeScalar(byte)))
                default:
                    let digits = String(byte)
                    piece += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                }
            }
            pieces.append(piece + "\"")
            start = end
        } while start < bytes.count
        return pieces.joined(separator: " ")
    }
}
