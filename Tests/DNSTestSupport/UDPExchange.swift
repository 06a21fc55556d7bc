// UDPExchange.swift -- one DNS query over UDP on loopback, and its answer.

import CLDNS  // its headers also declare timeval and the socket types this file builds
import Glibc

/// Sends `query` to `host`:`port` over UDP and returns the first datagram that comes back,
/// or nil when none arrives within `timeoutSeconds`.
public func exchangeUDP(_ query: [UInt8], host: String = "127.0.0.1", port: UInt16, timeoutSeconds: Int = 2) -> [UInt8]? {
    let isV6 = host.contains(":")
    let fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var storage = sockaddr_storage()
    let length: socklen_t = withUnsafeMutableBytes(of: &storage) { raw in
        if isV6 {
            let sin6 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
            sin6.pointee.sin6_family = sa_family_t(AF_INET6)
            sin6.pointee.sin6_port = port.bigEndian
            _ = inet_pton(AF_INET6, host, &sin6.pointee.sin6_addr)
            return socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
        let sin = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
        sin.pointee.sin_family = sa_family_t(AF_INET)
        sin.pointee.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, host, &sin.pointee.sin_addr)
        return socklen_t(MemoryLayout<sockaddr_in>.size)
    }
    let sent = withUnsafePointer(to: &storage) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
            query.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, address, length) }
        }
    }
    guard sent == query.count else { return nil }
    var buffer = [UInt8](repeating: 0, count: 65_536)
    let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    return count > 0 ? Array(buffer[..<count]) : nil
}
