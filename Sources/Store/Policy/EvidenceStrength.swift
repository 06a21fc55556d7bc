// EvidenceStrength.swift -- how sure the classifier is that a hit is backscatter.

/// How a hit's message was recognised as backscatter.
///
/// Strong evidence lists on its own; weak evidence lists only once corroborated
/// (``ListingPolicy/Corroboration``, docs/POLICY.md).
public enum EvidenceStrength: String, Sendable, Codable, CaseIterable, Hashable {
    /// Structure: an RFC 3464 delivery report, an RFC 3834 reply with a null sender, a
    /// known MTA bounce layout with the original message attached.
    case strong
    /// Wording alone: a heuristic match that could be ordinary mail that sounds like a bounce.
    case weak

    /// The hits table's column value.
    var storedValue: Int64 { self == .strong ? 0 : 1 }

    init(storedValue: Int64) { self = storedValue == 0 ? .strong : .weak }
}
