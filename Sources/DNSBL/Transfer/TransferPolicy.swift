// TransferPolicy.swift -- who may transfer which zone, with which key, and whom to notify.

import Glibc

/// A client network of a transfer access list: an IPv4 or IPv6 prefix.
public struct TransferNetwork: Hashable, Sendable, CustomStringConvertible {
    public let isIPv6: Bool
    /// The first address, as a 128-bit integer (IPv4 in the low 32 bits).
    public let address: UInt128
    public let length: Int

    /// Parses `ADDRESS` or `ADDRESS/LENGTH` (numeric IPv4 or IPv6).
    ///
    /// - Throws: ``TransferPolicyError`` quoting `text`.
    public init(parsing text: String) throws(TransferPolicyError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let host = String(parts[0])
        // Network-order bytes straight from inet_pton (the in_addr structs' members are
        // not visible to every build of this module).
        var bytes = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, host, &bytes) == 1 {
            isIPv6 = false
            address = bytes[0..<4].reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
        } else if inet_pton(AF_INET6, host, &bytes) == 1 {
            isIPv6 = true
            address = bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
        } else {
            throw TransferPolicyError("'\(text)': not a numeric IPv4 or IPv6 address or network")
        }
        let bits = isIPv6 ? 128 : 32
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length), parts[1].allSatisfy(\.isNumber) else {
                throw TransferPolicyError("'\(text)': prefix length must be a number from 0 to \(bits)")
            }
            self.length = length
        } else {
            length = bits
        }
        let hostBits = bits - length
        let mask: UInt128 = hostBits == 0 ? 0 : (UInt128(1) << UInt128(hostBits)) - 1
        guard address & mask == 0 else {
            throw TransferPolicyError("'\(text)': host bits are set (the network is \(Self.text(address & ~mask, isIPv6: isIPv6))/\(length))")
        }
    }

    /// Whether the client address (IPv4 in the low 32 bits) lies in this network. An
    /// IPv4-mapped IPv6 client (::ffff:a.b.c.d) is its IPv4 address.
    public func contains(_ client: UInt128, isIPv6 clientIsIPv6: Bool) -> Bool {
        var client = client
        var clientV6 = clientIsIPv6
        if clientV6, client >> 32 == 0xFFFF { client &= 0xFFFF_FFFF; clientV6 = false }
        guard clientV6 == isIPv6 else { return false }
        let bits = isIPv6 ? 128 : 32
        guard length > 0 else { return true }
        return client >> UInt128(bits - length) == address >> UInt128(bits - length)
    }

    public var description: String { "\(Self.text(address, isIPv6: isIPv6))/\(length)" }

    private static func text(_ address: UInt128, isIPv6: Bool) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let count = isIPv6 ? 16 : 4
        let raw = (0..<count).map { UInt8(truncatingIfNeeded: address >> UInt128(8 * (count - 1 - $0))) }
        inet_ntop(isIPv6 ? AF_INET6 : AF_INET, raw, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A shared secret for TSIG (RFC 8945), HMAC-SHA256.
///
/// The secret never appears in `description` (nor therefore in logs).
public struct TSIGKey: Hashable, Sendable, CustomStringConvertible {
    /// The key name, lowercase, without the trailing dot.
    public let name: String
    /// The key name in canonical wire form (RFC 4034 §6.2: lowercase, uncompressed).
    let wireName: [UInt8]
    let secret: [UInt8]

    /// The one algorithm offered, by its RFC 8945 §6 name.
    public static let algorithmName = "hmac-sha256"
    static let algorithmWireName: [UInt8] = [11] + Array("hmac-sha256".utf8) + [0]

    /// - Throws: ``TransferPolicyError`` when the name is not a domain name or the secret is empty.
    public init(name: String, secret: [UInt8]) throws(TransferPolicyError) {
        var lowered = name.lowercased()
        while lowered.hasSuffix(".") { lowered.removeLast() }
        guard !secret.isEmpty else { throw TransferPolicyError("TSIG key \(lowered): the secret is empty") }
        do {
            wireName = try EncodedZone.encodeName(lowered).wire
        } catch {
            throw TransferPolicyError("TSIG key '\(name)': \(error.reason)")
        }
        self.name = lowered
        self.secret = secret
    }

    public var description: String { "\(name) (\(Self.algorithmName))" }
}

/// How one zone may be transferred.
public struct ZoneTransferRule: Hashable, Sendable {
    /// Client networks allowed; empty: any address, which is accepted only with a key.
    public var allow: [TransferNetwork]
    /// The TSIG key every request must be signed with; nil: none needed.
    public var key: String?
    /// Secondaries told of each change (RFC 1996).
    public var notify: [ListenAddress]

    public init(allow: [TransferNetwork] = [], key: String? = nil, notify: [ListenAddress] = []) {
        self.allow = allow
        self.key = key
        self.notify = notify
    }
}

/// Which zones are offered for transfer and the keys that sign requests.
///
/// A zone without a rule is never transferred, whoever asks and with whatever key.
public struct TransferPolicy: Hashable, Sendable {
    /// Rules by zone name (lowercase, no trailing dot).
    public var zones: [String: ZoneTransferRule]
    /// Keys by name.
    public var keys: [String: TSIGKey]

    /// - Throws: ``TransferPolicyError`` when a rule names an unknown key, or allows any
    ///   address without a key.
    public init(zones: [String: ZoneTransferRule] = [:], keys: [TSIGKey] = []) throws(TransferPolicyError) {
        var byName: [String: TSIGKey] = [:]
        for key in keys { byName[key.name] = key }
        var normalized: [String: ZoneTransferRule] = [:]
        for (zone, rule) in zones {
            var name = zone.lowercased()
            while name.hasSuffix(".") { name.removeLast() }
            var rule = rule
            if let key = rule.key {
                var keyName = key.lowercased()
                while keyName.hasSuffix(".") { keyName.removeLast() }
                guard byName[keyName] != nil else {
                    throw TransferPolicyError("zone \(name): transfer key '\(key)' is not among the keys")
                }
                rule.key = keyName
            } else if rule.allow.isEmpty {
                throw TransferPolicyError("zone \(name): transfers need an allow list, a key, or both")
            }
            normalized[name] = rule
        }
        self.zones = normalized
        self.keys = byName
    }

    /// No zone is transferred.
    public static let none = try! TransferPolicy()  // no rules: cannot fail

    public var isEmpty: Bool { zones.isEmpty }
}

/// A transfer policy that cannot be used; the reason names the value.
public struct TransferPolicyError: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
