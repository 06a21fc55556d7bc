// ClassificationRuleTests.swift -- each classification rule on its own, on small written messages.

import Testing
@testable import Ingest
import Store

/// A trap message built from parts: the trap MX's header on top, then the responder's own.
struct RuleMail {
    var returnPath = "<>"
    var from = "Mail Delivery System <MAILER-DAEMON@mx.sender.example>"
    var to = "info@trap.example.net"
    var subject = "Notice"
    var headers: [String] = []
    var contentType = "text/plain; charset=utf-8"
    var body = "Hello.\n"

    var text: String {
        var lines = [
            "Return-Path: \(returnPath)",
            "Delivered-To: info@trap.example.net",
            "Received: from mx.sender.example (mx.sender.example [198.51.100.7])",
            "\tby mx.trap.example.net (Postfix) with ESMTP id 4Q1; Tue, 11 Mar 2025 09:14:03 +0100 (CET)",
            "From: \(from)",
            "To: \(to)",
            "Subject: \(subject)",
            "Date: Tue, 11 Mar 2025 09:14:01 +0100",
            "Message-ID: <n1@mx.sender.example>",
        ]
        lines += headers
        lines += ["MIME-Version: 1.0", "Content-Type: \(contentType)", "", body]
        return lines.joined(separator: "\n")
    }

    func classified() -> Classification {
        classify(message: Array(text.utf8), trustedNetworks: TrustedNetworks())
    }

    /// A multipart body with the given parts (each `(headers, body)`), boundary `b1`.
    static func multipart(_ parts: [(String, String)]) -> String {
        parts.map { "--b1\n\($0.0)\n\n\($0.1)\n" }.joined() + "--b1--\n"
    }

    /// The header of an original that claims to come from the trap.
    static let trapOriginal = """
        Return-Path: <info@trap.example.net>
        From: "Sales" <info@trap.example.net>
        To: someone@recipient.example
        Subject: Cheap watches
        Message-ID: <spam1@bulk.example>
        """
}

/// One rule case: a message and what the classifier must conclude, and by which rule.
struct RuleCase: CustomTestStringConvertible, Sendable {
    let name: String
    let mail: RuleMail
    let rule: String
    let kind: Classification.Kind
    /// nil for a not-backscatter verdict.
    let strength: EvidenceStrength?
    var testDescription: String { name }

