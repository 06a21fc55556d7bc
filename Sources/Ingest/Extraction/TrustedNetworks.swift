// TrustedNetworks.swift -- the CIDR blocks whose hops are the trap's own infrastructure.

import Store

/// Networks whose `Received` hops are trusted (the trap's MX and internal relays).
///
/// `127.0.0.0/8` and `::1` are always trusted (docs/ARCHITECTURE.md, attribution). IPv4-mapped
/// IPv6 prefixes (`::ffff:10.0.0.0/104`) are folded into IPv4 ones, as addresses are.
public struct TrustedNetworks: Hashable, Sendable, CustomStringConvertible {
    /// A malformed `--trusted-networks` entry: a `code` to switch on, a `reason` naming the
    /// entry, and where it was raised; equal when the codes are (swift-asn1's error shape).
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public enum Code: String, Hashable, Sendable {
            /// The part before `/` is not an IPv4 or IPv6 address.
            case notAnAddress
            /// The prefix length is not a number within the address width.
            case badPrefixLength
        }

        public var code: Code
        public var entry: String
        public var reason: String
        public var file: String
        public var line: Int

        init(_ code: Code, entry: String, _ reason: String, file: String = #fileID, line: Int = #line) {
            self.code = code
            self.entry = entry
            self.reason = reason
            self.file = file
            self.line = line
        }

        public static func == (lhs: ParseError, rhs: ParseError) -> Bool { lhs.code == rhs.code }
        public func hash(into hasher: inout Hasher) { hasher.combine(code) }
        public var description: String { "invalid trusted network '\(entry)': \(reason)" }
    }

    private(set) var blocks: [IPPrefix]
    /// Non-public networks attributed as sources all the same (see `attributeAsPublic`).
    private(set) var publicBlocks: [IPPrefix] = []

    /// Only the always-trusted loopback networks.
    public init() {
        blocks = [IPPrefix("127.0.0.0/8")!, IPPrefix("::1")!]
    }

    /// No network at all, not even loopback: for a trap MX that itself receives mail on
    /// loopback (an end-to-end test), where `add` then names every trusted hop.
    public static var nothing: TrustedNetworks {
        var networks = TrustedNetworks()
        networks.blocks = []
        return networks
    }

    /// Parses a comma- (or whitespace-) separated list of CIDRs or single addresses,
    /// e.g. `10.20.0.0/16,2001:db8:ffff::/48,192.0.2.7`.
    /// - Throws: `ParseError` naming the first malformed entry.
    public init(parsing list: String) throws(ParseError) {
        self.init()
        for entry in list.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\n" }) {
            try add(String(entry))
        }
    }

    /// Adds one CIDR (`a.b.c.d/n`, `x::/n`) or single address.
    /// - Throws: `ParseError` when the entry is not an address or the length is out of range.
    public mutating func add(_ entry: String) throws(ParseError) {
        let block = try Self.block(parsing: entry)
        if !blocks.contains(block) { blocks.append(block) }
    }

    /// Attributes hops from `entry` (a CIDR or address) although it is not public: a lab
    /// or loopback test network that the zone's policy makes listable. Other non-public
    /// sources stay unattributable.
    public mutating func attributeAsPublic(_ entry: String) throws(ParseError) {
        let block = try Self.block(parsing: entry)
        if !publicBlocks.contains(block) { publicBlocks.append(block) }
    }

    /// One entry as a prefix: a mapped IPv6 prefix becomes IPv4 (a mapped /104 is a v4 /8),
    /// host bits beyond the length are cleared.
    private static func block(parsing entry: String) throws(ParseError) -> IPPrefix {
        let parts = entry.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let addressText = Array(parts[0].utf8)[...]
        guard let parsed = IPPrefix.mailAddress(addressText) else {
            throw ParseError(.notAnAddress, entry: entry, "not an IPv4 or IPv6 address")
        }
        // The raw width decides the prefix scale (a mapped /104 is a v4 /8).
        let rawIsIPv6 = addressText.contains(UInt8(ascii: ":"))
        let rawWidth = rawIsIPv6 ? 128 : 32
        var length = rawWidth
        if parts.count == 2 {
            guard let value = Int(parts[1]), value >= 0, value <= rawWidth else {
                throw ParseError(.badPrefixLength, entry: entry, "prefix length must be 0...\(rawWidth)")
            }
            length = value
        }
        if rawIsIPv6 && parsed.family == .v4 {
            guard length >= 96 else {
                throw ParseError(.badPrefixLength, entry: entry, "an IPv4-mapped prefix must be /96 or longer")
            }
            length -= 96
        }
        return parsed.truncated(to: length)
    }

    /// Whether `address` lies in a trusted block.
    func contains(_ address: IPPrefix) -> Bool {
        blocks.contains { $0.contains(address) }
    }

    /// Whether `address` may be a source: public, or in a block given to `attributeAsPublic`.
    func mayBeSource(_ address: IPPrefix) -> Bool {
        !address.isNonPublic || publicBlocks.contains { $0.contains(address) }
    }

    /// Whether the textual `address` lies in a trusted block (false when it does not parse).
    public func contains(address text: String) -> Bool {
        IPPrefix.mailAddress(Array(text.utf8)[...]).map(contains) ?? false
    }

    /// The blocks as CIDRs, comma-separated (`127.0.0.0/8,::1/128`).
    public var description: String {
        blocks.map { $0.isHost ? "\($0)/\($0.length)" : "\($0)" }.joined(separator: ",")
    }
}
