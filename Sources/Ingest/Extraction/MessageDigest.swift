// MessageDigest.swift -- the content digest that makes one message one hit.

/// The SHA-256 of a message's raw bytes, as delivered: the same message arriving twice
/// (a redelivery, a retry after a crash) is one hit.
public struct MessageDigest: Hashable, Sendable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// The digest of `message`.
    public init(of message: [UInt8]) {
        bytes = SHA256.digest(message)
    }

    /// Lowercase hex, as `rbld classify --json` and `rbld show` print it.
    public var description: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