    static let all: [RuleCase] = [
        // Lures and mail that answers nothing.
        RuleCase(name: "an archive instead of the returned original", mail: RuleMail(
            subject: "Mail delivery failed: returning message to sender",
            contentType: "multipart/mixed; boundary=\"b1\"",
            body: RuleMail.multipart([
                ("Content-Type: text/plain", "A message that you sent could not be delivered. The original is attached."),
                ("Content-Type: application/zip; name=\"message.zip\"\nContent-Transfer-Encoding: base64", "UEsDBAo="),
            ])), rule: "dangerous-attachment", kind: .none, strength: nil),
        RuleCase(name: "an HTML page instead of the returned original", mail: RuleMail(
            subject: "Undelivered Mail Returned to Sender",
            contentType: "multipart/mixed; boundary=\"b1\"",
            body: RuleMail.multipart([
                ("Content-Type: text/plain", "Your message could not be delivered. Open the attached report."),
                ("Content-Type: text/html\nContent-Disposition: attachment; filename=\"report.html\"", "<form action=x></form>"),
            ])), rule: "dangerous-attachment", kind: .none, strength: nil),
        RuleCase(name: "a link made out for the trap's account", mail: RuleMail(
            subject: "Undeliverable: 3 incoming messages",
            body: "Your mailbox could not receive 3 messages. Restore it: https://mail-portal.example/r?u=info%40trap.example.net\n"),
                 rule: "account-lure", kind: .none, strength: nil),
        RuleCase(name: "fraud with forged auto-reply headers collecting replies elsewhere", mail: RuleMail(
            returnPath: "<barr@chambers.example>", from: "Barr <barr@chambers.example>", subject: "Auto-Reply: your claim",
            headers: ["Reply-To: private.barr@freemail.example", "X-Autoreply: yes", "Auto-Submitted: auto-replied"],
            body: "This is an automatic acknowledgement. Send your details to my private address.\n"),
                 rule: "replies-redirected", kind: .none, strength: nil),
        RuleCase(name: "a delivery report with a link and no returned original", mail: RuleMail(
            subject: "Delivery Status Notification (Failure)",
            contentType: "multipart/report; report-type=delivery-status; boundary=\"b1\"",
            body: RuleMail.multipart([
                ("Content-Type: text/plain", "Delivery failed. Resend it here: https://resend.example/r/77"),
                ("Content-Type: message/delivery-status",
                 "Reporting-MTA: dns; mx.sender.example\n\nFinal-Recipient: rfc822; someone@recipient.example\nAction: failed\nStatus: 5.0.0"),
            ])), rule: "bare-report-with-link", kind: .none, strength: nil),
        RuleCase(name: "a person forwarding a bounce", mail: RuleMail(
            returnPath: "<anna@office.example>", from: "Anna <anna@office.example>", subject: "Fwd: Undelivered Mail Returned to Sender",
            body: "Can you look at this?\n\n---------- Forwarded message ----------\nFrom: MAILER-DAEMON\n"),
                 rule: "forwarded-by-a-person", kind: .none, strength: nil),
        RuleCase(name: "an abuse report", mail: RuleMail(
            contentType: "multipart/report; report-type=feedback-report; boundary=\"b1\"",
            body: RuleMail.multipart([("Content-Type: text/plain", "This is an abuse report."),
                                      ("Content-Type: message/feedback-report", "Feedback-Type: abuse\nUser-Agent: x/1\nVersion: 1")])),
                 rule: "feedback-report", kind: .none, strength: nil),
        RuleCase(name: "a newsletter titled like an auto-reply", mail: RuleMail(
            returnPath: "<bounce-77@news.shop.example>", from: "Shop <news@shop.example>", subject: "Automatic reply: your coupon expires",
            headers: ["List-Unsubscribe: <https://news.shop.example/u/77>"], body: "Save 20% today.\n"),
                 rule: "bulk-mail", kind: .none, strength: nil),
        // Reports.
        RuleCase(name: "an RFC 3464 report", mail: RuleMail(
            subject: "Undelivered Mail Returned to Sender",
            contentType: "multipart/report; report-type=delivery-status; boundary=\"b1\"",
            body: RuleMail.multipart([
                ("Content-Type: text/plain", "This is the mail system at host mx.sender.example."),
                ("Content-Type: message/delivery-status",
                 "Reporting-MTA: dns; mx.sender.example\n\nFinal-Recipient: rfc822; someone@recipient.example\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.recipient.example"),
            ])), rule: "delivery-status-report", kind: .dsn, strength: .strong),
        RuleCase(name: "a content filter's own report naming malware", mail: RuleMail(
            subject: "VIRUS (W32/Netsky) IN MAIL FROM YOU",
            contentType: "multipart/report; report-type=delivery-status; boundary=\"b1\"",
            body: RuleMail.multipart([
                ("Content-Type: text/plain", "Your message was blocked."),
                ("Content-Type: message/delivery-status",
                 "Reporting-MTA: dns; mx.sender.example\n\nFinal-Recipient: rfc822; someone@recipient.example\nAction: failed\nStatus: 5.7.0"),
            ])), rule: "content-filter-report", kind: .virus, strength: .strong),
        RuleCase(name: "a challenge wrapped in a report", mail: RuleMail(
            subject: "Please verify your message",
            contentType: "multipart/report; report-type=delivery-status; boundary=\"b1\"",
            body: RuleMail.multipart([
                ("Content-Type: text/plain", "This address uses challenge-response. Verify you are a real person: reply to this message."),
                ("Content-Type: message/delivery-status",
                 "Reporting-MTA: dns; mx.sender.example\n\nFinal-Recipient: rfc822; someone@recipient.example\nAction: failed\nStatus: 5.7.1"),
            ])), rule: "challenge-in-report", kind: .challenge, strength: .strong),
        RuleCase(name: "a delivery receipt", mail: RuleMail(
            subject: "Delivered: offer",
            contentType: "multipart/report; report-type=delivery-status; boundary=\"b1\"",
            body: RuleMail.multipart([
                ("Content-Type: text/plain", "Your message has been delivered to the following recipients."),
                ("Content-Type: message/delivery-status",
                 "Reporting-MTA: dns; mx.sender.example\n\nFinal-Recipient: rfc822; someone@recipient.example\nAction: delivered\nStatus: 2.0.0"),
            ])), rule: "delivery-receipt", kind: .autoreply, strength: .strong),
        RuleCase(name: "an RFC 8098 read receipt", mail: RuleMail(
            from: "Petra <petra@recipient.example>", subject: "Read: offer",
            contentType: "multipart/report; report-type=disposition-notification; boundary=\"b1\"",
            body: RuleMail.multipart([
                ("Content-Type: text/plain", "Your message was read."),
                ("Content-Type: message/disposition-notification", "Final-Recipient: rfc822; petra@recipient.example\nDisposition: manual-action/MDN-sent-manually; displayed"),
            ])), rule: "read-receipt", kind: .autoreply, strength: .strong),
        // Known systems by their own headers.
        RuleCase(name: "a challenge system's header", mail: RuleMail(
            returnPath: "<verify@cr.example>", from: "Verify <verify@cr.example>", subject: "Please confirm your message",
            headers: ["X-Guardian-Challenge: 8f2a"], body: "Reply to this message to have it delivered.\n"),
                 rule: "challenge-system", kind: .challenge, strength: .strong),
        RuleCase(name: "a one-time confirmation address", mail: RuleMail(
            returnPath: "<ann-confirm-1733922.4f9e1b2c@home.example>", from: "ann-confirm-1733922.4f9e1b2c@home.example",
            subject: "please confirm", body: "To deliver your message to ann@home.example, reply to this message.\n"),
                 rule: "challenge-system", kind: .challenge, strength: .strong),
        RuleCase(name: "a scanner's virus header", mail: RuleMail(
            returnPath: "<gateway@sender.example>", from: "Gateway <gateway@sender.example>", subject: "Message blocked",
            headers: ["X-Filter-Notification: Virus"], body: "A message from your address was blocked.\n"),
                 rule: "scanner-notice", kind: .virus, strength: .strong),
        RuleCase(name: "a list manager holding a post", mail: RuleMail(
            returnPath: "<staff-bounces@lists.sender.example>", from: "staff-owner@lists.sender.example",
            subject: "Your message to Staff awaits moderator approval",
            headers: ["List-Id: <staff.lists.sender.example>", "X-List-Administrivia: yes"],
            body: "Your mail to 'Staff' is being held until the list moderator can review it.\n"),
                 rule: "list-manager-notice", kind: .autoreply, strength: .strong),
        RuleCase(name: "a list manager refusing a non-member", mail: RuleMail(
            returnPath: "<owner-staff@lists.sender.example>", from: "LISTSERV@lists.sender.example",
            subject: "Your message to STAFF", headers: ["List-Id: <STAFF.lists.sender.example>"],
            body: "Your message has not been distributed: you are not a member of the list.\n"),
                 rule: "list-manager-notice", kind: .dsn, strength: .weak),
        // A returned original.
        RuleCase(name: "a quoted original from the trap, from an ordinary sender", mail: RuleMail(
            returnPath: "<tom@home.example>", from: "Tom <tom@home.example>", subject: "your mail",
            body: "Your message was not delivered.\n\n--- Start of the message's header\n\n\(RuleMail.trapOriginal)\n"),
                 rule: "returned-trap-message", kind: .dsn, strength: .strong),
        RuleCase(name: "a bounce returning an attached original", mail: RuleMail(
            subject: "failure notice",
            contentType: "multipart/mixed; boundary=\"b1\"",
            body: RuleMail.multipart([
                ("Content-Type: text/plain", "Sorry, your message could not be delivered."),
                ("Content-Type: message/rfc822", "From: x@elsewhere.example\nSubject: s\n\nbody"),
            ])), rule: "bounce-with-original", kind: .dsn, strength: .strong),
        RuleCase(name: "a qmail bounce", mail: RuleMail(
            subject: "failure notice",
            body: "Hi. This is the qmail-send program at mx.sender.example.\nI'm afraid I wasn't able to deliver your message.\n"),
                 rule: "mta-bounce-template", kind: .dsn, strength: .strong),
        // RFC 3834 responses.
        RuleCase(name: "an RFC 3834 reply with a null sender", mail: RuleMail(
            from: "Eva <eva@recipient.example>", subject: "Away", headers: ["Auto-Submitted: auto-replied"],
            body: "I am away until Monday.\n"), rule: "auto-replied", kind: .autoreply, strength: .strong),
        RuleCase(name: "an auto-responder header on an ordinary sender", mail: RuleMail(
            returnPath: "<eva@recipient.example>", from: "Eva <eva@recipient.example>", subject: "Away",
            headers: ["X-Autoreply: yes"], body: "I am away until Monday.\n"), rule: "auto-replied", kind: .autoreply, strength: .weak),
        RuleCase(name: "an auto-generated answer to another domain's message", mail: RuleMail(
            returnPath: "<bounces+77@mail.desk.example>", from: "Support <support@shop.example>", subject: "Ticket 77",
            headers: ["Auto-Submitted: auto-generated", "In-Reply-To: <abc@bulk-sender.example>"],
            body: "We opened ticket 77 for your request.\n"), rule: "auto-generated-answer", kind: .autoreply, strength: .weak),
        // Wording backed by some structure.
        RuleCase(name: "a bounce in words from the mail system quoting SMTP", mail: RuleMail(
            subject: "Returned mail", body: "Delivery to someone@recipient.example failed: 550 5.1.1 user unknown\n"),
                 rule: "mail-system-bounce", kind: .dsn, strength: .strong),
        RuleCase(name: "an SMTP rejection of another address, in no language the tables know", mail: RuleMail(
            subject: "Teslim edilemeyen ileti",
            body: "Gönderdiğiniz ileti alıcıya teslim edilemedi: satis@recipient.example\n(552 5.2.2 Mailbox size limit exceeded)\n"),
                 rule: "mail-system-bounce", kind: .dsn, strength: .strong),
        RuleCase(name: "a bounce in words naming the recipient", mail: RuleMail(
            from: "Mail Server <noreply@isp.example>", subject: "Undeliverable",
            body: "Your message to someone@recipient.example could not be delivered: mailbox full.\n"),
                 rule: "mail-system-bounce", kind: .dsn, strength: .weak),
        RuleCase(name: "a virus notice in words", mail: RuleMail(
            from: "Gateway <gw@sender.example>", subject: "Alert",
            body: "Your message to someone@recipient.example contained a virus and was deleted.\n"),
                 rule: "virus-notice-wording", kind: .virus, strength: .weak),
        RuleCase(name: "a verification request in words", mail: RuleMail(
            returnPath: "<lucy@home.example>", from: "Lucy <lucy@home.example>", subject: "Re: hello",
            body: "I only accept mail from approved senders. Please verify you are a real person: reply to this message.\n"),
                 rule: "challenge-wording", kind: .challenge, strength: .weak),
        RuleCase(name: "an auto-reply tag without headers", mail: RuleMail(
            returnPath: "<jan@office.example>", from: "Jan <jan@office.example>", subject: "Automatic reply: offer",
            body: "Thank you. I will be back on Monday.\n"), rule: "auto-reply-tag", kind: .autoreply, strength: .weak),
        RuleCase(name: "a Notes return receipt", mail: RuleMail(
            returnPath: "<luis@cargo.example>", from: "luis@cargo.example", subject: "Return Receipt",
            body: "Your document:   offer\nwas received by: Luis/CARGO\nat:              04/06/2025 18:26:52\n"),
                 rule: "receipt", kind: .autoreply, strength: .weak),
        RuleCase(name: "an Outlook plain-text read receipt", mail: RuleMail(
            returnPath: "<office@council.example>", from: "Office <office@council.example>", subject: "Read: tender",
            body: "Your message\n\n  To: Office\n  Subject: tender\n\nwas read on Monday, 17 February 2025 09:14:55.\n"),
                 rule: "receipt", kind: .autoreply, strength: .weak),
        RuleCase(name: "vacation(1) with Precedence: bulk", mail: RuleMail(
            returnPath: "<arne@physics.example>", from: "arne@physics.example", subject: "away from my mail",
            headers: ["Precedence: bulk"], body: "I am at a workshop and will read your message when I return.\n"),
                 rule: "auto-reply-wording", kind: .autoreply, strength: .weak),
        RuleCase(name: "an acknowledgement with a null sender", mail: RuleMail(
            from: "Desk <desk@shop.example>", subject: "Thank you for your e-mail",
            body: "Thank you for your message. We will get back to you soon.\n"),
                 rule: "auto-reply-wording", kind: .autoreply, strength: .weak),
        RuleCase(name: "an unrecognized notice from the mail system", mail: RuleMail(
            subject: "Notice", body: "Something happened to a message.\n"),
                 rule: "mail-system-notice", kind: .unknownBounce, strength: .weak),
        // Nothing concludes.
        RuleCase(name: "null-sender spam with a link", mail: RuleMail(
            from: "Deals <deals@shop.example>", subject: "80% off", body: "Best prices: http://shop.example/?r=1\n"),
                 rule: "no-rule", kind: .none, strength: nil),
    ]
}

