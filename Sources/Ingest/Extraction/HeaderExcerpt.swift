// HeaderExcerpt.swift -- the evidence a listing keeps: delivery hops and notice headers.

/// Builds the header excerpt stored with a hit.
///
/// The excerpt shows the top of the header down to the source's `Received` field (how the
/// message reached the trap) and the notice's identifying fields, unfolded, one per line.
/// The trap's local part is replaced by `[trap]` wherever it appears, so evidence can be
/// shown to the listed party without revealing the trap address.
enum HeaderExcerpt {
    static let maxByteCount = 4096
    static let maxLineByteCount = 600
    static let maxTopFieldCount = 12

    private static let noticeFields = ["from", "to", "subject", "date", "message-id", "content-type",
                                       "auto-submitted", "x-failed-recipients"].map { Array($0.utf8) }
    private static let trapMarker = Array("[trap]".utf8)

    static func make(message: Message, attribution: Attribution, trapAddresses: [String]) -> String {
        let bytes = message.bytes
        let fields = message.header.fields
        var chosen: [Int] = []
        let topEnd = min(fields.count, max(attribution.sourceFieldIndex.map { $0 + 1 } ?? 0, 0), maxTopFieldCount)
        chosen.append(contentsOf: 0..<topEnd)
        for name in noticeFields {
            if let index = fields.firstIndex(where: { MessageHeader.name(of: $0, in: bytes, is: name) }), !chosen.contains(index) {
                chosen.append(index)
            }
        }
        var output = [UInt8]()
        for index in chosen {
            let field = fields[index]
            var line = Array(bytes[field.nameStart..<field.nameEnd]) + Array(": ".utf8)
            line += MessageHeader.unfoldedValue(field, in: bytes, limit: maxLineByteCount).map {
                $0 == ASCII.tab ? ASCII.space : ($0 < 0x20 ? ASCII.questionMark : $0)
            }
            if line.count > maxLineByteCount { line = Array(line.prefix(maxLineByteCount)) + Array("...".utf8) }
            if output.count + line.count + 1 > maxByteCount { break }
            output += line
            output.append(ASCII.lf)
        }
        return ASCII.string(redacted(output, trapAddresses: trapAddresses)[...])
    }

    /// `text` with the local part of each trap address replaced by `[trap]` (case-insensitive).
    static func redacted(_ text: [UInt8], trapAddresses: [String]) -> [UInt8] {
        var result = text
        for address in trapAddresses {
            guard let at = address.firstIndex(of: "@") else { continue }
            let needle = Array(address[..<address.index(after: at)].utf8)   // "local@"
            guard needle.count > 1 else { continue }
            var lower = result
            ASCII.lowercaseInPlace(&lower)
            var output = [UInt8]()
            output.reserveCapacity(result.count)
            var index = 0
            while index < result.count {
                if let hit = ASCII.firstRange(of: needle, in: lower, from: index, to: lower.count) {
                    output += result[index..<hit]
                    output += trapMarker
                    output.append(ASCII.at)
                    index = hit + needle.count
                } else {
                    output += result[index...]
                    break
                }
            }
            result = output
        }
        return result
    }
}
