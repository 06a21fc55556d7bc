// Lookup+JSON.swift -- the lookup answer as JSON, written directly (the API's hottest path).

extension Lookup {
    /// The same document `JSONEncoder` makes of a `Lookup` with sorted keys, written
    /// without reflection or intermediate containers (several times cheaper per answer).
    func json() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512 + zones.count * 1024)
        out.append(contentsOf: #"{"ip":"#.utf8)
        JSONWriter.string(ip, into: &out)
        out.append(contentsOf: #","zones":["#.utf8)
        for (index, zone) in zones.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            zone.json(into: &out)
        }
        out.append(contentsOf: "]}\n".utf8)
        return out
    }
}

extension ZoneLookup {
    func json(into out: inout [UInt8]) {
        var first = true
        func key(_ name: String) {
            out.append(contentsOf: (first ? "{\"" : ",\"").utf8)
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: "\":".utf8)
            first = false
        }
        key("code"); JSONWriter.optional(code, into: &out)
        key("delistable"); JSONWriter.bool(delistable, into: &out)
        key("evidence"); out.append(UInt8(ascii: "["))
        for (index, item) in evidence.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"host":"#.utf8); JSONWriter.optional(item.host, into: &out)
            out.append(contentsOf: #","kind":"#.utf8); JSONWriter.string(item.kind, into: &out)
            out.append(contentsOf: #","lines":["#.utf8)
            for (lineIndex, line) in item.lines.enumerated() {
                if lineIndex > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.string(line, into: &out)
            }
            out.append(contentsOf: #"],"strength":"#.utf8); JSONWriter.string(item.strength, into: &out)
            out.append(contentsOf: #","time":"#.utf8); JSONWriter.string(item.time, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        key("expires"); JSONWriter.optional(expires, into: &out)
        key("first_seen"); JSONWriter.optional(firstSeen, into: &out)
        key("hits"); out.append(contentsOf: String(hits).utf8)
        key("kinds"); out.append(UInt8(ascii: "["))
        for (index, kind) in kinds.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.string(kind, into: &out)
        }
        out.append(UInt8(ascii: "]"))
        key("last_seen"); JSONWriter.optional(lastSeen, into: &out)
        key("listed"); JSONWriter.bool(listed, into: &out)
        key("manual"); JSONWriter.bool(manual, into: &out)
        key("status"); JSONWriter.string(status, into: &out)
        key("txt"); JSONWriter.optional(txt, into: &out)
        key("zone"); JSONWriter.string(zone, into: &out)
        out.append(UInt8(ascii: "}"))
    }
}

/// JSON values (RFC 8259) written into bytes.
enum JSONWriter {
    static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func optional(_ text: String?, into out: inout [UInt8]) {
        if let text { string(text, into: &out) } else { out.append(contentsOf: "null".utf8) }
    }

    static func bool(_ value: Bool, into out: inout [UInt8]) {
        out.append(contentsOf: (value ? "true" : "false").utf8)
    }
}
