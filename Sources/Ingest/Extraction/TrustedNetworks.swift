// TrustedNetworks.swift -- the CIDR blocks whose hops are the trap's own infrastructure.

/// Networks whose `Received` hops are trusted (the trap's MX and internal relays).
///
/// `127.0.0.0/8` and `::1` are always trusted (DESIGN.md, ingest contract). IPv4-mapped
/// IPv6 prefixes (`::ffff:10.0.0.0/104`) are folded into IPv4 ones, as addresses are.
public struct TrustedNetworks: Hashable, Sendable, CustomStringConvertible {
    struct Block: Hashable, Sendable {
        var address: [UInt8]     // 4 or 16 bytes, host bits cleared
        var prefixLength: Int

        func contains(_ candidate: [UInt8]) -> Bool {
            guard candidate.count == address.count else { return false }
            var remaining = prefixLength
            var index = 0
            while remaining >= 8 {
                if candidate[index] != address[index] { return false }
                remaining -= 8
                index += 1
            }
            if remaining > 0 {
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - remaining))
                if candidate[index] & mask != address[index] { return false }
            }
            return true
        }
    }

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

    private(set) var blocks: [Block]
    /// Non-public networks attributed as sources all the same (see `attributeAsPublic`).
    private(set) var publicBlocks: [Block] = []

    /// Only the always-trusted loopback networks.
    public init() {
        blocks = [Block(address: [127, 0, 0, 0], prefixLength: 8),
                  Block(address: [UInt8](repeating: 0, count: 15) + [1], prefixLength: 128)]
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

    private static func block(parsing entry: String) throws(ParseError) -> Block {
        let parts = entry.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let addressText = parts[0]
        guard let parsed = SourceAddress(Array(addressText.utf8)) else {
            throw ParseError(.notAnAddress, entry: entry, "not an IPv4 or IPv6 address")
        }
        // The raw width decides the prefix scale (a mapped /104 is a v4 /8).
        let rawIsIPv6 = addressText.contains(":")
        let rawWidth = rawIsIPv6 ? 128 : 32
        var length = rawWidth
        if parts.count == 2 {
            guard let value = Int(parts[1]), value >= 0, value <= rawWidth else {
                throw ParseError(.badPrefixLength, entry: entry, "prefix length must be 0...\(rawWidth)")
            }
            length = value
        }
        if rawIsIPv6 && parsed.isIPv4 {
            guard length >= 96 else {
                throw ParseError(.badPrefixLength, entry: entry, "an IPv4-mapped prefix must be /96 or longer")
            }
            length -= 96
        }
        var address = parsed.bytes
        var bit = length
        for index in address.indices {
            if bit >= 8 { bit -= 8; continue }
            address[index] &= UInt8(truncatingIfNeeded: 0xFF << (8 - bit))
            bit = 0
        }
        return Block(address: address, prefixLength: length)
    }

    /// Whether `address` lies in a trusted block.
    func contains(_ address: SourceAddress) -> Bool {
        blocks.contains { $0.contains(address.bytes) }
    }

    /// Whether `address` may be a source: public, or in a block given to `attributeAsPublic`.
    func mayBeSource(_ address: SourceAddress) -> Bool {
        !address.isNonPublic || publicBlocks.contains { $0.contains(address.bytes) }
    }

    /// Whether the textual `address` lies in a trusted block (false when it does not parse).
    public func contains(address text: String) -> Bool {
        SourceAddress(text).map(contains) ?? false
    }

    public var description: String {
        blocks.map { "\(SourceAddress(bytes: $0.address)!)/\($0.prefixLength)" }.joined(separator: ",")
    }
}
