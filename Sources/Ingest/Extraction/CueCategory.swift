// CueCategory.swift -- what a phrase of the wording tables stands for.

/// The categories of wording the classifier looks for, each with the scope it is read in.
///
/// A phrase belongs to one category; `CueMatcher` reports, per category, whether any of its
/// phrases occurs. The raw values index bit masks (at most 64 categories).
enum CueCategory: Int, CaseIterable, Sendable {
    // Read from the Subject.
    case bounceSubject
    case delaySubject
    /// A tag that says the reply is automatic ("Automatic reply", "自動返信").
    case autoreplySubject
    /// A tag that says the person is away ("Out of office", "Abwesend").
    case absenceSubject
    case virusSubject
    /// "Return Receipt", "Read receipt", "Lesebestätigung".
    case receiptSubject
    // Read from the notice's own text (not from a returned original).
    case bounceBody
    case delayBody
    case recipientProblem
    case autoreplyBody
    case acknowledgement
    case challenge
    case messageReference
    case virusBody
    case listManager
    case listModeration
    case forwardMarker
    case originalMarker
    case smtpEvidence
    case mtaTemplate
    case receiptTemplate
    case malware
    case verification
    case senderOrPerson
    case replyRequest
    // Read from the notice's self-description (From, X-Mailer, User-Agent, Message-ID).
    case filterProduct
    case challengeProduct

    /// A short name for reasons and `--explain`.
    var name: String {
        switch self {
        case .bounceSubject: "bounce"
        case .delaySubject: "delay"
        case .autoreplySubject: "auto-reply tag"
        case .absenceSubject: "absence tag"
        case .virusSubject: "virus notice"
        case .receiptSubject: "receipt"
        case .bounceBody: "bounce wording"
        case .delayBody: "delay wording"
        case .recipientProblem: "recipient problem"
        case .autoreplyBody: "auto-reply wording"
        case .acknowledgement: "acknowledgement wording"
        case .challenge: "challenge wording"
        case .messageReference: "reference to the original"
        case .virusBody: "virus notice wording"
        case .listManager: "list-manager rejection"
        case .listModeration: "list-manager hold"
        case .forwardMarker: "forwarded-message marker"
        case .originalMarker: "returned-original marker"
        case .smtpEvidence: "SMTP transcript"
        case .mtaTemplate: "MTA bounce template"
        case .receiptTemplate: "receipt template"
        case .malware: "malware word"
        case .verification: "verification wording"
        case .senderOrPerson: "sender or person"
        case .replyRequest: "reply request"
        case .filterProduct: "virus/content filter"
        case .challengeProduct: "challenge-response system"
        }
    }

    /// Where the classifier reads the category.
    enum Scope { case subject, text, identity }

    var scope: Scope {
        switch self {
        case .bounceSubject, .delaySubject, .autoreplySubject, .absenceSubject, .virusSubject, .receiptSubject: .subject
        case .filterProduct, .challengeProduct: .identity
        default: .text
        }
    }
}
