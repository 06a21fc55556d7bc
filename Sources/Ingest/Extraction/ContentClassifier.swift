// ContentClassifier.swift -- is this an automatic response to mail the trap never sent?

/// Decides, from `MessageEvidence`, whether a message is backscatter and of which kind.
///
/// Structure first, wording second:
/// 1. Negative structure: a forward by a person, a feedback (abuse) report, list or bulk
///    mail without a response marker, an executable attachment.
/// 2. Positive structure: an RFC 3464 delivery-status part (DSN), an RFC 8098 disposition
///    notification, RFC 3834 `Auto-Submitted: auto-replied` or a de-facto auto-responder
///    header, the null envelope sender together with a mail-system From.
/// 3. Wording, in many languages, and only combined with some structure: a null sender, a
///    mail-system From, an attached original, an SMTP transcript, a `Re:`-style subject.
///
/// A null envelope sender alone is not enough (spammers use it too), and wording alone is
/// never enough for a message from an ordinary sender.
enum ContentClassifier {
    struct Decision: Equatable {
        var isBackscatter: Bool
        var kind: Classification.Kind
        var reason: String
    }

    static func decide(_ evidence: MessageEvidence) -> Decision {
        let matcher = Cue.matcher
        let subject = evidence.subjectHits
        let body = evidence.bodyHits
        func phrase(_ category: Int, _ hits: CueMatcher.Hits) -> String {
            matcher.phrase(for: category, in: hits).map { "\"\($0)\"" } ?? Cue.names[category]
        }

        let nullSender = evidence.envelopeSender == .null
        let senderText: String
        switch evidence.envelopeSender {
        case .null: senderText = "null sender"
        case .address(let address): senderText = "sender <\(address)>"
        case .unknown: senderText = "no Return-Path"
        }
        let mailSystem = evidence.fromIsMailSystem || evidence.hasFailedRecipients
        let autoReplied = evidence.autoSubmitted == .autoReplied || evidence.autoresponderHeader != nil
        let dsn = evidence.dsnStructure
        let bounceSubject = subject.contains(Cue.bounceSubject) || subject.contains(Cue.delaySubject)
        let bounceBody = body.contains(Cue.bounceBody) || body.contains(Cue.delayBody)
        let recipientProblem = body.contains(Cue.recipientProblem)
        let transcript = body.contains(Cue.smtpEvidence) || evidence.hasEnhancedStatusCode
        let returnsOriginal = evidence.hasAttachedOriginal || body.contains(Cue.originalMarker)
        let autoreplySubject = subject.contains(Cue.autoreplySubject) || evidence.subjectIsNotesAuto
        let autoreplyBody = body.contains(Cue.autoreplyBody)
        let autoreplyWeak = body.contains(Cue.autoreplyBodyWeak)
        let virusSubject = subject.contains(Cue.virusSubject)
        let virusBody = body.contains(Cue.virusBody)
        let listNotice = body.contains(Cue.listManager) || subject.contains(Cue.listManager)
        let forwarded = (evidence.subjectIsForward || evidence.leadHits.contains(Cue.forwardMarker)) && !mailSystem
        // Spam and phishing dressed as mail-system notices ("mailbox full, click here") carry
        // links and account wording, and neither a returned original nor an SMTP transcript.
        let phishy = body.contains(Cue.phishing) && evidence.hasLink && !returnsOriginal && !transcript
        // Challenge-response: the genre's fixed phrases, or a request to verify (a verification
        // word, the sender or a person, a reply or a link) that is neither a delivery failure nor
        // account phishing, or a known challenge-response system; each about a message the trap
        // supposedly sent.
        let answersMessage = body.contains(Cue.messageReference) || evidence.subjectIsReply || autoReplied
        let challengePhrase = body.contains(Cue.challenge) || subject.contains(Cue.challenge)
        let verificationRequest = (body.contains(Cue.verification) || subject.contains(Cue.verification))
            && body.contains(Cue.senderOrPerson) && (body.contains(Cue.replyRequest) || evidence.hasLink)
            && !bounceBody && !recipientProblem && (!phishy || autoReplied || evidence.hasInReplyTo)
        let challengeSystem = evidence.challengeSystem
        let challengeText = ((challengePhrase || verificationRequest) && answersMessage)
            || (challengeSystem != nil && (answersMessage || evidence.hasInReplyTo || evidence.hasLink || challengePhrase))
        func challengeCue() -> String {
            if let challengeSystem { return "challenge-response system \(challengeSystem)" }
            if challengePhrase { return phrase(Cue.challenge, body.contains(Cue.challenge) ? body : subject) }
            return "verification request (\(phrase(Cue.verification, body.contains(Cue.verification) ? body : subject)))"
        }

        // 1. Negative structure.
        if forwarded && !nullSender && !dsn && !autoReplied {
            return Decision(isBackscatter: false, kind: .none,
                            reason: "forwarded by a person (\(evidence.subjectIsForward ? "forward subject" : "forward marker")), \(senderText)")
        }
        if evidence.hasFeedbackReport && !dsn {
            return Decision(isBackscatter: false, kind: .none, reason: "RFC 5965 feedback report, not a response")
        }

        // 2. Positive structure.
        if dsn {
            let status = evidence.deliveryStatuses.first { $0.hasRequiredFields }
            var detail = "RFC 3464 delivery-status part"
            if let recipient = status?.recipients.first {
                let fields = [recipient.action.map { "Action: \($0)" }, recipient.status.map { "Status: \($0)" }]
                    .compactMap { $0 }
                if !fields.isEmpty { detail += " (" + fields.joined(separator: ", ") + ")" }
            }
            // A challenge system may wrap its request in a DSN; a real SMTP rejection that
            // merely mentions a whitelist carries an `smtp;` diagnostic.
            let recipients = evidence.deliveryStatuses.flatMap(\.recipients)
            let smtpDiagnostic = recipients.contains { ($0.diagnosticCode ?? "").lowercased().hasPrefix("smtp") }
            if challengeText && (challengePhrase || challengeSystem != nil) && !smtpDiagnostic {
                return Decision(isBackscatter: true, kind: .challenge,
                                reason: "challenge-response request (\(challengeCue())) in a DSN-shaped report, \(senderText)")
            }
            // A content filter's own report: policy status (x.7.x, RFC 3463), no remote MTA, and
            // malware named where the filter states its finding (Subject, Diagnostic-Code, a
            // virus name) or a scanner that signs the notice. Boilerplate that merely mentions
            // "infected mail" does not make a spam rejection a virus notice.
            let policyStatus = recipients.contains { ($0.status ?? "").dropFirst(1).hasPrefix(".7.") }
            let remote = recipients.contains { $0.remoteMTA != nil }
            if policyStatus && !remote {
                let diagnostics = recipients.compactMap(\.diagnosticCode).joined(separator: " ")
                var diagnosticText = CueText(limit: 4096)
                diagnosticText.append(Array(diagnostics.utf8), dropQuoted: false, html: false)
                let diagnosticHits = matcher.scan(diagnosticText.bytes)
                let cue: String? = subject.contains(Cue.malware) ? phrase(Cue.malware, subject)
                    : diagnosticHits.contains(Cue.malware) ? phrase(Cue.malware, diagnosticHits)
                    : body.contains(Cue.virusName) ? "virus name \(phrase(Cue.virusName, body))"
                    : evidence.isFilterNotifier ? "written by \(phrase(Cue.filterProduct, evidence.identityHits))"
                    : nil
                if let cue {
                    return Decision(isBackscatter: true, kind: .virus, reason: "content-filter report (\(cue)), \(detail), \(senderText)")
                }
            }
            return Decision(isBackscatter: true, kind: .dsn, reason: "\(detail), \(senderText)")
        }
        if evidence.hasDispositionNotification {
            return Decision(isBackscatter: true, kind: .autoreply,
                            reason: "RFC 8098 disposition notification (read receipt), \(senderText)")
        }
        let listSender = isListAddress(evidence)
        let isBulk = evidence.hasListHeaders && !autoReplied && !nullSender && !(listNotice && listSender)
        if isBulk {
            return Decision(isBackscatter: false, kind: .none,
                            reason: "list or bulk mail (List-* headers) without a response marker, \(senderText)")
        }
        if evidence.hasRiskyAttachment && !nullSender {
            return Decision(isBackscatter: false, kind: .none,
                            reason: "carries an executable or macro attachment outside any returned original, \(senderText)")
        }

        // Challenge-response requests come from ordinary senders; their wording decides. A
        // bounce quoting a remote "not on our whitelist" reply is still a bounce.
        let quotesRejection = transcript && (bounceBody || recipientProblem || bounceSubject)
        if challengeText && !quotesRejection && !phishyChallenge(evidence) {
            return Decision(isBackscatter: true, kind: .challenge, reason: "challenge-response request (\(challengeCue())), \(senderText)")
        }

        // Virus and content-filter notices.
        // A notice names the blocked message, a virus name, or the scanner that wrote it; spam
        // about viruses talks about "your computer", and is caught by the phishing guard.
        let filterNotifier = evidence.isFilterNotifier
        let virusFinding = virusBody || body.contains(Cue.virusName)
        let automatic = mailSystem || nullSender || autoReplied || filterNotifier
        let virusNotice = (virusSubject && (virusFinding || automatic))
            || (virusFinding && !quotesRejection && automatic && body.contains(Cue.messageReference))
        if virusNotice && !phishy {
            var cue = virusSubject ? phrase(Cue.virusSubject, subject)
                : virusBody ? phrase(Cue.virusBody, body) : "virus name \(phrase(Cue.virusName, body))"
            if filterNotifier { cue += ", written by \(phrase(Cue.filterProduct, evidence.identityHits))" }
            return Decision(isBackscatter: true, kind: .virus, reason: "virus/content-filter notice (\(cue)), \(senderText)")
        }

        // Bounces without a delivery-status part.
        if !phishy {
            if nullSender || evidence.envelopeSender == .unknown && mailSystem {
                // The subject alone (parcel-delivery spam shares its words) needs one more fact.
                let corroborated = mailSystem || bounceBody || recipientProblem || returnsOriginal || transcript
                    || autoReplied || evidence.autoSubmittedNamesFailure
                if (bounceSubject && corroborated) || (mailSystem && (bounceBody || recipientProblem)) {
                    let cue = bounceSubject ? "subject \(phrase(subject.contains(Cue.bounceSubject) ? Cue.bounceSubject : Cue.delaySubject, subject))"
                                            : phrase(bounceBody ? Cue.bounceBody : Cue.recipientProblem, body)
                    return Decision(isBackscatter: true, kind: .dsn,
                                    reason: "bounce (\(cue))\(mailSystem ? " from the mail system" : ""), \(senderText)")
                }
                if (bounceBody || recipientProblem) && (returnsOriginal || transcript || autoReplied || evidence.autoSubmittedNamesFailure
                                                         || evidence.hasInReplyTo) {
                    let cue = phrase(bounceBody ? Cue.bounceBody : Cue.recipientProblem, body)
                    return Decision(isBackscatter: true, kind: .dsn, reason: "bounce (\(cue)), \(senderText)")
                }
            } else {
                // An ordinary sender: the mail system's name or a returned original must back the words.
                if mailSystem && (bounceSubject || bounceBody || recipientProblem) && (bounceBody || recipientProblem || returnsOriginal || transcript) {
                    let cue = bounceBody ? phrase(Cue.bounceBody, body) : bounceSubject ? phrase(Cue.bounceSubject, subject)
                                                                          : phrase(Cue.recipientProblem, body)
                    return Decision(isBackscatter: true, kind: .dsn, reason: "bounce (\(cue)) from the mail system, \(senderText)")
                }
                if (bounceBody || (bounceSubject && recipientProblem)) && returnsOriginal && (transcript || recipientProblem) {
                    let cue = bounceBody ? phrase(Cue.bounceBody, body) : phrase(Cue.recipientProblem, body)
                    return Decision(isBackscatter: true, kind: .dsn,
                                    reason: "bounce (\(cue)) returning the original, \(senderText)")
                }
                if recipientProblem && transcript && (bounceBody || bounceSubject || autoReplied || evidence.subjectIsReply) {
                    return Decision(isBackscatter: true, kind: .dsn,
                                    reason: "bounce (\(phrase(Cue.recipientProblem, body)) with an SMTP reply), \(senderText)")
                }
            }
        }

        // Auto-replies.
        if autoReplied {
            if (bounceSubject || bounceBody) && (recipientProblem || transcript || returnsOriginal || mailSystem) {
                return Decision(isBackscatter: true, kind: .dsn,
                                reason: "bounce marked \(autoHeaderText(evidence)), \(senderText)")
            }
            return Decision(isBackscatter: true, kind: .autoreply, reason: "auto-reply (\(autoHeaderText(evidence))), \(senderText)")
        }
        if autoreplySubject && (!phishy || autoreplyBody) {
            let cue = evidence.subjectIsNotesAuto ? "\"auto:\"" : phrase(Cue.autoreplySubject, subject)
            if nullSender || autoreplyBody || autoreplyWeak || evidence.subjectIsNotesAuto || startsWithAutoreply(evidence)
                || evidence.hasInReplyTo || evidence.precedence.hasPrefix("junk") || evidence.precedence.hasPrefix("bulk") {
                return Decision(isBackscatter: true, kind: .autoreply, reason: "auto-reply (subject \(cue)), \(senderText)")
            }
        }
        // Acknowledgement wording ("thank you for your message") is also in notifications:
        // it counts only for an answer to a message (Re: subject, In-Reply-To).
        if nullSender && !phishy && (autoreplyBody || (autoreplyWeak && (evidence.subjectIsReply || evidence.hasInReplyTo))) {
            let cue = phrase(autoreplyBody ? Cue.autoreplyBody : Cue.autoreplyBodyWeak, body)
            return Decision(isBackscatter: true, kind: .autoreply, reason: "auto-reply (\(cue)), \(senderText)")
        }

        // List-manager notices and unclassifiable mail-system notices.
        if listNotice && (nullSender || mailSystem || listSender) && !phishy {
            return Decision(isBackscatter: true, kind: .unknownBounce,
                            reason: "mailing-list manager notice (\(phrase(Cue.listManager, body.contains(Cue.listManager) ? body : subject))), \(senderText)")
        }
        if nullSender && mailSystem && !phishy && evidence.autoSubmitted != .autoGenerated {
            return Decision(isBackscatter: true, kind: .unknownBounce,
                            reason: "notice from the mail system with a null sender, wording not recognized")
        }

        var why = "no bounce, auto-reply or challenge structure"
        if evidence.hasListHeaders { why = "list or bulk mail (List-* headers) without a response marker" }
        else if evidence.autoSubmitted == .autoGenerated { why = "auto-generated notification, not a response" }
        else if phishy { why = "mail-system wording with links and no returned original (phishing or spam)" }
        else if nullSender { why = "null sender, but nothing of a bounce or auto-reply" }
        return Decision(isBackscatter: false, kind: .none, reason: "\(why), \(senderText)")
    }

