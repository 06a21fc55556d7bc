// ListenAddress.swift -- a numeric IP address and port to serve on ("HOST:PORT", "[V6]:PORT").

import Glibc

/// An address the DNS server listens on: a numeric IPv4 or IPv6 address and a port.
///
/// Names are not resolved: a DNS server that needs DNS to find its own address cannot
/// start when resolution is broken. Port 0 asks the kernel for a free port (tests); the
/// servers report the port they bound.
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address family.
    public enum Family: Hashable, Sendable {
        case ipv4
        case ipv6
    }

    /// The address in its canonical text form (`127.0.0.1`, `::1`), without brackets.
    public let host: String
    public let port: UInt16
    public let family: Family

    /// Makes an address from a numeric host and a port.
    ///
    /// - Throws: `ServerError` with code `.invalidAddress` when `host` is not a numeric
    ///   IPv4 or IPv6 address.
    public init(host: String, port: UInt16) throws(ServerError) {
        if let canonical = Self.canonical(host, family: AF_INET) {
            self.host = canonical
            family = .ipv4
        } else if let canonical = Self.canonical(host, family: AF_INET6) {
            self.host = canonical
            family = .ipv6
        } else {
            throw ServerError(.invalidAddress, "'\(host)': not a numeric IPv4 or IPv6 address")
        }
        self.port = port
    }

    /// Parses `HOST:PORT` (IPv4) or `[HOST]:PORT` (IPv6), as given to `--listen`.
    ///
    /// - Throws: `ServerError` with code `.invalidAddress`; the reason quotes `text`.
    public init(parsing text: String) throws(ServerError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw ServerError(.invalidAddress, "'\(text)': missing ']' after the IPv6 address")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else {
                throw ServerError(.invalidAddress, "'\(text)': expected ':PORT' after ']'")
            }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ServerError(.invalidAddress, "'\(text)': expected HOST:PORT or [IPV6]:PORT")
            }
            host = text[..<colon]
            if host.contains(":") {
                throw ServerError(.invalidAddress, "'\(text)': write IPv6 addresses in brackets, as [::1]:53")
            }
            portText = text[text.index(after: colon)...]
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = UInt16(portText)
        else {
            throw ServerError(.invalidAddress, "'\(text)': port must be a number from 0 to 65535")
        }
        do {
            try self.init(host: String(host), port: port)
        } catch {
            throw ServerError(.invalidAddress, "'\(text)': '\(host)' is not a numeric IPv4 or IPv6 address")
        }
        if text.hasPrefix("[") && family != .ipv6 {
            throw ServerError(.invalidAddress, "'\(text)': brackets are for IPv6 addresses only")
        }
    }

    /// True for `0.0.0.0` and `::`, where replies must be sent from the query's
    /// destination address (IP_PKTINFO / IPV6_PKTINFO).
    public var isWildcard: Bool { host == "0.0.0.0" || host == "::" }

    /// The same address with another port (used to report the port the kernel chose).
    public func with(port: UInt16) -> ListenAddress {
        ListenAddress(trustedHost: host, port: port, family: family)
    }

    public var description: String {
        family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private init(trustedHost: String, port: UInt16, family: Family) {
        host = trustedHost
        self.port = port
        self.family = family
    }

    /// Round-trips `text` through inet_pton/inet_ntop, or nil if it is not an address of `family`.
    private static func canonical(_ text: String, family: Int32) -> String? {
        var storage = in6_addr()   // 16 bytes: large enough for either family
        guard inet_pton(family, text, &storage) == 1 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, &storage, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
