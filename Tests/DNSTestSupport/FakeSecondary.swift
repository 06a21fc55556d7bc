// FakeSecondary.swift -- a secondary on loopback that receives NOTIFY (RFC 1996) and answers it.

import CLDNS  // its headers also declare timeval and the socket types this file builds
import Glibc

/// A UDP socket on 127.0.0.1 that plays a secondary: receives NOTIFY, answers if told to.
public final class FakeSecondary {
    let fd: Int32
    public let port: UInt16

    /// Nil when no socket can be bound.
    public init?() {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard descriptor >= 0, bound == 0 else {
            if descriptor >= 0 { close(descriptor) }
            return nil
        }
        fd = descriptor
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }

    /// The next datagram within `seconds`, answered (QR set, NOERROR) when `answer`.
    public func receive(within seconds: Int, answer: Bool) -> [UInt8]? {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = buffer.withUnsafeMutableBytes { bytes in
            withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length) }
            }
        }
        guard count > 0 else { return nil }
        let message = Array(buffer[..<count])
        if answer {
            var reply = Array(message[0..<12])
            reply[2] |= 0x80       // QR
            reply[3] &= 0xF0       // NOERROR
            reply[6] = 0; reply[7] = 0; reply[10] = 0; reply[11] = 0
            let questionEnd = 12 + (message[12...].firstIndex(of: 0)! - 12) + 1 + 4
            reply += message[12..<questionEnd]
            _ = reply.withUnsafeBytes { bytes in
                withUnsafePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, length) }
                }
            }
        }
        return message
    }
}
