// UDPServer.swift -- DNS over UDP: SO_REUSEPORT sockets, one blocking thread each.

public import Logging
import CUDPBatch
import Glibc
import NIOCore
import Synchronization

/// Serves DNS over UDP (RFC 1035 §4.2.1) with batched, allocation-free loops.
///
/// For each address it opens ``UDPServerConfiguration/socketsPerAddress`` sockets bound
/// to the same port with SO_REUSEPORT, and runs one dedicated OS thread per socket
/// (``UDPLoop``: `recvmmsg`, respond, `sendmmsg`). The kernel hands each datagram to the
/// socket of the CPU that received it, or picks one by flow hash (``UDPSteering``). This
/// is the NSD/Knot design, measured faster here than a NIO `DatagramChannel` (≈ 5 µs vs
/// ≈ 8 µs of server CPU per query; docs/DNS.md, Serving).
///
/// Addresses can be added and removed while it runs (``add(_:)``, ``remove(_:)``); the
/// sockets of the other addresses are not touched.
///
/// ```swift
/// let udp = UDPServer(responder: responder, addresses: [try ListenAddress(parsing: "127.0.0.1:5300")])
/// try udp.start()
/// print(udp.boundAddresses, udp.counters())
/// udp.stop()
/// ```
public final class UDPServer<R: QueryResponder>: Sendable {
    private struct Worker: Sendable {
        let socket: UDPSocket
        let state: UDPWorkerState
        let thread: WorkerThread
    }

    /// The sockets and threads of one address, as asked for and as bound.
    private struct Listener: Sendable {
        let requested: ListenAddress
        let bound: ListenAddress
        let workers: [Worker]
    }

    private enum State: Sendable {
        case idle
        case running([Listener])
        case stopped
    }

    private let responder: R
    private let addresses: [ListenAddress]
    private let configuration: UDPServerConfiguration
    private let logger: Logger
    private let state = Mutex<State>(.idle)
    /// Counters of threads already stopped, so totals survive `stop()`.
    private let retired = Mutex(UDPCounters())

    /// Makes a server; nothing is opened until ``start()``.
    ///
    /// - Parameters:
    ///   - responder: answers each datagram; one `Session` per thread.
    ///   - addresses: IPv4 and IPv6 addresses; port 0 binds a free port (see ``boundAddresses``).
    ///   - configuration: socket count, batch size and buffer sizes.
    ///   - logger: start, stop and setup problems only; never per packet.
    public init(
        responder: R,
        addresses: [ListenAddress],
        configuration: UDPServerConfiguration = UDPServerConfiguration(),
        logger: Logger = Logger(label: "rbld.udp")
    ) {
        self.responder = responder
        self.addresses = addresses
        self.configuration = configuration
        self.logger = logger
    }

    deinit {
        stop()
    }

    /// Binds every address and starts the serving threads.
    ///
    /// Either all sockets bind or none stays open: on failure everything opened so far is
    /// closed again.
    ///
    /// - Throws: `ServerError` naming the address: `.bindFailed` when the port is in use
    ///   (by a socket without SO_REUSEPORT, or by another user) or the address is not local;
    ///   `.socketFailed`, `.threadFailed`; `.alreadyStarted` on a second call.
    public func start() throws(ServerError) {
        let result: Result<Void, ServerError> = state.withLock { state in
            guard case .idle = state else {
                return .failure(ServerError(.alreadyStarted, "UDP server already started"))
            }
            var listeners: [Listener] = []
            do throws(ServerError) {
                for address in addresses { listeners.append(try open(address)) }
            } catch {
                for listener in listeners { Self.shutDown(listener.workers) }
                return .failure(error)
            }
            state = .running(listeners)
            logger.info("UDP server started", metadata: [
                "addresses": "\(listeners.map(\.bound.description).joined(separator: " "))",
                "threads": "\(listeners.reduce(0) { $0 + $1.workers.count })",
            ])
            return .success(())
        }
        try result.get()
    }

