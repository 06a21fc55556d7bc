// Charset.swift -- decoding text bytes in a declared charset to UTF-8.

import Glibc

/// Converts text in a MIME charset (RFC 2045 §5.1, RFC 2047) to UTF-8 bytes.
///
/// UTF-8, US-ASCII and the Latin-1 family are decoded here directly; every other charset
/// (ISO-2022-JP, Shift_JIS, GB2312/GBK/GB18030, Big5, EUC-KR, KOI8-R, the ISO-8859 and
/// Windows code pages...) goes through the C library's iconv(3), which knows them all. An
/// unknown charset falls back to Latin-1, which keeps every ASCII byte, so the English
/// wording that nearly every bounce carries stays matchable.
enum Charset {
    enum Kind: Equatable {
        case utf8
        case latin1
        /// Decoded by iconv from this (lowercased) charset name.
        case iconv(String)
    }

    /// The decoder for a charset label (case-insensitive, surrounding quotes ignored).
    static func kind(of label: [UInt8]) -> Kind {
        var name = label
        ASCII.lowercaseInPlace(&name)
        name.removeAll { $0 == ASCII.quote || ASCII.isWhitespace($0) }
        let text = String(decoding: name, as: UTF8.self)
        switch text {
        case "", "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "unicode-1-1-utf-7", "x-unknown", "unknown-8bit", "default":
            return .utf8
        case "iso-8859-1", "iso8859-1", "latin1", "iso_8859-1", "windows-1252", "cp1252", "iso-8859-15", "iso8859-15":
            return .latin1
        case "x-sjis", "shift-jis", "windows-31j", "ms932":
            return .iconv("cp932")
        case "x-euc-jp":
            return .iconv("euc-jp")
        case "gb2312", "x-gbk", "cp936", "euc-cn":
            // GBK and GB18030 are supersets of GB2312; senders that declare it often use them.
            return .iconv("gb18030")
        case "ks_c_5601-1987", "ks_c_5601", "x-windows-949":
            return .iconv("cp949")
        default:
            guard name.count <= 40, name.allSatisfy({ ASCII.isAlpha($0) || ASCII.isDigit($0) || $0 == ASCII.dash
                                                       || $0 == ASCII.underscore || $0 == ASCII.dot || $0 == 0x3A }) else {
                return .latin1
            }
            return .iconv(text)
        }
    }

    /// `bytes` decoded from the charset `label`, as UTF-8 bytes appended to `output`.
    /// Returns false when the bytes were not valid in that charset (decoded leniently anyway).
    @discardableResult
    static func appendDecoded(_ bytes: ArraySlice<UInt8>, charset label: [UInt8], to output: inout [UInt8]) -> Bool {
        switch kind(of: label) {
        case .utf8:
            return appendUTF8(bytes, to: &output)
        case .latin1:
            appendLatin1(bytes, to: &output)
            return true
        case .iconv(let name):
            if let clean = appendConverted(bytes, from: name, to: &output) { return clean }
            // A charset the C library does not know: keep the ASCII, read the rest as Latin-1.
            return appendUTF8(bytes, to: &output)
        }
    }

    /// Converts with iconv(3), skipping a byte wherever the input is not valid in `charset`.
    /// Returns nil when iconv does not know the charset, else whether the input was clean.
    private static func appendConverted(_ bytes: ArraySlice<UInt8>, from charset: String, to output: inout [UInt8]) -> Bool? {
        let converter = iconv_open("UTF-8", charset)
        // iconv_open reports an unknown charset as (iconv_t)-1.
        guard let converter, Int(bitPattern: converter) != -1 else { return nil }
        defer { iconv_close(converter) }
        var clean = true
        var input = Array(bytes)
        let inputCount = input.count
        var scratch = [CChar](repeating: 0, count: 4096)
        input.withUnsafeMutableBytes { inputBuffer in
            guard let inputBase = inputBuffer.baseAddress?.assumingMemoryBound(to: CChar.self) else { return }
            var inPointer: UnsafeMutablePointer<CChar>? = inputBase
            var inLeft = inputCount
            while inLeft > 0 {
                let (result, produced, failure) = scratch.withUnsafeMutableBufferPointer { outputBuffer in
                    var outPointer: UnsafeMutablePointer<CChar>? = outputBuffer.baseAddress
                    var outLeft = outputBuffer.count
                    let result = iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                    return (result, outputBuffer.count - outLeft, errno)
                }
                if produced > 0 { scratch.withUnsafeBytes { output.append(contentsOf: $0[..<produced]) } }
                if result != -1 { break }
                if failure == E2BIG { continue }   // the scratch buffer is full: drain it and go on
                // EILSEQ or EINVAL: an invalid or truncated sequence. Skip one byte and go on.
                clean = false
                guard inLeft > 0 else { break }
                inPointer = inPointer.map { $0 + 1 }
                inLeft -= 1
            }
        }
        // Flush a stateful encoding (ISO-2022-JP) back to its initial state.
        _ = iconv(converter, nil, nil, nil, nil)
        return clean
    }

    /// Appends `bytes` when they are valid UTF-8; otherwise decodes them as Latin-1
    /// (8-bit text without a declared charset is far more often Latin-1 than broken UTF-8).
    @discardableResult
    static func appendUTF8(_ bytes: ArraySlice<UInt8>, to output: inout [UInt8]) -> Bool {
        var isASCII = true
        for byte in bytes where byte >= 0x80 { isASCII = false; break }
        if isASCII {
            output.append(contentsOf: bytes)
            return true
        }
        if validUTF8(bytes) {
            output.append(contentsOf: bytes)
            return true
        }
        appendLatin1(bytes, to: &output)
        return false
    }

    static func appendLatin1(_ bytes: ArraySlice<UInt8>, to output: inout [UInt8]) {
        for byte in bytes {
            if byte < 0x80 {
                output.append(byte)
            } else {
                // U+0080...U+00FF as two UTF-8 bytes.
                output.append(0xC0 | (byte >> 6))
                output.append(0x80 | (byte & 0x3F))
            }
        }
    }

    static func validUTF8(_ bytes: ArraySlice<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
