// ZoneNotifier.swift -- tells secondaries of zone changes with DNS NOTIFY (RFC 1996), over UDP.

public import Logging
public import NIOCore
import NIOPosix
import Synchronization

/// Sends NOTIFY (RFC 1996) to each zone's configured secondaries when the zone changes,
/// so they ask for the new serial at once instead of at their next SOA refresh.
///
/// - **Coalesced:** at most one round of NOTIFY per zone per second. A change within the
///   second after a round is sent when the second is over, with the serial current then;
///   any number of changes in between make one message.
/// - **Retried** (RFC 1996 §3.6): a secondary that does not answer gets the message again
///   after 2, 4, 8 and 16 s (five tries), unless a newer round replaced it. An answer with
///   an error code (NOTAUTH: the key or address is not accepted) is logged and not retried.
/// - **Signed** with the zone's TSIG key when it has one (RFC 8945), as secondaries that
///   accept NOTIFY only with the key require.
///
/// Each message carries the zone's current SOA in the answer section (§3.7). All state is
/// confined to one event loop: every entry point hops onto it.
public final class ZoneNotifier: @unchecked Sendable {
    /// Tries per secondary and round, and the first retry interval (doubling after each).
    static let maximumTries = 5
    static let firstRetry = TimeAmount.seconds(2)
    static let minimumInterval = TimeAmount.seconds(1)

    private let policy: TransferPolicy
    private let snapshots: SnapshotStore
    private let clock: @Sendable () -> Int64
    private let logger: Logger
    private let loop: any EventLoop
    private var channels: [ListenAddress.Family: any Channel] = [:]

    /// A NOTIFY waiting for its answer.
    private struct Pending {
        var id: UInt16
        var tries: Int
        var serial: UInt32
        var retry: Scheduled<Void>?
    }

    private struct ZoneState {
        var lastRound: NIODeadline?
        var scheduled: Scheduled<Void>?
        var pending: [ListenAddress: Pending] = [:]
    }

    private var zones: [String: ZoneState] = [:]
    private var generator = SystemRandomNumberGenerator()
    /// Rounds sent, and answers received (for tests and logs).
    private var counts = (rounds: 0, answered: 0)
    /// For the metrics, read from any thread.
    private let sentCount = Atomic<Int>(0)
    private let answeredCount = Atomic<Int>(0)
    private let refusedCount = Atomic<Int>(0)
    private let unansweredCount = Atomic<Int>(0)

    public init(policy: TransferPolicy, snapshots: SnapshotStore, clock: @escaping @Sendable () -> Int64,
                group: (any EventLoopGroup)? = nil, logger: Logger = Logger(label: "rbld.notify")) {
        self.policy = policy
        self.snapshots = snapshots
        self.clock = clock
        self.logger = logger
        loop = (group ?? MultiThreadedEventLoopGroup.singleton).next()
    }

    /// Whether any zone has secondaries to notify.
    public static func isNeeded(_ policy: TransferPolicy) -> Bool {
        policy.zones.values.contains { !$0.notify.isEmpty }
    }