    /// Binds one more address while running and starts its threads.
    ///
    /// - Returns: the address as bound (the kernel's port for port 0).
    /// - Throws: `ServerError` naming the address (nothing of it stays open), or
    ///   `.notRunning` unless the server runs.
    @discardableResult
    public func add(_ address: ListenAddress) throws(ServerError) -> ListenAddress {
        let result: Result<ListenAddress, ServerError> = state.withLock { state in
            guard case .running(let listeners) = state else {
                return .failure(ServerError(.notRunning, "UDP server not running: cannot add \(address)"))
            }
            do throws(ServerError) {
                let listener = try open(address)
                state = .running(listeners + [listener])
                logger.info("UDP address added", metadata: ["address": "\(listener.bound)", "threads": "\(listener.workers.count)"])
                return .success(listener.bound)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Stops serving `address` (as given to ``init(responder:addresses:configuration:logger:)``
    /// or ``add(_:)``): its threads finish the batch in hand and its sockets close. The
    /// other addresses are not touched. Nothing happens for an address not served.
    public func remove(_ address: ListenAddress) {
        let removed: [Listener] = state.withLock { state in
            guard case .running(let listeners) = state else { return [] }
            state = .running(listeners.filter { $0.requested != address })
            return listeners.filter { $0.requested == address }
        }
        for listener in removed {
            let final = Self.shutDown(listener.workers)
            retired.withLock { $0 = $0 + final }
            logger.info("UDP address removed", metadata: ["address": "\(listener.bound)"])
        }
    }

    /// Opens the sockets of one address and starts a thread on each; on failure nothing
    /// of it stays open.
    private func open(_ address: ListenAddress) throws(ServerError) -> Listener {
        var workers: [Worker] = []
        // The first socket may get a kernel-chosen port; the others join it.
        var target = address
        do throws(ServerError) {
            for index in 0..<max(1, configuration.socketsPerAddress) {
                let socket = try UDPSocket.open(
                    target,
                    receiveBufferSize: configuration.receiveBufferSize,
                    sendBufferSize: configuration.sendBufferSize,
                    logger: index == 0 ? logger : nil)
                target = socket.address
                do throws(ServerError) {
                    workers.append(try startWorker(on: socket, index: index))
                } catch {
                    socket.close()
                    throw error
                }
            }
        } catch {
            Self.shutDown(workers)
            throw error
        }
        // More sockets than CPUs: by CPU, the extra ones would never be read; they share by hash.
        if configuration.steering == .cpu, workers.count > 1, workers.count <= System.coreCount,
           udp_steer_by_cpu(workers[0].socket.descriptor, UInt32(workers.count)) != 0 {
            logger.warning("UDP steering by CPU refused by the kernel; datagrams go by flow hash", metadata: [
                "address": "\(target)", "error": "\(String(cString: strerror(errno)))"])
        }
        return Listener(requested: address, bound: target, workers: workers)
    }

    /// The addresses as bound, with the kernel-chosen ports; empty unless running.
    public var boundAddresses: [ListenAddress] {
        state.withLock { state in
            if case .running(let listeners) = state { return listeners.map(\.bound) }
            return []
        }
    }

    /// `address` (as given) as bound, while it is served.
    public func boundAddress(for address: ListenAddress) -> ListenAddress? {
        state.withLock { state in
            guard case .running(let listeners) = state else { return nil }
            return listeners.first { $0.requested == address }?.bound
        }
    }

    /// The sum of all threads' counters, including threads already stopped.
    public func counters() -> UDPCounters {
        let live = state.withLock { state -> UDPCounters in
            guard case .running(let listeners) = state else { return UDPCounters() }
            return listeners.lazy.flatMap(\.workers).reduce(UDPCounters()) { $0 + $1.state.counters }
        }
        return live + retired.withLock { $0 }
    }

    /// Stops every thread and closes the sockets.
    ///
    /// Returns once all threads have exited: each notices the stop flag within its receive
    /// timeout (200 ms) plus the batch in hand. Safe to call more than once.
    public func stop() {
        let workers: [Worker] = state.withLock { state in
            defer { if case .running = state { state = .stopped } }
            if case .running(let listeners) = state { return listeners.flatMap(\.workers) }
            return []
        }
        guard !workers.isEmpty else { return }
        let final = Self.shutDown(workers)
        retired.withLock { $0 = $0 + final }
        logger.info("UDP server stopped", metadata: [
            "received": "\(final.received)", "answered": "\(final.answered)",
            "dropped": "\(final.dropped)", "truncated": "\(final.truncated)",
            "send_errors": "\(final.sendErrors)",
        ])
    }

    private func startWorker(on socket: UDPSocket, index: Int) throws(ServerError) -> Worker {
        let workerState = UDPWorkerState()
        let loop = UDPLoop(
            socket: socket, responder: responder, state: workerState,
            batchSize: max(1, configuration.batchSize),
            queryCapacity: max(512, configuration.queryCapacity),
            replyCapacity: max(4096, configuration.replyCapacity))
        let thread = try WorkerThread(name: "rbld-udp-\(index)") { loop.run() }
        return Worker(socket: socket, state: workerState, thread: thread)
    }

    /// Flags, joins, then closes: a descriptor is closed only after its reader has exited,
    /// so a recycled descriptor number is never read by a stale thread.
    @discardableResult
    private static func shutDown(_ workers: [Worker]) -> UDPCounters {
        for worker in workers { worker.state.stopRequested.store(true, ordering: .relaxed) }
        var total = UDPCounters()
        for worker in workers {
            worker.thread.join()
            worker.socket.close()
            total = total + worker.state.counters
        }
        return total
    }
}
