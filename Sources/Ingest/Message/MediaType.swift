// MediaType.swift -- Content-Type values (RFC 2045 §5.1, RFC 2231 parameters).

/// A parsed Content-Type: lowercase `type/subtype` and its parameters.
struct MediaType: Equatable {
    /// Lowercase type, e.g. `multipart`.
    var type: [UInt8]
    /// Lowercase subtype, e.g. `report`.
    var subtype: [UInt8]
    /// Parameters in order; names lowercased, values unquoted (RFC 2231 continuations joined).
    var parameters: [(name: [UInt8], value: [UInt8])]

    static func == (lhs: MediaType, rhs: MediaType) -> Bool {
        lhs.type == rhs.type && lhs.subtype == rhs.subtype
            && lhs.parameters.map(\.name) == rhs.parameters.map(\.name)
            && lhs.parameters.map(\.value) == rhs.parameters.map(\.value)
    }

    static let textPlain = MediaType(type: Array("text".utf8), subtype: Array("plain".utf8), parameters: [])
    static let messageRFC822 = MediaType(type: Array("message".utf8), subtype: Array("rfc822".utf8), parameters: [])

    func `is`(_ type: String, _ subtype: String) -> Bool {
        self.type.elementsEqual(type.utf8) && self.subtype.elementsEqual(subtype.utf8)
    }

    func isType(_ type: String) -> Bool { self.type.elementsEqual(type.utf8) }

    /// The value of parameter `name` (lowercase).
    func parameter(_ name: String) -> [UInt8]? {
        for parameter in parameters where parameter.name.elementsEqual(name.utf8) { return parameter.value }
        return nil
    }

    /// Parses a Content-Type value; `nil` when it has no `type/subtype`.
    init?(_ value: [UInt8]) {
        var index = 0
        let count = value.count
        func skipSpaceAndComments() {
            while index < count {
                let byte = value[index]
                if ASCII.isWhitespace(byte) {
                    index += 1
                } else if byte == ASCII.openParen {
                    // Comments nest (RFC 5322 §3.2.2); bounded by the value length.
                    var depth = 0
                    while index < count {
                        if value[index] == ASCII.openParen { depth += 1 }
                        if value[index] == ASCII.closeParen { depth -= 1; if depth == 0 { index += 1; break } }
                        index += 1
                    }
                } else {
                    return
                }
            }
        }
        func token() -> [UInt8] {
            let start = index
            while index < count {
                let byte = value[index]
                if byte <= ASCII.space || byte == ASCII.semicolon || byte == ASCII.slash || byte == ASCII.equals
                    || byte == ASCII.openParen || byte == ASCII.quote { break }
                index += 1
            }
            var result = Array(value[start..<index])
            ASCII.lowercaseInPlace(&result)
            return result
        }
        skipSpaceAndComments()
        let type = token()
        skipSpaceAndComments()
        guard !type.isEmpty, index < count, value[index] == ASCII.slash else { return nil }
        index += 1
        skipSpaceAndComments()
        let subtype = token()
        guard !subtype.isEmpty else { return nil }
        self.type = type
        self.subtype = subtype
        var parameters: [(name: [UInt8], value: [UInt8])] = []
        while index < count, parameters.count < MessageLimits.maxMediaTypeParameterCount {
            // Advance to the next ';' (tolerates junk after the subtype or a value).
            while index < count, value[index] != ASCII.semicolon { index += 1 }
            guard index < count else { break }
            index += 1
            skipSpaceAndComments()
            let name = token()
            skipSpaceAndComments()
            guard !name.isEmpty, index < count, value[index] == ASCII.equals else { continue }
            index += 1
            skipSpaceAndComments()
            var parameterValue = [UInt8]()
            if index < count, value[index] == ASCII.quote {
                index += 1
                while index < count, value[index] != ASCII.quote {
                    if value[index] == ASCII.backslash, index + 1 < count { index += 1 }
                    parameterValue.append(value[index])
                    index += 1
                }
                if index < count { index += 1 }
            } else {
                let start = index
                while index < count, value[index] != ASCII.semicolon, !ASCII.isWhitespace(value[index]) { index += 1 }
                parameterValue = Array(value[start..<index])
            }
            parameters.append((name, parameterValue))
        }
        self.parameters = Self.joinRFC2231(parameters)
    }

    private init(type: [UInt8], subtype: [UInt8], parameters: [(name: [UInt8], value: [UInt8])]) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    /// Joins RFC 2231 continuations (`name*0=`, `name*1*=`) into `name`; the charset and
    /// language prefix of an extended value (`utf-8''...`) and its %XX escapes are decoded.
    private static func joinRFC2231(_ parameters: [(name: [UInt8], value: [UInt8])]) -> [(name: [UInt8], value: [UInt8])] {
        guard parameters.contains(where: { $0.name.contains(0x2A) }) else { return parameters }
        var result: [(name: [UInt8], value: [UInt8])] = []
        for parameter in parameters {
            guard let star = parameter.name.firstIndex(of: 0x2A) else {
                result.append(parameter)
                continue
            }
            let base = Array(parameter.name[..<star])
            let extended = parameter.name.last == 0x2A
            var value = parameter.value
            if extended {
                // charset'language'value on the first segment; percent-escapes everywhere.
                if let firstQuote = value.firstIndex(of: 0x27),
                   let secondQuote = value[(firstQuote + 1)...].firstIndex(of: 0x27) {
                    value = Array(value[(secondQuote + 1)...])
                }
                value = percentDecoded(value)
            }
            if let existing = result.firstIndex(where: { $0.name == base }) {
                result[existing].value.append(contentsOf: value)
            } else {
                result.append((base, value))
            }
        }
        return result
    }

    private static func percentDecoded(_ value: [UInt8]) -> [UInt8] {
        var output = [UInt8]()
        var index = 0
        while index < value.count {
            if value[index] == 0x25, index + 2 < value.count,
               let high = ASCII.hexValue(value[index + 1]), let low = ASCII.hexValue(value[index + 2]) {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(value[index])
                index += 1
            }
        }
        return output
    }
}