@Suite struct ClassificationRuleTests {
    @Test(arguments: RuleCase.all)
    func rule(_ testCase: RuleCase) {
        let result = testCase.mail.classified()
        #expect(result.rule == testCase.rule, "\(result.reason); matched \(result.matchedRules)")
        #expect(result.kind == testCase.kind, "\(result.reason)")
        if let strength = testCase.strength {
            #expect(result.verdict == .backscatter, "\(result.reason)")
            #expect(result.strength == strength, "\(result.reason)")
        } else {
            #expect(result.verdict == .notBackscatter, "\(result.reason)")
        }
    }

    /// Every rule has a unique name and at least one case above that it decides.
    @Test func everyRuleIsExercised() {
        let names = ClassificationRules.ordered.map(\.name)
        #expect(Set(names).count == names.count, "rule names are unique")
        let decided = Set(RuleCase.all.map(\.rule))
        for name in names { #expect(decided.contains(name), "no case is decided by \(name)") }
    }

    /// The auto-reply tag counts at the head of the subject in every language of the table,
    /// and not after a reply prefix: "Re: Automatic reply: ..." is a person answering one.
    @Test(arguments: [
        "Automatic reply", "Automatische Antwort", "Réponse automatique", "Respuesta automática", "Risposta automatica",
        "Resposta automática", "Automatisch antwoord", "Automatisk svar", "Automatyczna odpowiedź", "Automatická odpověď",
        "Automatikus válasz", "Otomatik yanıt", "Αυτόματη απάντηση", "Автоответ", "Автоматический ответ",
        "自動応答", "自动回复", "自動回覆", "자동 응답", "رد تلقائي",
    ])
    func localizedAutoreplyTags(_ tag: String) {
        var mail = RuleMail(returnPath: "<jan@office.example>", from: "Jan <jan@office.example>", subject: "\(tag): offer",
                            body: "Back on Monday.\n")
        #expect(mail.classified().rule == "auto-reply-tag", "\(tag)")
        mail.subject = "Re: \(tag): offer"
        #expect(mail.classified().verdict == .notBackscatter, "a reply to an auto-reply: \(tag)")
    }

    /// Advertising that forges auto-reply headers answers no message and carries links.
    @Test func forgedAutoReplyHeadersOnAdvertisingAreNotBackscatter() {
        let mail = RuleMail(returnPath: "<promo@shop.example>", from: "Shop <promo@shop.example>", subject: "Auto: our summer sale",
                            headers: ["Auto-Submitted: auto-replied"], body: "Summer sale: https://shop.example/sale\n")
        #expect(mail.classified().verdict == .notBackscatter)
    }

    /// Advertising that forges an In-Reply-To too, to pass as an answer: weak evidence at
    /// most, which lists only when corroborated, never on one message.
    @Test func aForgedInReplyToWithLinksIsWeakAtMost() {
        var mail = RuleMail(returnPath: "<promo@shop.example>", from: "Shop <promo@shop.example>", subject: "Re: your order",
                            headers: ["Auto-Submitted: auto-replied", "In-Reply-To: <a1b2c3@shop.example>"],
                            body: "Thank you for your message. Summer sale: https://shop.example/sale\n")
        let classified = mail.classified()
        #expect(classified.verdict != .backscatter || classified.strength == .weak, "\(classified.rule)")
        mail.body = "Thank you for your message. We answer within two days.\n"
        #expect(mail.classified().strength == .strong, "without links, an answer to a message is strong")
    }

    /// Account phishing asks to verify "your account" and names no message the trap sent.
    @Test func verifyingAnAccountIsNotAChallenge() {
        let mail = RuleMail(returnPath: "<it@desk.example>", from: "IT Desk <it@desk.example>", subject: "Action required",
                            body: "Your message quota is full. Verify you are a real person and the sender of this mailbox: "
                                + "reply to this message with your password.\n")
        #expect(mail.classified().verdict == .notBackscatter)
    }

    /// A challenge system's verification link names the sender it verifies, the trap; with the
    /// trap's own message returned, it is no account lure.
    @Test func aVerificationLinkNamingTheTrapIsAChallenges() {
        let body = """
            The message you sent requires that you verify that you are a real person. Simply reply, or open
            https://host.example/cgi-sys/verify?email=info%40trap.example.net&id=8a3c

            The headers of the message sent from your address are shown below:

            \(RuleMail.trapOriginal)
            Date: Thu, 21 Mar 2024 21:57:39 +0530
            """
        let mail = RuleMail(returnPath: "<mike@plumbing.example>", from: "mike@plumbing.example",
                            subject: "Your email requires verification", body: body)
        let result = mail.classified()
        #expect(result.verdict == .backscatter, "\(result.reason)")
        #expect(result.kind == .challenge, "\(result.reason)")
    }

    /// "Out of office:" on advertising that answers nothing is not an auto-reply; on an answer
    /// to a message (In-Reply-To) it is.
    @Test func anAbsenceTagCountsOnAnAnswer() {
        var mail = RuleMail(returnPath: "<ethan@seo.example>", from: "Ethan <ethan@seo.example>", subject: "Out of Office: Re: your website",
                            body: "Thanks for your email! I'm out of the office, but your site is not on the first page of Google.\n")
        #expect(mail.classified().verdict == .notBackscatter)
        mail.headers = ["In-Reply-To: <offer.77@bulk.example>"]
        #expect(mail.classified().rule == "auto-reply-tag")
    }

    /// A person announcing an absence copies colleagues and writes no tag prefix.
    @Test func anAbsenceAnnouncedByAPersonIsNotAnAutoReply() {
        let mail = RuleMail(returnPath: "<paola@office.example>", from: "Paola <paola@office.example>",
                            subject: "Out of office from Monday - who takes over", headers: ["Cc: Andrea <andrea@office.example>"],
                            body: "I will be out of the office for five months; Andrea takes over.\n")
        #expect(mail.classified().verdict == .notBackscatter)
    }

    /// Wording alone never lists mail sent to a hidden list.
    @Test func anAutoReplyTagOnMailToAHiddenListIsNotBackscatter() {
        let mail = RuleMail(returnPath: "<barr@freemail.example>", from: "Barr <barr@freemail.example>",
                            to: "undisclosed-recipients:;", subject: "Auto-Reply: Re: your payment is approved",
                            body: "This is an automatic reply to your enquiry. Send your bank details.\n")
        #expect(mail.classified().verdict == .notBackscatter)
    }
}

@Suite struct MessageEvidenceTests {
    private func evidence(_ mail: RuleMail) -> MessageEvidence { MessageEvidence(message: Message(raw: Array(mail.text.utf8))) }

