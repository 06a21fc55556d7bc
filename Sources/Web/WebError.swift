// WebError.swift -- a request that cannot be answered as asked: a status and words for the client.

public import Hummingbird

/// A client-facing failure: the HTTP status and a message that names the problem (and the
/// input, made safe with ``WebError/quoted(_:)``). Pages show it as HTML, the API as
/// `{"error": "..."}`.
public struct WebError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    /// Seconds, for 429 and 503.
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ message: String, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status.code) \(message)" }

    /// Longest piece of client input quoted back in a message.
    static let quotedMaxLength = 64

    /// `input` as an error message may quote it: in double quotes, at most 64 characters,
    /// every character outside printable ASCII, and each of `<>&"'\` and the backquote, as
    /// `?`. So no markup or script ever comes back, whatever escaping follows (pages escape
    /// for HTML on top, the API for JSON).
    public static func quoted(_ input: some StringProtocol) -> String {
        var text = ""
        for scalar in input.unicodeScalars.prefix(quotedMaxLength) {
            text.unicodeScalars.append(scalar.value >= 0x20 && scalar.value < 0x7F && !"<>&\"'\\`".unicodeScalars.contains(scalar) ? scalar : "?")
        }
        return "\"" + text + (input.unicodeScalars.count > quotedMaxLength ? "…" : "") + "\""
    }
}
