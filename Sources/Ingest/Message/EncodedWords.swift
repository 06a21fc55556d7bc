// EncodedWords.swift -- RFC 2047 encoded-word decoding for header values.

/// Decodes RFC 2047 encoded words (`=?charset?B?...?=`, `=?charset?Q?...?=`) in a header value.
///
/// Lenient as mail readers are: encoded words inside quoted strings and words run together
/// without whitespace are decoded too, whitespace between two adjacent encoded words is
/// dropped (RFC 2047 §6.2), an RFC 2231 language suffix (`utf-8*en`) is ignored, and a
/// malformed word is kept as it is.
enum EncodedWords {
    /// The decoded value as UTF-8 bytes. Bytes outside encoded words are taken as UTF-8,
    /// or Latin-1 when they are not valid UTF-8 (raw 8-bit headers).
    static func decode(_ value: [UInt8]) -> [UInt8] {
        guard ASCII.firstRange(of: marker, in: value, from: 0, to: value.count) != nil else {
            var output = [UInt8]()
            Charset.appendUTF8(value[...], to: &output)
            return output
        }
        var output = [UInt8]()
        output.reserveCapacity(value.count)
        var index = 0
        var pendingStart = 0          // start of plain bytes not yet copied
        var lastWasEncoded = false
        var decodedCount = 0
        var attemptCount = 0
        while index + 1 < value.count {
            guard value[index] == ASCII.equals, value[index + 1] == ASCII.questionMark,
                  decodedCount < MessageLimits.maxEncodedWordCount, attemptCount < maxAttemptCount else {
                index += 1
                continue
            }
            attemptCount += 1
            guard let word = parseWord(value, at: index) else {
                index += 1
                continue
            }
            // Plain text between the previous encoded word and this one.
            let between = value[pendingStart..<index]
            if !(lastWasEncoded && between.allSatisfy({ $0 == ASCII.space || $0 == ASCII.tab })) {
                Charset.appendUTF8(between, to: &output)
            }
            var raw = [UInt8]()
            if word.isBase64 {
                raw = TransferEncoding.decodeBase64(value[word.textStart..<word.textEnd], limit: 4096)
            } else {
                raw = decodeQ(value[word.textStart..<word.textEnd])
            }
            Charset.appendDecoded(raw[...], charset: Array(value[word.charsetStart..<word.charsetEnd]), to: &output)
            decodedCount += 1
            lastWasEncoded = true
            index = word.end
            pendingStart = word.end
        }
        Charset.appendUTF8(value[pendingStart...], to: &output)
        return output
    }

    private static let marker: [UInt8] = Array("=?".utf8)

    /// "=?" openings examined per value: each costs at most `maxWordTextByteCount` bytes.
    private static let maxAttemptCount = 2 * MessageLimits.maxEncodedWordCount
    /// RFC 2047 §2 caps a word at 75 characters; lenient readers accept longer ones.
    private static let maxWordTextByteCount = 1000

    private struct Word {
        var charsetStart: Int
        var charsetEnd: Int
        var isBase64: Bool
        var textStart: Int
        var textEnd: Int
        var end: Int
    }

    /// Parses `=?charset?E?text?=` at `start`; `nil` if malformed.
    private static func parseWord(_ value: [UInt8], at start: Int) -> Word? {
        let charsetStart = start + 2
        var index = charsetStart
        // charset: token characters, up to 40 bytes (RFC 2047 §2: a word is at most 75).
        while index < value.count, value[index] != ASCII.questionMark {
            let byte = value[index]
            if byte <= ASCII.space || byte >= 0x7F || index - charsetStart > 40 { return nil }
            index += 1
        }
        guard index + 3 < value.count, index > charsetStart else { return nil }
        var charsetEnd = index
        if let star = value[charsetStart..<charsetEnd].firstIndex(of: 0x2A) { charsetEnd = star }
        let encoding = value[index + 1] | 0x20
        guard encoding == 0x62 || encoding == 0x71, value[index + 2] == ASCII.questionMark else { return nil }
        let textStart = index + 3
        var textEnd = textStart
        // Encoded text ends at "?="; it may not contain whitespace. Cap a runaway word.
        while textEnd + 1 < value.count {
            if value[textEnd] == ASCII.questionMark, value[textEnd + 1] == ASCII.equals { break }
            if value[textEnd] == ASCII.space || value[textEnd] == ASCII.tab || textEnd - textStart > maxWordTextByteCount { return nil }
            textEnd += 1
        }
        guard textEnd + 1 < value.count else { return nil }
        return Word(charsetStart: charsetStart, charsetEnd: charsetEnd, isBase64: encoding == 0x62,
                    textStart: textStart, textEnd: textEnd, end: textEnd + 2)
    }

    /// The "Q" encoding: quoted-printable with `_` for space (RFC 2047 §4.2).
    private static func decodeQ(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(text.count)
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == ASCII.underscore {
                output.append(ASCII.space)
            } else if byte == ASCII.equals, index + 2 < text.endIndex,
                      let high = ASCII.hexValue(text[index + 1]), let low = ASCII.hexValue(text[index + 2]) {
                output.append(high << 4 | low)
                index += 3
                continue
            } else {
                output.append(byte)
            }
            index += 1
        }
        return output
    }
}