    /// Opens a UDP socket per address family the secondaries use (ephemeral ports).
    ///
    /// - Throws: `ServerError` `.bindFailed` when a socket cannot be opened.
    public func start() async throws(ServerError) {
        let families = Set(policy.zones.values.flatMap { $0.notify.map(\.family) })
        for family in families.sorted(by: { $0 == .ipv4 && $1 == .ipv6 }) {
            let host = family == .ipv4 ? "0.0.0.0" : "::"
            do {
                let channel = try await DatagramBootstrap(group: loop)
                    .channelInitializer { [self] channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(AnswerHandler(notifier: self))
                        }
                    }
                    .bind(host: host, port: 0).get()
                let installed: Void = try await loop.submit { [self] in channels[family] = channel }.get()
                _ = installed
            } catch {
                throw ServerError(.bindFailed, "NOTIFY: cannot open a UDP socket on \(host): \(error)")
            }
        }
    }

    /// Closes the sockets and drops what is pending.
    public func stop() async {
        let open: [any Channel] = (try? await loop.submit { [self] in
            for (name, state) in zones {
                state.scheduled?.cancel()
                state.pending.values.forEach { $0.retry?.cancel() }
                zones[name]?.pending = [:]
            }
            defer { channels = [:] }
            return Array(channels.values)
        }.get()) ?? []
        for channel in open { try? await channel.close() }
    }

    /// The zone changed (or was loaded): notify its secondaries, at most once a second.
    public func zoneChanged(_ zone: String) {
        loop.execute { [self] in schedule(zone) }
    }

    /// NOTIFY messages sent (retries included), answered with NOERROR, answered with an
    /// error code (the secondary refused it), and given up unanswered after the last try.
    public func notifyCounts() -> (sent: Int, answered: Int, refused: Int, unanswered: Int) {
        (sentCount.load(ordering: .relaxed), answeredCount.load(ordering: .relaxed),
         refusedCount.load(ordering: .relaxed), unansweredCount.load(ordering: .relaxed))
    }

    /// Rounds sent and answers received so far.
    public func statistics() async -> (rounds: Int, answered: Int) {
        (try? await loop.submit { [self] in counts }.get()) ?? (0, 0)
    }

    // MARK: - On the event loop

    private func schedule(_ zone: String) {
        guard let rule = policy.zones[zone], !rule.notify.isEmpty else { return }
        var state = zones[zone] ?? ZoneState()
        guard state.scheduled == nil else { return }  // the round already planned sends the latest serial
        let now = NIODeadline.now()
        if let last = state.lastRound, now < last + Self.minimumInterval {
            state.scheduled = loop.scheduleTask(deadline: last + Self.minimumInterval) { [self] in
                zones[zone]?.scheduled = nil
                round(zone)
            }
            zones[zone] = state
            return
        }
        zones[zone] = state
        round(zone)
    }

    /// Sends one NOTIFY to every secondary of `zone`, replacing what was pending.
    private func round(_ zone: String) {
        guard let rule = policy.zones[zone], let snapshot = snapshots.load().zone(named: zone) else { return }
        var state = zones[zone] ?? ZoneState()
        state.lastRound = .now()
        counts.rounds += 1
        for target in rule.notify {
            state.pending[target]?.retry?.cancel()
            let id = UInt16.random(in: 0...UInt16.max, using: &generator)
            state.pending[target] = Pending(id: id, tries: 0, serial: snapshot.config.soa.serial, retry: nil)
        }
        zones[zone] = state
        for target in rule.notify { send(zone, to: target) }
    }

    private func send(_ zone: String, to target: ListenAddress) {
        guard var pending = zones[zone]?.pending[target] else { return }
        guard pending.tries < Self.maximumTries else {
            logger.warning("NOTIFY not answered; the secondary will see the change at its next SOA refresh", metadata: [
                "zone": "\(zone)", "secondary": "\(target)", "serial": "\(pending.serial)", "tries": "\(pending.tries)"])
            zones[zone]?.pending[target] = nil
            unansweredCount.add(1, ordering: .relaxed)
            return
        }
        guard let snapshot = snapshots.load().zone(named: zone), let channel = channels[target.family],
              let address = try? SocketAddress(ipAddress: target.host, port: Int(target.port))
        else { return }
        let key = policy.zones[zone]?.key.flatMap { policy.keys[$0] }
        let message = Self.message(id: pending.id, snapshot: snapshot, key: key, now: clock())
        var buffer = channel.allocator.buffer(capacity: message.count)
        buffer.writeBytes(message)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
        sentCount.add(1, ordering: .relaxed)
        let delay = TimeAmount.nanoseconds(Self.firstRetry.nanoseconds << Int64(pending.tries))
        pending.tries += 1
        pending.retry = loop.scheduleTask(in: delay) { [self] in send(zone, to: target) }
        zones[zone]?.pending[target] = pending
        logger.debug("NOTIFY sent", metadata: ["zone": "\(zone)", "secondary": "\(target)", "try": "\(pending.tries)"])
    }

    /// An answer from a secondary: the round for it is done.
    fileprivate func received(_ bytes: [UInt8], from source: SocketAddress) {
        guard bytes.count >= WireLimits.headerSize else { return }
        let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let flags = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        guard flags & 0x8000 != 0, (flags >> 11) & 0xF == Self.opcode else { return }
        for (zone, state) in zones {
            for (target, pending) in state.pending where pending.id == id
                && source.ipAddress.flatMap({ try? ListenAddress(host: $0, port: UInt16(source.port ?? 0)) }) == target {
                pending.retry?.cancel()
                zones[zone]?.pending[target] = nil
                counts.answered += 1
                let rcode = flags & 0xF
                if rcode == 0 {
                    answeredCount.add(1, ordering: .relaxed)
                    logger.info("NOTIFY answered", metadata: ["zone": "\(zone)", "secondary": "\(target)", "serial": "\(pending.serial)"])
                } else {
                    refusedCount.add(1, ordering: .relaxed)
                    logger.warning("NOTIFY refused by the secondary", metadata: [
                        "zone": "\(zone)", "secondary": "\(target)", "rcode": "\(rcode)"])
                }
                return
            }
        }
    }

    // MARK: - The message

    /// RFC 1996 §3.1: the NOTIFY opcode.
    static let opcode: UInt16 = 4

    /// NOTIFY for `snapshot`'s zone: AA, the question `ZONE SOA IN`, the SOA in answer
    /// (RFC 1996 §3.7), signed with `key` when given.
    static func message(id: UInt16, snapshot: ZoneSnapshot, key: TSIGKey?, now: Int64) -> [UInt8] {
        let zone = snapshot.zone
        var bytes: [UInt8] = []
        func u16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(truncatingIfNeeded: value)] }
        u16(id); u16(opcode << 11 | 0x0400); u16(1); u16(1); u16(0); u16(0)
        bytes += zone.wireName
        u16(RRType.soa.rawValue); u16(DNSClass.internet.rawValue)
        u16(0xC000 | UInt16(WireLimits.headerSize)); u16(RRType.soa.rawValue); u16(DNSClass.internet.rawValue)
        let ttl = zone.config.soa.ttl
        u16(UInt16(ttl >> 16)); u16(UInt16(truncatingIfNeeded: ttl))
        u16(UInt16(zone.soaRData.count))
        bytes += zone.soaRData
        guard let key else { return bytes }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count + 512, alignment: 8)
        defer { buffer.deallocate() }
        var writer = ResponseWriter(buffer, limit: buffer.count)
        _ = bytes.withUnsafeBytes { writer.write($0) }
        var signer = TSIGSigner(request: key, originalID: id)
        _ = signer.sign(&writer, now: now)
        return Array(UnsafeRawBufferPointer(rebasing: buffer[0..<writer.offset]))
    }
}

/// Passes the answers that arrive on a NOTIFY socket to the notifier.
private final class AnswerHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let notifier: ZoneNotifier

    init(notifier: ZoneNotifier) { self.notifier = notifier }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        notifier.received(Array(envelope.data.readableBytesView), from: envelope.remoteAddress)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like: the retry timer takes care of it.
    }
}
