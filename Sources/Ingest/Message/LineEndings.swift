// LineEndings.swift -- one pass that turns CRLF, CR-only and mixed input into LF lines.

/// Line-ending normalization for raw RFC 5322 bytes.
///
/// Trap mail arrives with CRLF (SMTP, RFC 5321 §2.3.8), LF (Maildir, mbox), CR only (old Mac
/// tools) or a mix. Every later parser sees LF only, so this is the only place that knows.
enum LineEndings {
    /// Bytes inspected to decide whether a lone CR is a line break.
    static let sniffByteCount = 64 << 10

    /// How a lone CR (one not followed by LF) is treated.
    enum Mode: Equatable {
        /// No CR at all: the input is returned unchanged, without a copy.
        case lfOnly
        /// CRLF becomes LF; a lone CR is kept (it is stray garbage inside a line).
        case crlf
        /// CR-only (or mostly CR-only) input: every CR, and every CRLF, becomes LF.
        case crOnly
    }

    /// Decides the mode from the first `sniffByteCount` bytes.
    static func mode(of bytes: [UInt8]) -> Mode {
        // Most trap mail is LF-only: one memchr over the buffer settles it.
        guard let firstCR = ASCII.firstIndex(of: ASCII.cr, in: bytes, from: 0, to: bytes.count) else { return .lfOnly }
        let end = min(bytes.count, max(sniffByteCount, firstCR + 1))
        var loneCRCount = 0
        var lfCount = 0
        var index = 0
        while index < end {
            let byte = bytes[index]
            if byte == ASCII.cr {
                if index + 1 >= bytes.count || bytes[index + 1] != ASCII.lf { loneCRCount += 1 }
            } else if byte == ASCII.lf {
                lfCount += 1
            }
            index += 1
        }
        return loneCRCount > lfCount ? .crOnly : .crlf
    }

    /// The input with line endings normalized to LF.
    static func normalized(_ bytes: [UInt8]) -> [UInt8] {
        let mode = mode(of: bytes)
        if mode == .lfOnly { return bytes }
        var output = [UInt8]()
        output.reserveCapacity(bytes.count)
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte == ASCII.cr {
                if index + 1 < count, bytes[index + 1] == ASCII.lf {
                    output.append(ASCII.lf)
                    index += 2
                    continue
                }
                output.append(mode == .crOnly ? ASCII.lf : ASCII.space)
            } else {
                output.append(byte)
            }
            index += 1
        }
        return output
    }
}
