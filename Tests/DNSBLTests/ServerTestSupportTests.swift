// ServerTestSupportTests.swift -- an echo responder and blocking loopback clients for the server tests.

import DNSBL
import Glibc
import Synchronization
import Testing

/// Echoes each query with QR set; drops queries whose first byte is 0xFF.
final class EchoResponder: QueryResponder {
    struct Session {
        var batches = 0
    }

    /// `beginBatch` calls, over all sessions.
    let batches = Atomic<Int>(0)
    /// Sessions made (one per UDP thread or TCP connection).
    let sessions = Atomic<Int>(0)
    /// The threads that answered.
    let answeringThreads = Mutex<Set<pthread_t>>([])

    func makeSession() -> Session {
        sessions.wrappingAdd(1, ordering: .relaxed)
        return Session()
    }

    func beginBatch(_ session: inout Session) {
        session.batches += 1
        batches.wrappingAdd(1, ordering: .relaxed)
    }

    func respond(
        to query: UnsafeRawBufferPointer, into response: UnsafeMutableRawBufferPointer,
        transport: Transport, client: ClientAddress?, session: inout Session
    ) -> Int {
        guard query.count >= 3, query[0] != 0xFF, query.count <= response.count else { return 0 }
        response.copyMemory(from: query)
        response[2] |= 0x80
        let thread = pthread_self()
        answeringThreads.withLock { _ = $0.insert(thread) }
        return query.count
    }
}

/// A 12-byte DNS header with `id`, followed by `extra` bytes of payload.
func testQuery(id: UInt16, extra: Int = 0) -> [UInt8] {
    [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0x41, count: extra)
}

func queryID(_ packet: [UInt8]) -> UInt16 {
    UInt16(packet[0]) << 8 | UInt16(packet[1])
}

/// Calls `body` with a sockaddr for `address`.
func withSocketAddress<T>(_ address: ListenAddress, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
    var storage = sockaddr_storage()
    let length: socklen_t = withUnsafeMutableBytes(of: &storage) { raw in
        if address.family == .ipv4 {
            let sin = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
            sin.pointee.sin_family = sa_family_t(AF_INET)
            sin.pointee.sin_port = address.port.bigEndian
            _ = inet_pton(AF_INET, address.host, &sin.pointee.sin_addr)
            return socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        let sin6 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
        sin6.pointee.sin6_family = sa_family_t(AF_INET6)
        sin6.pointee.sin6_port = address.port.bigEndian
        _ = inet_pton(AF_INET6, address.host, &sin6.pointee.sin6_addr)
        return socklen_t(MemoryLayout<sockaddr_in6>.size)
    }
    return withUnsafePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
    }
}

/// Opens a socket of `address`'s family with a receive timeout.
func openClientSocket(_ address: ListenAddress, type: Int32, timeoutSeconds: Int = 5) -> Int32 {
    let fd = socket(address.family == .ipv4 ? AF_INET : AF_INET6, type, 0)
    precondition(fd >= 0, "socket failed")
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
}

/// A blocking UDP client on loopback.
final class UDPTestClient {
    let fd: Int32

    init(for address: ListenAddress, timeoutSeconds: Int = 5) {
        fd = openClientSocket(address, type: Int32(SOCK_DGRAM.rawValue), timeoutSeconds: timeoutSeconds)
        var size: Int32 = 4 << 20
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8], to address: ListenAddress) {
        let sent = withSocketAddress(address) { sa, length in
            bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, sa, length) }
        }
        precondition(sent == bytes.count, "sendto failed: \(String(cString: strerror(errno)))")
    }

    /// The next datagram and the text form of its source address, or nil after the timeout.
    func receive() -> (bytes: [UInt8], from: String)? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var peer = sockaddr_storage()
        var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let count = withUnsafeMutablePointer(to: &peer) { peerPointer in
            peerPointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                buffer.withUnsafeMutableBytes { recvfrom(fd, $0.baseAddress, $0.count, 0, sa, &peerLength) }
            }
        }
        guard count >= 0 else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        withUnsafeMutableBytes(of: &peer) { raw in
            if raw.load(as: sa_family_t.self) == sa_family_t(AF_INET) {
                let sin = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
                _ = inet_ntop(AF_INET, &sin.pointee.sin_addr, &text, socklen_t(text.count))
            } else {
                let sin6 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                _ = inet_ntop(AF_INET6, &sin6.pointee.sin6_addr, &text, socklen_t(text.count))
            }
        }
        let from = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (Array(buffer[..<count]), from)
    }
}

/// A blocking TCP client on loopback.
final class TCPTestClient {
    private(set) var fd: Int32

    init?(connectingTo address: ListenAddress, timeoutSeconds: Int = 5) {
        fd = openClientSocket(address, type: Int32(SOCK_STREAM.rawValue), timeoutSeconds: timeoutSeconds)
        let result = withSocketAddress(address) { connect(fd, $0, $1) }
        if result != 0 {
            disconnect()
            return nil
        }
    }

    deinit { disconnect() }

    /// Closes the socket now (once: a second close could hit another test's descriptor).
    func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }     // the server closed: later reads report it
            offset += sent
        }
    }

    /// Frames a DNS message with its two-byte length (RFC 1035 §4.2.2).
    static func framed(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }

    /// Reads exactly `count` bytes; nil on EOF, error or timeout.
    func read(count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let got = buffer[offset...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard got > 0 else { return nil }
            offset += got
        }
        return buffer
    }

    /// Reads one length-prefixed message; nil on EOF or timeout.
    func readFrame() -> [UInt8]? {
        guard let prefix = read(count: 2) else { return nil }
        return read(count: Int(prefix[0]) << 8 | Int(prefix[1]))
    }

    /// True when the server closed the connection (EOF or reset) before the timeout.
    func waitForClose() -> Bool {
        var byte: UInt8 = 0
        while true {
            let got = recv(fd, &byte, 1, 0)
            if got == 0 { return true }
            if got < 0 { return errno == ECONNRESET }
        }
    }
}

/// Polls `condition` every 10 ms for up to `seconds`: a bound for a loaded CI machine (the
/// whole suite in parallel on two cores), not a timing claim; it returns as soon as it holds.
func eventually(seconds: Double = 30, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

let loopback4 = try! ListenAddress(parsing: "127.0.0.1:0")
let loopback6 = try! ListenAddress(parsing: "[::1]:0")