    private static func autoHeaderText(_ evidence: MessageEvidence) -> String {
        evidence.autoSubmitted == .autoReplied ? "Auto-Submitted: auto-replied" : evidence.autoresponderHeader ?? "auto-responder header"
    }

    /// Whether the subject begins with an auto-reply tag ("Automatic reply: ...").
    private static func startsWithAutoreply(_ evidence: MessageEvidence) -> Bool {
        let lower = evidence.subject.lowercased().trimmingSpaces
        return ["auto", "automatic", "autoreply", "out of office", "abwesen", "réponse automatique", "respuesta autom",
                "risposta autom", "automatisch", "[auto", "автоответ", "自動"].contains { lower.hasPrefix($0) }
    }

    /// A "challenge" that asks for an account login is phishing, not a verification request.
    private static func phishyChallenge(_ evidence: MessageEvidence) -> Bool {
        let body = evidence.bodyHits
        guard body.contains(Cue.phishing) else { return false }
        return !evidence.hasInReplyTo && !evidence.subjectIsReply && evidence.autoresponderHeader == nil
            && evidence.autoSubmitted != .autoReplied && !body.contains(Cue.messageReference)
    }

    /// Whether the sender looks like a list manager (`x-owner@`, `x-request@`, `owner-x@`).
    private static func isListAddress(_ evidence: MessageEvidence) -> Bool {
        var address = evidence.fromAddress
        if case .address(let sender) = evidence.envelopeSender { address = sender.lowercased() + " " + address }
        return ["-owner@", "-admin@", "-request@", "-bounces@", "owner-", "mailman", "majordomo", "listserv", "sympa", "ezmlm"]
            .contains { address.contains($0) }
    }
}
