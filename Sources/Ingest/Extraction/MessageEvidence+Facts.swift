// MessageEvidence+Facts.swift -- the combined facts the classification rules are written in.

extension MessageEvidence {
    var isNullSender: Bool { envelopeSender == .null }

    /// The notice comes from the mail system: its From, or Exim's `X-Failed-Recipients`.
    var isFromMailSystem: Bool { fromIsMailSystem || hasFailedRecipients }

    /// An RFC 3834 `Auto-Submitted: auto-replied`, or a de-facto auto-responder header.
    var isAutoReplied: Bool { autoSubmitted == .autoReplied || autoresponderHeader != nil }

    /// The notice returns the original: attached, or as a quoted header block.
    var returnsOriginal: Bool { hasAttachedOriginal || hasInlineOriginal }

    /// The notice returns the original, or an MTA's "original message follows" line says so.
    var returnsOrAnnouncesOriginal: Bool { returnsOriginal || bodyHits.contains(.originalMarker) }

    /// An SMTP dialogue or reply is quoted (commands, `said: 550`, RFC 3464 field names, a
    /// `5.1.1` status code).
    var quotesSMTP: Bool { bodyHits.contains(.smtpEvidence) || hasEnhancedStatusCode }

    var hasBounceSubject: Bool { subjectHits.containsAny(.bounceSubject, .delaySubject) }

    /// The text says a delivery failed or is delayed, or what is wrong with the recipient.
    var hasBounceWording: Bool { bodyHits.containsAny(.bounceBody, .delayBody, .recipientProblem) }

    /// The text opens like a common MTA's bounce template.
    var hasMTATemplate: Bool { bodyHits.contains(.mtaTemplate) }

    /// The notice refers to a message the trap supposedly sent ("your message", a `Re:`
    /// subject, In-Reply-To, a returned original).
    var answersAMessage: Bool {
        bodyHits.contains(.messageReference) || subjectIsReply || hasInReplyTo || returnsOrAnnouncesOriginal
    }

    /// Malware named where a notice states its finding: the subject, a scanner's header, the
    /// text's virus wording or a virus name.
    var namesMalware: Bool {
        subjectHits.containsAny(.virusSubject, .malware) || virusHeader != nil
            || bodyHits.containsAny(.virusBody, .malware)
    }

    /// A request to verify the sender: the genre's fixed phrases, or a verification word, a
    /// word for the sender or a person, and a reply request or link.
    var asksForVerification: Bool {
        if bodyHits.contains(.challenge) || subjectHits.contains(.challenge) { return true }
        return (bodyHits.contains(.verification) || subjectHits.contains(.verification)) && bodyHits.contains(.senderOrPerson)
            && (bodyHits.contains(.replyRequest) || linkCount > 0)
    }

    /// The subject's leading tag says the reply is automatic, or it is a Notes `AUTO:` prefix.
    /// An absence tag ("Out of office: ...") counts only on an answer to a message
    /// (In-Reply-To): advertising borrows it to look like a reply.
    var hasAutoreplyTag: Bool {
        subjectTagHits.contains(.autoreplySubject) || subjectIsNotesAuto
            || (subjectTagIsPrefix && subjectTagHits.contains(.absenceSubject) && hasInReplyTo)
    }

    /// The challenge system named itself in a header of its own or a one-time reply address,
    /// not only by `Precedence: spam` or its product name.
    var hasExplicitChallengeHeader: Bool {
        challengeHeader != nil && challengeHeader != "Precedence: spam"
    }

    /// The subject's tag or the text says the reply is automatic or the person away.
    var saysAutoreply: Bool { hasAutoreplyTag || bodyHits.contains(.autoreplyBody) }

    /// A list manager's own notice: its administrivia header, or its address with list-manager
    /// wording.
    var isListManagerNotice: Bool {
        listAdministrivia != nil
            || (isFromListManager && bodyHits.containsAny(.listManager, .listModeration))
            || (isFromListManager && subjectHits.containsAny(.listManager, .listModeration))
    }

    /// Sent like a person's mail or a newsletter, not like a response: copies to others, a
    /// hidden recipient list, or list headers.
    var isSentLikeMail: Bool { hasCc || isAddressedToNobody || hasListHeaders }

