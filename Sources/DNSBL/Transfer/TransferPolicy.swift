// TransferPolicy.swift -- who may transfer which zone, with which key, and whom to notify.

import Glibc

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
    public var allow: [ClientNetwork]
    /// The TSIG key every request must be signed with; nil: none needed.
    public var key: String?
    /// Secondaries told of each change (RFC 1996).
    public var notify: [ListenAddress]

    public init(allow: [ClientNetwork] = [], key: String? = nil, notify: [ListenAddress] = []) {
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
