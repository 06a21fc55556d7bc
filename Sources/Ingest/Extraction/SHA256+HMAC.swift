// SHA256+HMAC.swift -- HMAC-SHA256 (RFC 2104), for keys that must not reveal what they key.

extension SHA256 {
    /// The HMAC-SHA256 of `message` under `key` (RFC 2104; test vectors in RFC 4231).
    static func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        let blockByteCount = 64
        var block = key.count > blockByteCount ? digest(key) : key
        block += [UInt8](repeating: 0, count: blockByteCount - block.count)
        let inner = digest(block.map { $0 ^ 0x36 } + message)
        return digest(block.map { $0 ^ 0x5C } + inner)
    }
}
