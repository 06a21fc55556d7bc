// CueText.swift -- text prepared for phrase matching: lowercase, one space, no quotes.

/// Normalizes decoded UTF-8 text for `CueMatcher`.
///
/// Lowercases ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic letters; turns every run
/// of whitespace (including no-break and ideographic space) into one space, so phrases match
/// across line wraps; drops quoted lines (`> ...`, except `>>> ` SMTP transcript lines), so
/// text a person quotes is not taken as the notice's own words; strips HTML tags.
struct CueText {
    private(set) var bytes: [UInt8] = []
    let limit: Int

    init(limit: Int) {
        self.limit = limit
        bytes.reserveCapacity(min(limit, 16 << 10))
    }

    var isFull: Bool { bytes.count >= limit }

    /// Appends `text` (UTF-8). `dropQuoted`: skip lines starting with `>`; `html`: strip tags.
    mutating func append(_ text: [UInt8], dropQuoted: Bool, html: Bool) {
        var index = 0
        let count = text.count
        var atLineStart = true
        var noTagCloseBefore = 0
        var lastWasSpace = bytes.last.map { $0 == ASCII.space } ?? true
        @inline(__always) func emitSpace() {
            if !lastWasSpace { bytes.append(ASCII.space); lastWasSpace = true }
        }
        while index < count, bytes.count < limit {
            let byte = text[index]
            if atLineStart && dropQuoted {
                var probe = index
                while probe < count, text[probe] == ASCII.space || text[probe] == ASCII.tab { probe += 1 }
                if probe < count, text[probe] == ASCII.greaterThan {
                    let isTranscript = probe + 3 < count && text[probe + 1] == ASCII.greaterThan
                        && text[probe + 2] == ASCII.greaterThan && text[probe + 3] == ASCII.space
                    if !isTranscript {
                        index = ASCII.lineEnd(in: text, from: probe, to: count) + 1
                        emitSpace()
                        continue
                    }
                }
            }
            atLineStart = false
            if byte == ASCII.lf {
                atLineStart = true
                emitSpace()
                index += 1
                continue
            }
            if ASCII.isWhitespace(byte) || byte == 0 {
                emitSpace()
                index += 1
                continue
            }
            if html && byte == ASCII.lessThan && index >= noTagCloseBefore {
                // A tag: skip to '>' within 2 KB; tags act as a space. When there is no '>' in
                // that window, no '<' before its end can close either: skip searching there.
                let windowEnd = min(count, index + 2048)
                if let close = ASCII.firstIndex(of: ASCII.greaterThan, in: text, from: index, to: windowEnd) {
                    index = close + 1
                    emitSpace()
                    continue
                }
                noTagCloseBefore = windowEnd
            }
            if html && byte == 0x26 {
                if let replacement = Self.entity(text, index) {
                    if replacement.byte == ASCII.space { emitSpace() } else { bytes.append(replacement.byte); lastWasSpace = false }
                    index += replacement.length
                    continue
                }
            }
            if byte < 0x80 {
                bytes.append(ASCII.lowercased(byte))
                lastWasSpace = false
                index += 1
                continue
            }
            // Multi-byte UTF-8: lowercase the two-byte scripts we match; spaces to space.
            if byte & 0xE0 == 0xC0, index + 1 < count {
                let scalar = (UInt32(byte & 0x1F) << 6) | UInt32(text[index + 1] & 0x3F)
                if scalar == 0xA0 {
                    emitSpace()
                } else {
                    let lower = Self.lowercase(scalar)
                    bytes.append(UInt8(0xC0 | (lower >> 6)))
                    bytes.append(UInt8(0x80 | (lower & 0x3F)))
                    lastWasSpace = false
                }
                index += 2
                continue
            }
            if byte == 0xE2, index + 2 < count, text[index + 1] == 0x80, text[index + 2] == 0x98 || text[index + 2] == 0x99 {
                bytes.append(0x27)   // U+2018/U+2019 curly apostrophes as ASCII '
                lastWasSpace = false
                index += 3
                continue
            }
            if byte == 0xE3, index + 2 < count, text[index + 1] == 0x80, text[index + 2] == 0x80 {
                emitSpace()   // U+3000 ideographic space
                index += 3
                continue
            }
            bytes.append(byte)
            lastWasSpace = false
            index += 1
        }
        emitSpace()
    }

    /// Lowercase mapping for two-byte UTF-8 letters (U+0080...U+07FF) the cue tables use.
    private static func lowercase(_ scalar: UInt32) -> UInt32 {
        switch scalar {
        case 0xC0...0xDE where scalar != 0xD7:
            return scalar + 0x20                                   // Latin-1 capitals
        case 0x100...0x137, 0x14A...0x177:
            return scalar | 1                                      // Latin Extended-A, even = capital
        case 0x139...0x148, 0x179...0x17E:
            return scalar & 1 == 1 ? scalar + 1 : scalar           // odd = capital in these runs
        case 0x391...0x3A9 where scalar != 0x3A2:
            return scalar + 0x20                                   // Greek capitals
        case 0x410...0x42F:
            return scalar + 0x20                                   // Cyrillic А...Я
        case 0x400...0x40F:
            return scalar + 0x50                                   // Cyrillic Ѐ...Џ
        default:
            return scalar
        }
    }

    /// A few HTML character references: `&nbsp;` `&amp;` `&lt;` `&gt;` `&quot;` `&#39;`.
    private static func entity(_ text: [UInt8], _ start: Int) -> (byte: UInt8, length: Int)? {
        for (name, byte) in entities {
            if ASCII.hasPrefix(text, at: start, end: text.count, lowercasePrefix: name) { return (byte, name.count) }
        }
        return nil
    }

    private static let entities: [([UInt8], UInt8)] = [
        (Array("&nbsp;".utf8), ASCII.space), (Array("&amp;".utf8), 0x26), (Array("&lt;".utf8), ASCII.lessThan),
        (Array("&gt;".utf8), ASCII.greaterThan), (Array("&quot;".utf8), ASCII.quote), (Array("&#39;".utf8), 0x27),
    ]
}
