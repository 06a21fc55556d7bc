// HTTPTestClient.swift -- a plain HTTP/1.1 client over a loopback socket, for sending exactly the bytes a test means.

import Foundation
import Glibc

/// One HTTP answer as received.
struct HTTPAnswer: CustomStringConvertible {
    var status: Int
    /// Header names lowercased; repeated fields joined with ", ".
    var headers: [String: String]
    var body: String

    var description: String { "\(status) \(headers) \(body.prefix(400))" }

    /// The body as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }
}

struct HTTPTestError: Error, CustomStringConvertible {
    var description: String
}

/// Sends raw requests to 127.0.0.1:`port` (or a given loopback source address), one
/// connection each, and reads the answer until the server closes or the body is complete.
struct HTTPTestClient {
    let port: Int
    /// Seconds to wait for an answer.
    var timeout: Double = 10

    func get(_ path: String, headers: [String: String] = [:], from source: String? = nil) async throws -> HTTPAnswer {
        try await send(method: "GET", path: path, headers: headers, body: nil, from: source)
    }

    func post(_ path: String, body: String, contentType: String, headers: [String: String] = [:], from source: String? = nil) async throws -> HTTPAnswer {
        var all = headers
        all["Content-Type"] = contentType
        return try await send(method: "POST", path: path, headers: all, body: Array(body.utf8), from: source)
    }

    func send(method: String, path: String, headers: [String: String], body: [UInt8]?, from source: String? = nil) async throws -> HTTPAnswer {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request += "\(name): \(value)\r\n" }
        if let body { request += "Content-Length: \(body.count)\r\n" }
        request += "\r\n"
        return try await exchange(Array(request.utf8) + (body ?? []), from: source)
    }

    /// Writes `bytes` and reads the answer.
    func exchange(_ bytes: [UInt8], from source: String? = nil) async throws -> HTTPAnswer {
        try Self.parse(try await onThread { try roundTrip(bytes, from: source) })
    }

    /// Writes `bytes` and returns every byte the server answered.
    func raw(_ bytes: [UInt8]) async throws -> [UInt8] {
        try await onThread { try roundTrip(bytes) }
    }

    /// Runs blocking socket I/O on a thread of its own, never on the few threads that run
    /// the tests' and the server's tasks (blocking those would starve the server).
    func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.start()
        }
    }

    /// Writes `bytes` and returns everything read until the peer closes (or the timeout).
    func roundTrip(_ bytes: [UInt8], from source: String? = nil) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPTestError(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int(timeout.truncatingRemainder(dividingBy: 1) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, source, &local.sin_addr)
            let rc = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard rc == 0 else { throw HTTPTestError(description: "bind \(source): errno \(errno)") }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { throw HTTPTestError(description: "connect 127.0.0.1:\(port): errno \(errno)") }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }  // the server may close early (a refused body); read what it said
            sent += n
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            received += buffer[0..<n]
            if let complete = Self.completeLength(received), received.count >= complete { break }
        }
        return received
    }

    /// The length of a complete answer with a Content-Length, once its header has arrived.
    static func completeLength(_ bytes: [UInt8]) -> Int? {
        guard let end = bytes.indices.dropLast(3).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10 })
        else { return nil }
        let head = String(decoding: bytes[..<end], as: UTF8.self).lowercased()
        for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
            if let length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) { return end + 4 + length }
        }
        return nil
    }

    static func parse(_ raw: [UInt8]) throws -> HTTPAnswer {
        let text = String(decoding: raw, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw HTTPTestError(description: "no HTTP answer: \(text.prefix(200))") }
        let lines = text[..<split.lowerBound].split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 "),
              let status = Int(statusLine.dropFirst(9).prefix(3)) else { throw HTTPTestError(description: "bad status line: \(lines.first ?? "")") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
        var body = String(text[split.upperBound...])
        if headers["transfer-encoding"]?.contains("chunked") == true { body = dechunk(body) }
        return HTTPAnswer(status: status, headers: headers, body: body)
    }

    static func dechunk(_ text: String) -> String {
        var rest = Substring(text)
        var output = ""
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let utf8 = rest.utf8
            guard let end = utf8.index(start, offsetBy: size, limitedBy: utf8.endIndex) else { break }
            output += String(rest[start..<end])
            rest = rest[end...].dropFirst(2)
        }
        return output
    }
}

extension String {
    /// Percent-encodes everything but unreserved characters (RFC 3986 §2.3), for form bodies.
    var formEncoded: String {
        var output = ""
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                output += String(format: "%%%02X", byte)
            }
        }
        return output
    }
}
