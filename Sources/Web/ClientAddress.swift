// ClientAddress.swift -- who is asking: the peer, or the client a trusted proxy names.

public import Store

/// The address a request is attributed to (rate limits, audit, CSRF tokens).
public enum ClientAddress {
    /// The client of a request that arrived from `peer`.
    ///
    /// `X-Forwarded-For` is believed only when `peer` is a trusted proxy: its entries are
    /// read from the right (the one the nearest proxy appended) past further trusted
    /// proxies, and the first other address is the client. An entry that is not an address
    /// stops the walk at the proxy that passed it on, so a forged or garbled header can
    /// only make the proxy itself the client, never someone else.
    ///
    /// - Parameters:
    ///   - forwardedFor: every `X-Forwarded-For` field of the request, in order.
    public static func resolve(peer: IPPrefix, forwardedFor: [String], trustedProxies: [IPPrefix]) -> IPPrefix {
        func trusted(_ address: IPPrefix) -> Bool { trustedProxies.contains { $0.contains(address) } }
        guard trusted(peer), !forwardedFor.isEmpty else { return peer }
        var client = peer
        let entries = forwardedFor.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
        for entry in entries.reversed() {
            let text = entry.trimmingSpaces
            guard text.utf8.count <= 64, let address = IPPrefix(address: text.utf8) else { return client }
            client = address.unmapped
            if !trusted(client) { return client }
        }
        return client
    }

    /// The key a client is rate-limited by: an IPv4 address, or the /64 of an IPv6 one (a
    /// single host commonly has a whole /64 to pick addresses from).
    public static func rateKey(_ client: IPPrefix) -> IPPrefix {
        client.family == .v6 ? client.truncated(to: 64) : client
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
