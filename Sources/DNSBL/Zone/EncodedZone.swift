// EncodedZone.swift -- a zone's records encoded once, in wire form, for the hot path.

/// Precomputed wire forms of a zone's apex records and listing classes
/// (the "pre-computed RRs" of rbldnsd_packet.c).
///
/// A class, so that handing it around on the hot path costs one reference count, not one
/// per array it holds.
final class EncodedZone: Sendable {
    let config: ZoneConfig
    /// The apex name in lowercase wire form, root label included.
    let wireName: [UInt8]
    let labelCount: Int
    /// SOA RDATA (RFC 1035 §3.3.13), names uncompressed.
    let soaRData: [UInt8]
    /// NS RDATAs (RFC 1035 §3.3.11), names uncompressed.
    let nsRData: [[UInt8]]
    /// TTL of the SOA in negative answers: min(SOA TTL, SOA MINIMUM) (RFC 2308 §5).
    let negativeTTL: UInt32
    /// TXT templates per listing class, as bytes; `$` (0x24) marks the address.
    let listings: [EncodedListing]

    init(_ config: ZoneConfig) throws(ZoneConfigError) {
        self.config = config
        let (wire, labels) = try Self.encodeName(config.name)
        wireName = wire
        labelCount = labels
        var soa = try Self.encodeName(config.soa.mname).wire
        soa += try Self.encodeName(config.soa.rname).wire
        for field in [config.soa.serial, config.soa.refresh, config.soa.retry, config.soa.expire, config.soa.minimum] {
            soa += [UInt8(field >> 24), UInt8(truncatingIfNeeded: field >> 16),
                    UInt8(truncatingIfNeeded: field >> 8), UInt8(truncatingIfNeeded: field)]
        }
        soaRData = soa
        var ns: [[UInt8]] = []
        for server in config.nameservers { ns.append(try Self.encodeName(server).wire) }
        nsRData = ns
        negativeTTL = min(config.soa.ttl, config.soa.minimum)
        guard !config.listings.isEmpty else {
            throw ZoneConfigError(reason: "zone \(config.name): at least one listing class is needed")
        }
        listings = config.listings.map { EncodedListing(code: $0.code, text: Array($0.text.utf8)) }
    }

    /// Encodes a presentation name ("bl.example.org", trailing dot optional) in lowercase
    /// wire form. RFC 1035 §3.1.
    static func encodeName(_ name: String) throws(ZoneConfigError) -> (wire: [UInt8], labels: Int) {
        var wire: [UInt8] = []
        var labels = 0
        let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
        if !trimmed.isEmpty {
            for label in trimmed.split(separator: ".", omittingEmptySubsequences: false) {
                let bytes = Array(label.utf8)
                guard !bytes.isEmpty, bytes.count <= WireLimits.maxLabelLength else {
                    throw ZoneConfigError(reason: "bad domain name '\(name)': empty or over-long label")
                }
                wire.append(UInt8(bytes.count))
                wire += bytes.map(asciiLowercase)
                labels += 1
            }
        }
        wire.append(0)
        guard wire.count <= WireLimits.maxNameLength else {
            throw ZoneConfigError(reason: "bad domain name '\(name)': longer than 255 octets")
        }
        return (wire, labels)
    }
}

/// One listing class in wire-ready form.
struct EncodedListing: Sendable {
    let code: UInt8
    let text: [UInt8]
}

/// ASCII-only lowercase, as DNS names compare (RFC 4343).
@inline(__always)
func asciiLowercase(_ byte: UInt8) -> UInt8 {
    byte &- 0x41 < 26 ? byte | 0x20 : byte  // wraps for bytes below 'A', which then fail the test
}
