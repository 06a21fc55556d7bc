// ClassificationRules.swift -- the classifier, as an ordered list of named rules.

import Store

/// Is a message an automatic response to mail the trap never sent, and of which kind?
///
/// The rules are tried in order; the first that concludes decides. Four groups:
/// 1. Lures and mail that answers nothing are never listed, whatever else they carry.
/// 2. Structure only mail systems and responders write lists on its own (`strong`): RFC 3464
///    and RFC 8098 reports, a challenge system's or scanner's header, a returned original,
///    a known MTA bounce layout, an RFC 3834 reply.
/// 3. Wording backed by some structure is `weak`: the listing policy asks for corroboration.
/// 4. Anything else is not backscatter.
///
/// A null envelope sender alone is not enough (spammers use it too), and wording alone never
/// lists mail that a person wrote.
enum ClassificationRules {
    static let ordered: [ClassificationRule] = lures + reports + knownSystems + returnedOriginals + responses + wording

    // MARK: 1. Lures and mail that answers nothing

    static let lures: [ClassificationRule] = [
        ClassificationRule("dangerous-attachment",
                           "an executable, archive or HTML page attached in place of a returned original: malware or phishing") { e in
            guard e.hasRiskyAttachment || e.hasHTMLPageAttachment else { return nil }
            return .notBackscatter("carries \(e.hasRiskyAttachment ? "an executable, archive or macro document" : "an HTML page") "
                                   + "instead of a returned original, \(e.senderText)")
        },
        ClassificationRule("account-lure",
                           "a link made out for the trap's own address, or a form, with no returned message of the trap's: a login page") { e in
            // A challenge system's verification link names the sender it verifies: the trap.
            guard e.hasLinkWithTrapAddress || e.hasForm, !e.returnsTrapMessage, !e.hasExplicitChallengeHeader else { return nil }
            return .notBackscatter("\(e.hasForm ? "an HTML form" : "a link carrying the trap's address") asks the trap to act "
                                   + "on its own account, \(e.senderText)")
        },
        ClassificationRule("replies-redirected",
                           "an ordinary sender's Reply-To at another organisation, answering no message: replies collected elsewhere") { e in
            guard e.redirectsReplies, !e.isNullSender, !e.isFromMailSystem, !e.hasInReplyTo, !e.dsnStructure, !e.returnsOriginal
            else { return nil }
            return .notBackscatter("Reply-To sends answers to another domain than the sender's and the message answers "
                                   + "none, \(e.senderText)")
        },
        ClassificationRule("forwarded-by-a-person",
                           "a forward subject or marker from an ordinary sender: a person passing mail on") { e in
            guard e.subjectIsForward || e.leadHits.contains(.forwardMarker), !e.isFromMailSystem, !e.isNullSender,
                  !e.dsnStructure, !e.isAutoReplied else { return nil }
            return .notBackscatter("forwarded by a person (\(e.subjectIsForward ? "forward subject" : "forward marker")), \(e.senderText)")
        },
        ClassificationRule("bare-report-with-link",
                           "an RFC 3464 report that returns no original but carries a link to follow: a report made up") { e in
            guard e.dsnStructure, !e.returnsOriginal, e.linkCount > 0 else { return nil }
            return .notBackscatter("a delivery report with \(e.linkCount == 1 ? "a link" : "links") to follow and no returned "
                                   + "original, \(e.senderText)")
        },
        ClassificationRule("feedback-report", "an RFC 5965 abuse report: about mail, not a response to it") { e in
            guard e.hasFeedbackReport && !e.dsnStructure else { return nil }
            return .notBackscatter("RFC 5965 feedback report, not a response")
        },
        ClassificationRule("bulk-mail",
                           "List-* headers without a list manager's notice or a response marker: a list post or newsletter") { e in
            guard e.hasListHeaders, !e.isListManagerNotice, !e.isNullSender, !e.isAutoReplied, !e.dsnStructure else { return nil }
            return .notBackscatter("list or bulk mail (List-* headers) without a response marker, \(e.senderText)")
        },
    ]

    // MARK: 2. Reports (strong)

