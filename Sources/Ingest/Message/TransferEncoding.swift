// TransferEncoding.swift -- Content-Transfer-Encoding decoding (RFC 2045 §6).

/// The transfer encodings of RFC 2045 §6, decoded with an output cap.
enum TransferEncoding: Equatable {
    case identity        // 7bit, 8bit, binary, or anything unknown
    case base64
    case quotedPrintable

    init(headerValue: [UInt8]) {
        let (start, end) = ASCII.trimmed(headerValue, 0, headerValue.count)
        let token = headerValue[start..<end]
        if ASCII.equalsIgnoringCase(token, Array("base64".utf8)) {
            self = .base64
        } else if ASCII.equalsIgnoringCase(token, Array("quoted-printable".utf8)) {
            self = .quotedPrintable
        } else {
            self = .identity
        }
    }

    /// `bytes` decoded, at most `limit` output bytes.
    func decode(_ bytes: ArraySlice<UInt8>, limit: Int) -> [UInt8] {
        switch self {
        case .identity:
            return Array(bytes.prefix(limit))
        case .base64:
            return Self.decodeBase64(bytes, limit: limit)
        case .quotedPrintable:
            return Self.decodeQuotedPrintable(bytes, limit: limit)
        }
    }

    private static let base64Table: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        table[Int(UInt8(ascii: "-"))] = 62   // base64url, seen in broken generators
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    /// Base64 (RFC 2045 §6.8): characters outside the alphabet are ignored, `=` ends the data.
    static func decodeBase64(_ bytes: ArraySlice<UInt8>, limit: Int) -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(min(limit, bytes.count * 3 / 4 + 3))
        var accumulator: UInt32 = 0
        var bitCount = 0
        let table = base64Table
        for byte in bytes {
            if byte == ASCII.equals { break }
            let value = table[Int(byte)]
            if value == 0xFF { continue }
            accumulator = accumulator << 6 | UInt32(value)
            bitCount += 6
            if bitCount >= 8 {
                bitCount -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bitCount)))
                if output.count >= limit { break }
            }
        }
        return output
    }

    /// Quoted-printable (RFC 2045 §6.7): `=XX` escapes, `=` at line end is a soft break;
    /// a malformed escape is kept literally.
    static func decodeQuotedPrintable(_ bytes: ArraySlice<UInt8>, limit: Int) -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(min(limit, bytes.count))
        var index = bytes.startIndex
        let end = bytes.endIndex
        while index < end, output.count < limit {
            let byte = bytes[index]
            if byte == ASCII.equals {
                // Soft line break: "=" then optional trailing whitespace, then LF.
                var probe = index + 1
                while probe < end, bytes[probe] == ASCII.space || bytes[probe] == ASCII.tab { probe += 1 }
                if probe < end, bytes[probe] == ASCII.lf {
                    index = probe + 1
                    continue
                }
                if probe == end {
                    index = end
                    continue
                }
                if index + 2 < end, let high = ASCII.hexValue(bytes[index + 1]), let low = ASCII.hexValue(bytes[index + 2]) {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
            }
            output.append(byte)
            index += 1
        }
        return output
    }
}
