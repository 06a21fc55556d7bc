// PolicyTestSupport.swift -- a responder with rate limiting or client policy, on clocks the test moves.

@testable import DNSBL
import DNSTestSupport
import Synchronization

/// Wall-clock seconds and monotonic microseconds that only the test advances.
final class ManualClocks: Sendable {
    let seconds = Atomic<UInt32>(1_000_000)
    let microseconds = Atomic<UInt64>(5_000_000)

    func advance(microseconds delta: UInt64) {
        microseconds.wrappingAdd(delta, ordering: .relaxed)
    }

    func advance(days: UInt32) {
        seconds.wrappingAdd(days * 86400, ordering: .relaxed)
    }
}

/// One serving session (a UDP thread or a TCP connection) of a responder with policies.
final class PolicySession {
    let responder: Responder
    let clocks: ManualClocks
    var session: Responder.Session

    init(rateLimit: RateLimitConfiguration? = nil, clients: ClientPolicyConfiguration? = nil,
         clocks: ManualClocks = ManualClocks(), statistics: QueryStatistics = QueryStatistics()) {
        let store = TestZone.makeStore().1
        responder = Responder(
            store: store, clock: { clocks.seconds.load(ordering: .relaxed) }, statistics: statistics,
            rateLimiter: rateLimit.flatMap { ResponseRateLimiter($0, seed: 7) },
            clientPolicy: clients.flatMap { ClientPolicy($0, seed: 7) },
            monotonicClock: { clocks.microseconds.load(ordering: .relaxed) })
        self.clocks = clocks
        session = responder.makeSession()
    }

    /// Another session of the same responder (another thread or connection).
    convenience init(sharing other: PolicySession) {
        self.init(responder: other.responder, clocks: other.clocks)
    }

    init(responder: Responder, clocks: ManualClocks) {
        self.responder = responder
        self.clocks = clocks
        session = responder.makeSession()
    }

    /// Sends `query` from `client` as its own batch (or, with `newBatch` false, in the batch
    /// begun last, with that batch's clock readings); nil when no reply is sent.
    func ask(_ query: [UInt8], from client: ClientAddress, transport: Transport = .udp, newBatch: Bool = true) -> [UInt8]? {
        if newBatch { responder.beginBatch(&session) }
        var output = [UInt8](repeating: 0, count: 65535)
        let count = query.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                responder.respond(to: input, into: out, transport: transport, client: client, session: &session)
            }
        }
        return count == 0 ? nil : Array(output[0..<count])
    }
}

/// An IPv4 client address from dotted text.
func client4(_ text: String) -> ClientAddress { .v4(TestZone.ip4(text)) }

/// An IPv6 client address from its eight groups.
func client6(_ groups: [UInt16]) -> ClientAddress {
    .v6(groups.reduce(UInt128(0)) { $0 << 16 | UInt128($1) })
}
