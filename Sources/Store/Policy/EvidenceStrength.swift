// EvidenceStrength.swift -- how sure the classifier is that a hit is backscatter.

/// How a hit's message was recognised as backscatter.
///
/// Strong evidence lists on its own; weak evidence lists only once corroborated
/// (``ListingPolicy/Corroboration``, docs/POLICY.md).
public enum EvidenceStrength: String, Sendable, Codable, CaseIterable, Hashable {
    /// Structure that only mail systems and responders write: an RFC 3464 report, an RFC
    /// 8098 receipt, a returned original, an RFC 3834 reply with a null sender, a known MTA
    /// bounce layout, a scanner's or challenge system's own header. It lists on its own.
    case strong
    /// Wording backed by little structure: it could be ordinary mail that sounds like a
    /// bounce, so the listing policy asks for corroboration.
    case weak

    /// The hits table's column value.
    var storedValue: Int64 { self == .strong ? 0 : 1 }

    init(storedValue: Int64) { self = storedValue == 0 ? .strong : .weak }
}