    static let reports: [ClassificationRule] = [
        ClassificationRule("content-filter-report",
                           "an RFC 3464 report of a policy rejection (x.7.x) by the reporting host itself, naming malware: virus") { e in
            guard let cue = Self.contentFilterFinding(e) else { return nil }
            return .backscatter(.virus, .strong, "content-filter report (\(cue)), \(Self.statusDetail(e)), \(e.senderText)")
        },
        ClassificationRule("challenge-in-report",
                           "an RFC 3464 report that carries a challenge-response request and no SMTP diagnostic") { e in
            guard e.dsnStructure, e.challengeSystem != nil || e.bodyHits.contains(.challenge) || e.subjectHits.contains(.challenge)
            else { return nil }
            let recipients = e.deliveryStatuses.flatMap(\.recipients)
            guard !recipients.contains(where: { ($0.diagnosticCode ?? "").lowercased().hasPrefix("smtp") }) else { return nil }
            return .backscatter(.challenge, .strong, "challenge-response request (\(Self.challengeCue(e))) in a DSN-shaped report, \(e.senderText)")
        },
        ClassificationRule("delivery-receipt",
                           "an RFC 3464 report whose every recipient was delivered or relayed: a receipt, an automatic reply") { e in
            let recipients = e.deliveryStatuses.filter(\.hasRequiredFields).flatMap(\.recipients)
            guard !recipients.isEmpty,
                  recipients.allSatisfy({ ["delivered", "relayed", "expanded"].contains($0.action ?? "") }) else { return nil }
            return .backscatter(.autoreply, .strong, "RFC 3464 delivery receipt (\(Self.statusDetail(e))), \(e.senderText)")
        },
        ClassificationRule("delivery-status-report", "an RFC 3464 delivery-status part: a bounce or delay notice") { e in
            guard e.dsnStructure else { return nil }
            return .backscatter(.dsn, .strong, "\(Self.statusDetail(e)), \(e.senderText)")
        },
        ClassificationRule("read-receipt", "an RFC 8098 disposition notification: a read receipt") { e in
            guard e.hasDispositionNotification else { return nil }
            return .backscatter(.autoreply, .strong, "RFC 8098 disposition notification (read receipt), \(e.senderText)")
        },
    ]

    // MARK: 2. Known systems by their own headers (strong)

    static let knownSystems: [ClassificationRule] = [
        ClassificationRule("challenge-system",
                           "a challenge-response system's own header or one-time reply address, or its name on a request") { e in
            guard let system = e.challengeSystem,
                  e.hasExplicitChallengeHeader || e.answersAMessage || e.isAutoReplied || e.linkCount > 0 || e.asksForVerification
            else { return nil }
            return .backscatter(.challenge, .strong, "challenge-response system \(system), \(e.senderText)")
        },
        ClassificationRule("scanner-notice",
                           "a scanner's virus header, or a notice signed by a scanner that names malware") { e in
            guard e.virusHeader != nil || (e.isFilterNotifier && e.namesMalware) else { return nil }
            let cue = e.virusHeader.map { "header \($0)" } ?? "written by \(e.phrase(.filterProduct, in: e.identityHits))"
            return .backscatter(.virus, .strong, "virus/content-filter notice (\(cue)), \(e.senderText)")
        },
        ClassificationRule("list-manager-notice",
                           "a list manager's notice about a post: a rejection is a bounce, a hold or acknowledgement an auto-reply") { e in
            guard e.isListManagerNotice, e.answersAMessage || e.isAutoReplied || e.listAdministrivia != nil else { return nil }
            let held = e.bodyHits.contains(.listModeration) || e.subjectHits.contains(.listModeration)
            let rejected = !held && (e.bodyHits.contains(.listManager) || e.subjectHits.contains(.listManager)
                || e.hasBounceSubject || e.bodyHits.contains(.bounceBody))
            let strength: EvidenceStrength = e.listAdministrivia != nil || e.isAutoReplied ? .strong : .weak
            let cue = e.firstPhrase(.listManager, .listModeration) ?? e.listAdministrivia ?? "list manager"
            return .backscatter(rejected ? .dsn : .autoreply, strength,
                                "mailing-list manager \(rejected ? "rejection" : "notice") (\(cue)), \(e.senderText)")
        },
    ]

    // MARK: 2. A returned original (strong)

