// Classification.swift -- the public verdict on one trap message: kind, source, evidence.

public import Store

/// What ingest concluded about one message that reached a trap.
///
/// `verdict` combines the two independent answers: is the content an automatic response to
/// mail the trap never sent (`kind`), and which server delivered it (`sourceIP`). Only
/// `.backscatter` may lead to a listing.
public struct Classification: Hashable, Sendable {
    /// The outcome for listing purposes (the `verdict` of `rbld classify --json`).
    public enum Verdict: String, Hashable, Sendable, CaseIterable {
        /// Backscatter with a public source: a hit.
        case backscatter
        /// Not an automatic response (spam, ham, newsletters, forwards): never a hit.
        case notBackscatter = "not-backscatter"
        /// No usable source IP (no untrusted hop, or a non-public one): never a hit.
        case unattributable
    }

    /// The kind of response (the `kind` of `rbld classify --json`; its return code bits: docs/POLICY.md).
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// Delivery status notification or other bounce, including delay notices (RFC 3464).
        case dsn
        /// Auto-reply: vacation, out-of-office, RFC 3834 responders, read receipts.
        case autoreply
        /// Challenge-response verification request.
        case challenge
        /// Virus or content-filter notice.
        case virus
        /// A mail-system or list-manager notice that fits none of the above.
        case unknownBounce = "unknown-bounce"
        /// Not backscatter.
        case none
    }

    public var verdict: Verdict
    public var kind: Kind
    /// How much the evidence proves on its own: `weak` hits list only when corroborated.
    public var strength: EvidenceStrength
    /// The classification rule that decided (`delivery-status-report`, `auto-reply-tag`, ...).
    public var rule: String
    /// Every rule that would have concluded, in order; the first decided (for `--explain`).
    public var matchedRules: [String]
    /// The source (first untrusted client) address as a host prefix, IPv4-mapped IPv6 as
    /// IPv4; `nil` when unattributable.
    public var sourceIP: IPPrefix?
    /// A sentence a person can read: why this kind, and where the source came from.
    public var reason: String
    /// SHA-256 of the raw message bytes (one message = one hit).
    public var digest: MessageDigest
    /// `Reporting-MTA` of the first delivery-status part, when the message is a DSN.
    public var reportingMTA: String?
    /// The first delivery-status recipient group (Action, Status, Diagnostic-Code...), if any.
    public var deliveryStatus: DeliveryStatus.Recipient?
    /// The decoded Subject (at most 200 characters).
    public var subject: String
    /// Envelope sender from Return-Path: `""` for the null sender, `nil` when absent.
    public var envelopeSender: String?
    /// Evidence for an operator: the delivery hops down to the source and the notice's main
    /// header fields, unfolded, with the trap's local part replaced by `[trap]`.
    public var headerExcerpt: String
    /// What was odd about the input (truncation, NULs, MIME limits...).
    public var defects: MessageDefects
    /// Every structural fact and wording cue found, one short phrase each (for `--explain`).
    public var evidence: [String]

    /// Whether this message counts as a hit for `sourceIP`.
    public var isHit: Bool { verdict == .backscatter && sourceIP != nil }

    /// The classifier's rules in the order they are tried (the first that concludes decides):
    /// each one's name, as `rule` reports it, and a one-line summary.
    public static var rules: [(name: String, summary: String)] {
        ClassificationRules.ordered.map { ($0.name, $0.summary) }
    }
}

/// Classifies and attributes one raw message. Never fails and never traps: any input,
/// including empty, binary or hostile bytes, yields a verdict in bounded time and memory.
///
/// - Parameters:
///   - message: The raw RFC 5322 bytes as delivered (LF, CRLF or CR line endings).
///   - trustedNetworks: The trap's own relays; loopback is always trusted.
/// - Returns: The verdict, kind, source IP and the evidence that led to them.
public func classify(message: [UInt8], trustedNetworks: TrustedNetworks) -> Classification {
    let parsed = Message(raw: message)
    let evidence = MessageEvidence(message: parsed)
    let decision = ClassifierDecision.decide(evidence)
    let attribution = Attribution(header: parsed.header, bytes: parsed.bytes, trusted: trustedNetworks)

    let verdict: Classification.Verdict
    var sourceIP: IPPrefix? = nil
    var reason = decision.finding.reason
    switch attribution.outcome {
    case .source(let address):
        sourceIP = address
        verdict = decision.finding.isBackscatter ? .backscatter : .notBackscatter
        reason += "; " + attribution.explanation
    case .nonPublicSource, .noReceivedHeaders, .noClientAddress, .allHopsTrusted:
        verdict = .unattributable
        reason += "; unattributable: " + attribution.explanation
    }
    if parsed.defects.contains(.noHeader) && message.isEmpty {
        reason = "empty message; " + reason
    }
    let statusPart = evidence.deliveryStatuses.first { $0.hasRequiredFields }
    var envelopeSender: String? = nil
    switch evidence.envelopeSender {
    case .null: envelopeSender = ""
    case .address(let address): envelopeSender = address
    case .unknown: envelopeSender = nil
    }
    return Classification(
        verdict: verdict,
        kind: decision.finding.kind,
        strength: decision.finding.strength,
        rule: decision.rule,
        matchedRules: decision.matchedRules,
        sourceIP: sourceIP,
        reason: reason,
        digest: MessageDigest(of: message),
        reportingMTA: statusPart?.reportingMTA,
        deliveryStatus: statusPart?.recipients.first,
        subject: String(evidence.subject.prefix(200)),
        envelopeSender: envelopeSender,
        headerExcerpt: HeaderExcerpt.make(message: parsed, attribution: attribution, trapAddresses: evidence.trapAddresses),
        defects: evidence.sawUndecodableText ? parsed.defects.union(.eightBitGarbage) : parsed.defects,
        evidence: evidence.summary
    )
}
