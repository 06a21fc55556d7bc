// IPPrefix+Mail.swift -- client addresses as mail headers write them, and which can be a source.

import Store

extension IPPrefix {
    /// The longest address text a mail header plausibly holds (IPv6 with an `IPv6:` tag, an
    /// IPv4 tail and a zone index stays well below it).
    static let maxMailAddressByteCount = 64

    /// A client address as mail software writes it, as a host prefix: dotted-quad IPv4, or
    /// IPv6 with an optional `IPv6:` tag (RFC 5321 §4.1.3) and zone index (`%eth0`, dropped).
    /// IPv4-mapped IPv6 (`::ffff:a.b.c.d`, as Courier writes IPv4 clients) comes back as
    /// IPv4, so trust checks and the reported source agree whichever form a hop used.
    static func mailAddress(_ text: ArraySlice<UInt8>) -> IPPrefix? {
        guard !text.isEmpty, text.count <= maxMailAddressByteCount else { return nil }
        var body = text
        if body.count > ipv6Tag.count, ASCII.equalsIgnoringCase(body.prefix(ipv6Tag.count), ipv6Tag) {
            body = body.dropFirst(ipv6Tag.count)
        }
        if let percent = body.firstIndex(of: UInt8(ascii: "%")) { body = body[..<percent] }
        return IPPrefix(address: body)?.unmapped
    }

    private static let ipv6Tag: [UInt8] = Array("ipv6:".utf8)

    /// Whether the address can never be a public mail source (RFC 6890 special-purpose
    /// ranges that are not globally reachable: this-network, private, shared CGN, loopback,
    /// link-local, multicast, reserved; unspecified, loopback, ULA, link-local and multicast
    /// IPv6). Documentation ranges (RFC 5737, RFC 3849) are not included: test data uses
    /// them as stand-ins for public hosts. The store's never-list is the wider, configurable
    /// rule for what scoring lists; this one decides only what attribution may name.
    var isNonPublic: Bool {
        Self.nonPublicRanges.contains { $0.contains(self) }
    }

    private static let nonPublicRanges: [IPPrefix] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/3",
        "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
    ].map { IPPrefix($0)! }
}