    @Test func namespaceURLsInHTMLAreNotLinks() {
        let html = """
            <html xmlns="http://www.w3.org/TR/REC-html40" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml">
            <body><p>Back on Monday.</p></body></html>
            """
        #expect(evidence(RuleMail(contentType: "text/html", body: html)).linkCount == 0)
        let anchor = "<html><body><a href=\"https://portal.example/x\">Open</a> or see https://help.example/y</body></html>"
        #expect(evidence(RuleMail(contentType: "text/html", body: anchor)).linkCount == 2)
    }

    @Test func aLinkInAQuotedSMTPReplyIsTheRemoteServers() {
        let body = """
            Each of the following recipients was rejected by a remote mail server.
                <<< 550 SC-004 Refer your provider to http://mail.example/troubleshooting.
            554-5.7.1 See https://policy.example/rejected
            """
        #expect(evidence(RuleMail(body: body)).linkCount == 0)
    }

    @Test func linksOfAQuotedOriginalAreNotTheNotices() {
        let body = "Your message could not be delivered.\n\n\(RuleMail.trapOriginal)\n\nBuy now: https://shop.example/\n"
        let facts = evidence(RuleMail(body: body))
        #expect(facts.hasInlineOriginal)
        #expect(facts.returnsTrapMessage)
        #expect(facts.linkCount == 0)
    }

