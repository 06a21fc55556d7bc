// UDPSocket.swift -- opening and configuring one SO_REUSEPORT datagram socket.

import CUDPBatch
import Glibc
import Logging

/// One bound UDP socket (a file descriptor) of a ``UDPServer``.
struct UDPSocket: Sendable {
    let descriptor: Int32
    /// The bound address, with the kernel's port when port 0 was asked for.
    let address: ListenAddress

    /// How long `recvmmsg` blocks before the loop rechecks its stop flag (SO_RCVTIMEO).
    static let receiveTimeoutMilliseconds = 200

    /// Opens, configures and binds a socket on `address`.
    ///
    /// Options: SO_REUSEPORT (several sockets, one per thread, share the port and the
    /// kernel spreads flows over them), IPV6_V6ONLY on IPv6 (so `0.0.0.0` and `::` can both
    /// be bound), larger SO_RCVBUF/SO_SNDBUF (bursts overflow the default 208 KiB),
    /// SO_RCVTIMEO (so `stop()` is noticed), and pktinfo on wildcard addresses.
    ///
    /// - Parameter logger: where to report capped buffer sizes; nil to stay quiet (the
    ///   second and later sockets of one address would only repeat the first one's notice).
    /// - Throws: `ServerError` naming `address`: `.socketFailed` or `.bindFailed`.
    static func open(
        _ address: ListenAddress,
        receiveBufferSize: Int,
        sendBufferSize: Int,
        logger: Logger?
    ) throws(ServerError) -> UDPSocket {
        let domain = address.family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(domain, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ServerError(.socketFailed, "UDP \(address): socket: \(lastError())") }
        do throws(ServerError) {
            func require(_ result: Int32, _ what: String) throws(ServerError) {
                if result != 0 { throw ServerError(.socketFailed, "UDP \(address): \(what): \(lastError())") }
            }
            try require(udp_set_reuseport(fd), "SO_REUSEPORT")
            if address.family == .ipv6 {
                try require(setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1), "IPV6_V6ONLY")
            }
            if address.isWildcard {
                try require(udp_enable_pktinfo(fd, domain), "IP_PKTINFO/IPV6_RECVPKTINFO")
            }
            var timeout = timeval(tv_sec: 0, tv_usec: receiveTimeoutMilliseconds * 1000)
            try require(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size)),
                        "SO_RCVTIMEO")
            raiseBuffer(fd, SO_RCVBUF, force: SO_RCVBUFFORCE, to: receiveBufferSize, "SO_RCVBUF", address, logger)
            raiseBuffer(fd, SO_SNDBUF, force: SO_SNDBUFFORCE, to: sendBufferSize, "SO_SNDBUF", address, logger)

            let bound = try bind(fd, address)
            return UDPSocket(descriptor: fd, address: bound)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// Closes the descriptor; only after the thread that reads it has been joined.
    func close() {
        _ = Glibc.close(descriptor)
    }

    /// Binds `fd` and returns the address with the bound port.
    static func bind(_ fd: Int32, _ address: ListenAddress) throws(ServerError) -> ListenAddress {
        var storage = sockaddr_storage()
        let length = udp_make_sockaddr(address.family == .ipv4 ? AF_INET : AF_INET6,
                                        address.host, address.port, &storage)
        let result = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
        }
        guard length > 0, result == 0 else { throw ServerError(.bindFailed, "UDP \(address): bind: \(lastError())") }
        let port = udp_bound_port(fd)
        guard port >= 0 else { throw ServerError(.socketFailed, "UDP \(address): getsockname: \(lastError())") }
        return address.with(port: UInt16(port))
    }

    /// Sets a buffer size, best effort: SO_*BUFFORCE when privileged, else the plain option,
    /// which the kernel caps at net.core.{r,w}mem_max. Logs when the result is smaller.
    private static func raiseBuffer(
        _ fd: Int32, _ option: Int32, force: Int32, to size: Int, _ name: String,
        _ address: ListenAddress, _ logger: Logger?
    ) {
        if setOption(fd, SOL_SOCKET, force, Int32(clamping: size)) != 0 {
            _ = setOption(fd, SOL_SOCKET, option, Int32(clamping: size))
        }
        var actual: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, option, &actual, &length)
        // Linux reports twice the requested value (it reserves room for bookkeeping).
        if Int(actual) / 2 < size, let logger {
            logger.notice("socket buffer capped by the kernel", metadata: [
                "address": "\(address)", "option": "\(name)",
                "requested": "\(size)", "granted": "\(actual / 2)",
            ])
        }
    }

    private static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Int32 {
        var value = value
        return setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }
}

/// The text of the current `errno`.
func lastError() -> String {
    String(cString: strerror(errno))
}
