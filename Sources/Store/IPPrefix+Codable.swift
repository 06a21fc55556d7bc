// IPPrefix+Codable.swift -- prefixes as their text form in JSON (policies, reports).

extension IPPrefix: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let prefix = IPPrefix(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an IP prefix: \(text)")
        }
        self = prefix
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