    @Test(arguments: [
        ("https://portal.example/login?user=info@trap.example.net", true),
        ("https://portal.example/login?user=INFO%40trap.example.net", true),
        ("https://portal.example/login?token=8f2a", false),
    ])
    func aLinkCarryingTheTrapAddress(_ url: String, _ expected: Bool) {
        let facts = evidence(RuleMail(body: "Open \(url) now.\n"))
        #expect(facts.linkCount == 1)
        #expect(facts.hasLinkWithTrapAddress == expected)
    }

    @Test(arguments: [
        ("x-verifyfirst-challenge", "a83f", true), ("x-ice-verification", "19f2", true), ("x-sendercheck", "challenge", true),
        ("x-delivery-agent", "tmda/1.1.12", true), ("x-spam-checker-version", "spamassassin", false),
        ("x-mailer", "outlook", false),
    ])
    func challengeHeaders(_ name: String, _ value: String, _ expected: Bool) {
        #expect(MessageEvidence.isChallengeHeader(name: name, value: value) == expected)
    }

    @Test(arguments: [
        ("x-tm-as-notification", "virus", true), ("x-ksmg-antivirus-status", "infected: heur:trojan.x", true),
        ("x-spam-virus", "yes", true), ("x-virus-scanned", "yes", false), ("x-virus-status", "clean", false),
        ("x-eset-result", "clean, is ok", false), ("x-ksmg-antivirus", "kaspersky secure mail gateway, version 2", false),
        ("x-antivirus", "virus-free", false),
    ])
    func virusHeaders(_ name: String, _ value: String, _ expected: Bool) {
        #expect(MessageEvidence.isVirusHeader(name: name, value: value) == expected)
    }