    /// The phrase that put `category` into `hits`, quoted, or the category's name.
    func phrase(_ category: CueCategory, in hits: CueMatcher.Hits) -> String {
        Cue.matcher.phrase(for: category, in: hits).map { "\"\($0)\"" } ?? category.name
    }

    /// The first category of `categories` found in the subject or text, as a phrase.
    func firstPhrase(_ categories: CueCategory...) -> String? {
        for category in categories {
            if subjectHits.contains(category) { return "subject " + phrase(category, in: subjectHits) }
            if bodyHits.contains(category) { return phrase(category, in: bodyHits) }
        }
        return nil
    }

    /// How the envelope sender reads in a reason.
    var senderText: String {
        switch envelopeSender {
        case .null: "null sender"
        case .address(let address): "sender <\(address)>"
        case .unknown: "no Return-Path"
        }
    }

    /// Every fact found, one short phrase each, for `Classification.evidence`.
    var summary: [String] {
        var facts: [String] = []
        switch envelopeSender {
        case .null: facts.append("null envelope sender")
        case .address(let address): facts.append("envelope sender <\(address)>")
        case .unknown: facts.append("no Return-Path")
        }
        if fromIsMailSystem { facts.append("From is the mail system (\(fromAddress))") }
        switch autoSubmitted {
        case .absent: break
        case .no: facts.append("Auto-Submitted: no")
        case .autoReplied: facts.append("Auto-Submitted: auto-replied")
        case .autoGenerated: facts.append("Auto-Submitted: auto-generated\(autoSubmittedNamesFailure ? " (failure)" : "")")
        case .autoNotified: facts.append("Auto-Submitted: auto-notified")
        case .other: facts.append("Auto-Submitted: other")
        }
        if let autoresponderHeader { facts.append("auto-responder header \(autoresponderHeader)") }
        if let challengeSystem { facts.append("challenge-response system (\(challengeSystem))") }
        if let virusHeader { facts.append("scanner header \(virusHeader)") }
        if isFilterNotifier { facts.append("written by a virus scanner or content filter (\(phrase(.filterProduct, in: identityHits)))") }
        if hasFailedRecipients { facts.append("X-Failed-Recipients") }
        if hasListHeaders { facts.append("List-* headers") }
        if let listAdministrivia { facts.append("list-manager header \(listAdministrivia)") }
        if isFromListManager { facts.append("sent by a list manager's address") }
        if !precedence.isEmpty { facts.append("Precedence: \(precedence)") }
        if hasInReplyTo { facts.append("In-Reply-To/References") }
        if hasCc { facts.append("Cc") }
        if redirectsReplies { facts.append("Reply-To at another domain") }
        if isAddressedToNobody { facts.append("no recipient in To") }
        if subjectIsForward { facts.append("forward subject") }
        if subjectIsReply { facts.append("reply subject") }
        if subjectIsNotesAuto { facts.append("Notes AUTO: subject") }
        if !reportType.isEmpty { facts.append("multipart/report; report-type=\(reportType)") }
        if dsnStructure { facts.append("delivery-status part") }
        if hasDispositionNotification { facts.append("disposition-notification part") }
        if hasFeedbackReport { facts.append("feedback-report part") }
        if hasAttachedOriginal { facts.append("attached original") }
        if hasInlineOriginal { facts.append("quoted original header") }
        if returnsTrapMessage { facts.append("the returned original is from the trap") }
        if hasRiskyAttachment { facts.append("executable/archive attachment") }
        if hasHTMLPageAttachment { facts.append("HTML page attachment") }
        if hasEnhancedStatusCode { facts.append("enhanced status code") }
        if linkCount > 0 { facts.append("\(linkCount) link\(linkCount == 1 ? "" : "s")\(hasLinkWithTrapAddress ? ", one with the trap's address" : "")") }
        if hasForm { facts.append("HTML form") }
        if namesOtherAddress { facts.append("names another address") }
        for category in CueCategory.allCases where category.scope == .subject || subjectHits.contains(category) {
            if subjectHits.contains(category) { facts.append("subject \(category.name): \(phrase(category, in: subjectHits))") }
        }
        for category in CueCategory.allCases where category.scope == .text && bodyHits.contains(category) {
            facts.append("text \(category.name): \(phrase(category, in: bodyHits))")
        }
        return facts
    }
}
