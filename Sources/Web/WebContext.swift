// WebContext.swift -- per-request context: the peer, and the client once the guard has worked it out.

public import Hummingbird
public import NIOCore
public import Store

/// Hummingbird's request context plus who is asking.
public struct WebContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer.
    public let remoteAddress: SocketAddress?
    /// The client (the peer, or whom a trusted proxy names), set by ``RequestGuard``.
    public var client: IPPrefix?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's address; `0.0.0.0` for a peer that is not an IP socket (never the case
    /// for a TCP listener, but a value keeps every later step total).
    var peer: IPPrefix {
        guard let text = remoteAddress?.ipAddress, let address = IPPrefix(address: text.utf8) else {
            return IPPrefix("0.0.0.0")!
        }
        return address.unmapped
    }
}