    @Test(arguments: [
        ("peter-confirm-1732884335.31877.b94f2e@lindqvist.example", true), ("tom-qconfirm-1f4e7a9c02b3d5e8@home.example", true),
        ("confirmations@shop.example", false), ("confirm-7@shop.example", false),
    ])
    func oneTimeConfirmationAddresses(_ address: String, _ expected: Bool) {
        #expect(MessageEvidence.isOneTimeConfirmationAddress(address) == expected)
    }

    /// RFC 3463 codes, not version numbers or addresses that look like them.
    @Test(arguments: [
        ("550 5.1.1 user unknown", true), ("said: 452 4.2.2 mailbox full", true), ("status 5.7.26 unauthenticated", true),
        ("by mx (Exim 4.96.2)", false), ("version 5.10.3", false), ("host 5.9.1.20", false), ("release 4.4", false),
    ])
    func enhancedStatusCodes(_ text: String, _ expected: Bool) {
        #expect(MessageEvidence.containsEnhancedStatusCode(Array(text.utf8)) == expected, "\(text)")
    }

    /// An answer to another organisation's message, not a notification threaded to its own.
    @Test func foreignMessageReferences() {
        var mail = RuleMail(returnPath: "<bugzilla@bugs.example.org>", from: "bugzilla@bugs.example.org",
                            headers: ["In-Reply-To: <bug-132-3@http.bugs1.example.org/>"])
        #expect(!evidence(mail).answersForeignMessage)
        mail.headers = ["In-Reply-To: <0e7c4b1a@mailer.shop.example>"]
        #expect(evidence(mail).answersForeignMessage)
    }
}