    static let returnedOriginals: [ClassificationRule] = [
        ClassificationRule("returned-trap-message",
                           "returns (attached or quoted) a message that claims to come from the trap") { e in
            guard e.returnsTrapMessage else { return nil }
            let kind = Self.kindByWording(e, otherwise: e.saysAutoreply && !e.hasBounceWording ? .autoreply : .dsn)
            return .backscatter(kind, .strong, "returns a message from the trap address (\(Self.kindCue(e, kind))), \(e.senderText)")
        },
        ClassificationRule("bounce-with-original",
                           "from the mail system or with a null sender, returning the original: an MTA bounce") { e in
            guard e.isNullSender || e.isFromMailSystem, e.returnsOriginal else { return nil }
            let kind = Self.kindByWording(e, otherwise: .dsn)
            return .backscatter(kind, .strong, "bounce returning the original (\(Self.kindCue(e, kind)))"
                                + "\(e.isFromMailSystem ? " from the mail system" : ""), \(e.senderText)")
        },
        ClassificationRule("mta-bounce-template",
                           "from the mail system or with a null sender, in a common MTA's bounce template") { e in
            guard e.isNullSender || e.isFromMailSystem, e.hasMTATemplate else { return nil }
            let kind = Self.kindByWording(e, otherwise: .dsn)
            return .backscatter(kind, .strong, "MTA bounce template (\(e.phrase(.mtaTemplate, in: e.bodyHits))), \(e.senderText)")
        },
    ]

    // MARK: 2. RFC 3834 responses

    static let responses: [ClassificationRule] = [
        ClassificationRule("auto-generated-answer",
                           "Auto-Submitted: auto-generated on an answer to another domain's message, or saying the person is away") { e in
            guard e.autoSubmitted == .autoGenerated, !e.autoSubmittedNamesFailure, !e.isSentLikeMail,
                  e.answersForeignMessage || e.saysAutoreply || e.subjectHits.containsAny(.autoreplySubject, .absenceSubject)
            else { return nil }
            let kind = Self.kindByWording(e, otherwise: .autoreply)
            return .backscatter(kind, .weak, "auto-generated answer to a message (\(Self.kindCue(e, kind))), \(e.senderText)")
        },
        ClassificationRule("auto-replied",
                           "Auto-Submitted: auto-replied or an auto-responder header; strong with a null sender, or "
                           + "In-Reply-To and no links") { e in
            guard e.isAutoReplied else { return nil }
            // Forged auto-reply headers on advertising: an ordinary sender, answering no message, with links.
            guard e.isNullSender || e.hasInReplyTo || e.linkCount == 0 || e.isFromListManager
                    || e.bodyHits.contains(.messageReference) else { return nil }
            let bounce = (e.hasBounceSubject || e.hasBounceWording) && (e.isFromMailSystem || e.quotesSMTP)
            let kind = Self.kindByWording(e, otherwise: bounce ? .dsn : .autoreply)
            let header = e.autoSubmitted == .autoReplied ? "Auto-Submitted: auto-replied" : e.autoresponderHeader ?? "auto-responder header"
            // With links, an In-Reply-To (as easy to forge as the header) leaves it weak: a
            // helpdesk's answer with a link lists when corroborated, advertising that forges
            // both never on one message.
            let strong = e.isNullSender || (e.hasInReplyTo && e.linkCount == 0)
            return .backscatter(kind, strong ? .strong : .weak, "\(header) (\(Self.kindCue(e, kind))), \(e.senderText)")
        },
    ]

    // MARK: 3. Wording backed by some structure (weak)

