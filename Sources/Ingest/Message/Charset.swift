// Charset.swift -- decoding text bytes in a declared charset to UTF-8.

import Foundation

/// Converts text in a MIME charset (RFC 2045 §5.1, RFC 2047) to UTF-8 bytes.
///
/// UTF-8, US-ASCII and the Latin-1 family are decoded here without Foundation; the Japanese
/// ISO-2022-JP / Shift_JIS and a few Windows code pages go through Foundation. An unknown
/// or undecodable charset falls back to Latin-1, which keeps every ASCII byte, so the
/// English wording that nearly every bounce carries stays matchable.
enum Charset {
    enum Kind: Equatable {
        case utf8
        case latin1
        case foundation(String.Encoding)
    }

    /// The decoder for a charset label (case-insensitive, surrounding quotes ignored).
    static func kind(of label: [UInt8]) -> Kind {
        var name = label
        ASCII.lowercaseInPlace(&name)
        let text = String(decoding: name, as: UTF8.self)
        switch text {
        case "", "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "unicode-1-1-utf-7", "x-unknown", "unknown-8bit", "default":
            return .utf8
        case "iso-8859-1", "iso8859-1", "latin1", "iso_8859-1", "windows-1252", "cp1252", "iso-8859-15", "iso8859-15":
            return .latin1
        case "iso-2022-jp", "iso-2022-jp-2", "csiso2022jp", "iso-2022-jp-3":
            return .foundation(.iso2022JP)
        case "shift_jis", "shift-jis", "sjis", "x-sjis", "windows-31j", "cp932", "ms932":
            return .foundation(.shiftJIS)
        case "euc-jp", "x-euc-jp":
            return .foundation(.japaneseEUC)
        case "windows-1251", "cp1251", "x-cp1251":
            return .foundation(.windowsCP1251)
        case "windows-1250", "cp1250":
            return .foundation(.windowsCP1250)
        case "iso-8859-2", "iso8859-2", "latin2":
            return .foundation(.isoLatin2)
        case "utf-16", "utf-16le", "utf-16be":
            return .foundation(.utf16)
        default:
            return .latin1
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
        case .foundation(let encoding):
            if let text = String(bytes: bytes, encoding: encoding) {
                output.append(contentsOf: text.utf8)
                return true
            }
            return appendUTF8(bytes, to: &output)
        }
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
