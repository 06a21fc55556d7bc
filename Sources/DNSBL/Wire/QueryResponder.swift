// QueryResponder.swift -- the contract between the serving loops and the zone logic.

/// How a query arrived; it decides the response size limit (RFC 1035 §4.2, RFC 7766).
public enum Transport: Sendable {
    case udp
    case tcp
}

/// Turns one query packet into one response packet, without allocating.
///
/// A serving thread (or TCP connection) makes one `Session` and reuses it. Before each
/// batch of datagrams it calls `beginBatch`, where an implementation picks up newly
/// published state (a snapshot) and the time; `respond` then works from the session only,
/// so no lock is taken per query.
///
/// - Important: `respond` must never trap, throw, log or block, whatever the bytes.
public protocol QueryResponder: Sendable {
    associatedtype Session

    func makeSession() -> Session

    /// Called once before each batch of queries (UDP) or each query (TCP).
    func beginBatch(_ session: inout Session)

    /// Writes the response into `response` and returns its length; 0 means drop.
    ///
    /// `response` is at least 65,535 bytes for TCP and at least 4,096 bytes for UDP; the
    /// responder itself limits UDP answers to the client's advertised size. `client` is the
    /// query's source address (nil when unknown): rate limits and client policy key on it.
    func respond(
        to query: UnsafeRawBufferPointer,
        into response: UnsafeMutableRawBufferPointer,
        transport: Transport,
        client: ClientAddress?,
        session: inout Session
    ) -> Int
}

extension QueryResponder {
    /// Answers a query whose source is unknown: no rate limit or client policy applies.
    @inline(__always)
    public func respond(
        to query: UnsafeRawBufferPointer,
        into response: UnsafeMutableRawBufferPointer,
        transport: Transport,
        session: inout Session
    ) -> Int {
        respond(to: query, into: response, transport: transport, client: nil, session: &session)
    }
}