    static let wording: [ClassificationRule] = [
        ClassificationRule("mail-system-bounce",
                           "a null sender or the mail system's From, no links, and bounce wording that names a recipient "
                           + "or quotes an SMTP reply; strong with a quoted SMTP reply from the mail system") { e in
            guard e.isNullSender || e.isFromMailSystem, e.linkCount == 0 else { return nil }
            // An SMTP reply about another address says it in any language; otherwise the words must.
            let smtpRejection = e.quotesSMTP && e.namesOtherAddress
            let words = e.hasBounceWording || e.hasBounceSubject
            guard smtpRejection || (words && (e.isFromMailSystem || e.namesOtherAddress || e.quotesSMTP || e.returnsOrAnnouncesOriginal))
            else { return nil }
            guard e.isNullSender || e.namesOtherAddress || e.quotesSMTP else { return nil }
            let kind = Self.kindByWording(e, otherwise: .dsn)
            let strength: EvidenceStrength = e.isFromMailSystem && smtpRejection ? .strong : .weak
            return .backscatter(kind, strength, "bounce (\(Self.kindCue(e, kind)))\(e.isFromMailSystem ? " from the mail system" : "")"
                                + "\(e.quotesSMTP ? " quoting an SMTP reply" : ""), \(e.senderText)")
        },
        ClassificationRule("virus-notice-wording",
                           "an automatic notice (null sender, the mail system) naming malware in a message it blocked") { e in
            guard e.isNullSender || e.isFromMailSystem, e.namesMalware, e.bodyHits.contains(.messageReference) || e.namesOtherAddress,
                  e.linkCount == 0 else { return nil }
            return .backscatter(.virus, .weak, "virus/content-filter notice (\(Self.kindCue(e, .virus))), \(e.senderText)")
        },
        ClassificationRule("challenge-wording", "a request to verify the sender of a message the trap supposedly sent") { e in
            // A challenge is about one message (to whom, its subject, a reply to it); account
            // phishing asks to verify "your account" and names no message.
            let namesTheMessage = e.namesOtherAddress || e.returnsOrAnnouncesOriginal || e.hasInReplyTo || e.subjectIsReply
            guard e.asksForVerification, namesTheMessage, !e.isSentLikeMail, !e.hasBounceWording || !e.quotesSMTP else { return nil }
            return .backscatter(.challenge, .weak, "challenge-response request (\(Self.challengeCue(e))), \(e.senderText)")
        },
        ClassificationRule("auto-reply-tag",
                           "the subject's leading tag says the reply is automatic, and it is not sent like a person's mail") { e in
            guard e.hasAutoreplyTag, !e.isSentLikeMail, e.linkCount == 0 || e.hasInReplyTo else { return nil }
            let cue = e.subjectIsNotesAuto ? "\"auto:\"" : e.phrase(e.subjectTagHits.contains(.autoreplySubject) ? .autoreplySubject : .absenceSubject,
                                                                  in: e.subjectTagHits)
            return .backscatter(.autoreply, .weak, "auto-reply (subject \(cue)), \(e.senderText)")
        },
        ClassificationRule("receipt",
                           "a receipt subject and the lines of a receipt template (Lotus Notes \"Your document: ... was received by:\")") { e in
            guard e.subjectHits.contains(.receiptSubject), e.bodyHits.contains(.receiptTemplate), !e.isSentLikeMail else { return nil }
            return .backscatter(.autoreply, .weak, "receipt (\(e.phrase(.receiptTemplate, in: e.bodyHits))), \(e.senderText)")
        },
        ClassificationRule("auto-reply-wording",
                           "vacation or acknowledgement wording from a null sender or with Precedence: bulk/junk (vacation(1))") { e in
            guard e.isNullSender || e.precedence.hasPrefix("bulk") || e.precedence.hasPrefix("junk"),
                  !e.isSentLikeMail, e.linkCount == 0 else { return nil }
            guard e.bodyHits.contains(.autoreplyBody)
                    || (e.bodyHits.contains(.acknowledgement) || e.subjectHits.contains(.acknowledgement)) else { return nil }
            return .backscatter(.autoreply, .weak, "auto-reply (\(e.firstPhrase(.autoreplyBody, .acknowledgement) ?? "wording")), \(e.senderText)")
        },
        ClassificationRule("mail-system-notice",
                           "a null sender and a mail-system From, no links, not auto-generated: a notice of some kind") { e in
            guard e.isNullSender, e.fromIsMailSystem, e.linkCount == 0, !e.hasListHeaders,
                  e.autoSubmitted != .autoGenerated || e.autoSubmittedNamesFailure else { return nil }
            return .backscatter(.unknownBounce, .weak, "notice from the mail system with a null sender, wording not recognized")
        },
    ]

    // MARK: - Helpers

    /// What makes an RFC 3464 report a content filter's own: a policy status (x.7.x, RFC 3463)
    /// with no remote MTA, and malware named where the filter states its finding (the subject,
    /// a Diagnostic-Code, a scanner's header) or a scanner that signs the notice. Boilerplate
    /// that merely mentions "infected mail" does not make a spam rejection a virus notice.
    static func contentFilterFinding(_ e: MessageEvidence) -> String? {
        guard e.dsnStructure else { return nil }
        let recipients = e.deliveryStatuses.flatMap(\.recipients)
        let policyStatus = recipients.contains { ($0.status ?? "").dropFirst(1).hasPrefix(".7.") }
        let remote = recipients.contains { $0.remoteMTA != nil }
        guard policyStatus && !remote else { return nil }
        if e.subjectHits.containsAny(.malware, .virusSubject) { return e.firstPhrase(.malware, .virusSubject) }
        var diagnosticText = CueText(limit: 4096)
        diagnosticText.append(Array(recipients.compactMap(\.diagnosticCode).joined(separator: " ").utf8), dropQuoted: false, html: false)
        let diagnosticHits = Cue.matcher.scan(diagnosticText.bytes)
        if diagnosticHits.contains(.malware) { return "diagnostic " + e.phrase(.malware, in: diagnosticHits) }
        if let header = e.virusHeader { return "scanner header \(header)" }
        if e.isFilterNotifier { return "written by \(e.phrase(.filterProduct, in: e.identityHits))" }
        return nil
    }

    /// The kind a notice's wording and headers point to, when its structure says only that it
    /// responds: a challenge, a virus notice, or `otherwise`.
    static func kindByWording(_ e: MessageEvidence, otherwise: Classification.Kind) -> Classification.Kind {
        if e.challengeSystem != nil || (e.asksForVerification && !e.quotesSMTP) { return .challenge }
        if e.virusHeader != nil || e.subjectHits.containsAny(.virusSubject, .malware)
            || (e.bodyHits.contains(.virusBody) && !e.quotesSMTP) { return .virus }
        return otherwise
    }

    /// The cue behind `kind`, for a reason.
    static func kindCue(_ e: MessageEvidence, _ kind: Classification.Kind) -> String {
        switch kind {
        case .challenge: challengeCue(e)
        case .virus: e.virusHeader.map { "header \($0)" } ?? e.firstPhrase(.virusSubject, .malware, .virusBody) ?? "virus"
        case .autoreply: e.firstPhrase(.autoreplySubject, .autoreplyBody, .acknowledgement) ?? "auto-reply"
        default: e.firstPhrase(.bounceSubject, .delaySubject, .bounceBody, .delayBody, .recipientProblem, .mtaTemplate) ?? "bounce"
        }
    }

    static func challengeCue(_ e: MessageEvidence) -> String {
        if let system = e.challengeSystem { return "challenge-response system \(system)" }
        return e.firstPhrase(.challenge) ?? "verification request (\(e.firstPhrase(.verification) ?? "verify"))"
    }

    /// "RFC 3464 delivery-status part (Action: failed, Status: 5.1.1)".
    static func statusDetail(_ e: MessageEvidence) -> String {
        var detail = "RFC 3464 delivery-status part"
        if let recipient = e.deliveryStatuses.first(where: \.hasRequiredFields)?.recipients.first {
            let fields = [recipient.action.map { "Action: \($0)" }, recipient.status.map { "Status: \($0)" }].compactMap { $0 }
            if !fields.isEmpty { detail += " (" + fields.joined(separator: ", ") + ")" }
        }
        return detail
    }
}

/// The decision on one message: the first rule that concluded, and every rule that would have.
struct ClassifierDecision {
    var finding: RuleFinding
    /// The deciding rule's name, `no-rule` when none concluded.
    var rule: String
    /// Every rule that concluded, in order (the first decided), for `--explain`.
    var matchedRules: [String]

    static func decide(_ evidence: MessageEvidence) -> ClassifierDecision {
        var decision: ClassifierDecision? = nil
        var matched: [String] = []
        for rule in ClassificationRules.ordered {
            guard let finding = rule.evaluate(evidence) else { continue }
            matched.append(rule.name)
            if decision == nil { decision = ClassifierDecision(finding: finding, rule: rule.name, matchedRules: []) }
        }
        var result = decision ?? ClassifierDecision(finding: .notBackscatter(Self.noRuleReason(evidence)), rule: "no-rule", matchedRules: [])
        result.matchedRules = matched
        return result
    }

    private static func noRuleReason(_ e: MessageEvidence) -> String {
        var why = "no bounce, auto-reply or challenge structure"
        if e.autoSubmitted == .autoGenerated { why = "auto-generated notification, not a response" }
        else if e.isNullSender && e.linkCount > 0 { why = "null sender, with links and nothing of a notice" }
        else if e.isNullSender { why = "null sender, but nothing of a bounce or auto-reply" }
        return "\(why), \(e.senderText)"
    }
}
