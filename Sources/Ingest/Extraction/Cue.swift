// Cue.swift -- the wording tables: what bounces, auto-replies and challenges say.

/// Cue categories and their phrases (lowercase, single-spaced, as `CueText` produces).
///
/// Wording is the second line of evidence, after structure (null sender, RFC 3464 parts,
/// RFC 3834 headers, a returned original). Phrases come from the fixed texts MTAs and mail
/// clients generate (Postfix `bounce` templates, Sendmail, Exim, qmail, Exchange/Office 365,
/// Lotus Notes, Gmail, Courier, the "vacation" program and its clones) and the genre's
/// common English. Text tables are English: a notice in another language is recognized by its
/// structure. Subject tags, which responders put in front of the original subject in the
/// user's language, are translated systematically (every language of the table, not those a
/// sample happened to use), as is the word for a virus. None names a particular sender,
/// host or message.
enum Cue {
    /// The one automaton for every table below.
    static let matcher = CueMatcher(entries: entries)

    private static var entries: [(category: CueCategory, phrase: String)] {
        let tables: [(CueCategory, [String])] = [
            (.bounceSubject, bounceSubjects), (.delaySubject, delaySubjects), (.autoreplySubject, autoreplySubjects),
            (.absenceSubject, absenceSubjects), (.virusSubject, virusSubjects), (.bounceBody, bounceBodies),
            (.delayBody, delayBodies), (.recipientProblem, recipientProblems), (.autoreplyBody, autoreplyBodies),
            (.acknowledgement, acknowledgements), (.challenge, challenges), (.messageReference, messageReferences),
            (.virusBody, virusBodies), (.listManager, listManagerRejections), (.listModeration, listModerationNotices),
            (.forwardMarker, forwardMarkers), (.originalMarker, originalMarkers), (.smtpEvidence, smtpTranscript),
            (.mtaTemplate, mtaTemplates), (.receiptSubject, receiptSubjects), (.receiptTemplate, receiptTemplates), (.malware, malwareWords), (.verification, verificationWords),
            (.senderOrPerson, senderOrPersonWords), (.replyRequest, replyRequests), (.filterProduct, filterProducts),
            (.challengeProduct, challengeProducts),
        ]
        return tables.flatMap { category, phrases in phrases.map { (category, $0) } }
    }

    // MARK: - Subjects

    /// Delivery-failure subjects (Postfix, Sendmail, Exim, qmail, Exchange, Notes, Gmail, ...).
    static let bounceSubjects = [
        "undeliverable", "undelivered", "undeliverd", "non-deliverable", "nondeliverable", "non deliverable",
        "non-delivery", "nondelivery", "non delivery", "delivery status notification", "delivery notification",
        "delivery failure", "delivery failed", "delivery has failed", "mail delivery problem", "mail delivery error",
        "failure notice", "failure delivery", "mail delivery failed", "mail delivery failure",
        "mail delivery problem", "mail system error", "returned mail", "returned message", "return mail",
        "returning message to sender", "returned to sender", "message returned", "mail returned",
        "could not be delivered", "couldn't be delivered", "not delivered", "unable to deliver",
        "non-delivery report", "delivery status", "mail failure", "error sending", "sending failed",
        "could not send message", "cannot send message", "rejected mail", "mail rejected", "message rejected",
        "bounced mail", "bounced message", "email bounce", "mail bounce",
        "user unknown", "mailbox full", "over quota", "mail failed", "message failed", "returning to sender",
        "failed mail", "delivery unsuccessful", "unsuccessful delivery",
        // German, French, Spanish, Italian, Portuguese, Dutch, Nordic, Polish, Czech, Hungarian, Turkish.
        "unzustellbar", "nicht zustellbar", "zustellung fehlgeschlagen", "nicht zugestellt", "fehler bei der zustellung",
        "non remis", "non distribuable", "échec de la remise", "echec de la remise", "échec de remise",
        "impossible de remettre", "rapport de non-remise", "message non délivré", "non délivré",
        "no se puede entregar", "no entregado", "no se pudo entregar", "error de entrega", "entrega fallida",
        "estado de entrega", "notificación de entrega", "non recapitabile", "mancato recapito", "mancata consegna",
        "impossibile recapitare", "messaggio non consegnato", "não entregue", "falha na entrega",
        "não foi possível entregar", "nao entregue", "onbestelbaar", "niet afgeleverd", "niet bezorgd",
        "kan ikke leveres", "kunde inte levereras", "kunne ikke leveres", "olevererbart", "ei voitu toimittaa",
        "nie dostarczono", "niedostarczon", "nie można dostarczyć", "nie mozna dostarczyc", "nedoručitelné",
        "nedoručiteľné", "nem kézbesíthető", "kézbesíthetetlen", "teslim edilemedi", "iletilemedi",
        // Russian, Ukrainian, Japanese, Chinese, Korean.
        "не доставлено", "недоставлен", "не может быть доставлено", "не удалось доставить", "ошибка доставки",
        "не доставлене", "配信不能", "配信エラー", "配送エラー", "送信エラー", "送信できません", "宛先不明", "未配達",
        "配信失敗", "返送", "退信", "系统退信", "投递失败", "无法投递", "未送达", "發送失敗", "無法傳遞",
        "발송 실패", "전송 실패", "반송",
    ]

    /// Delay notices (RFC 3464 `Action: delayed`, Exim/Sendmail warnings).
    static let delaySubjects = [
        "delayed mail", "delivery delayed", "delivery delay", "message delayed", "mail delayed",
        "warning: message", "warning: could not send", "(delay)", "delivery status notification (delay)",
        "still being retried", "verzögert", "retardé", "retrasado", "ritardat",
    ]

    /// Tags by which responders say their reply is automatic, as they put them in front of the
    /// original subject ("Automatic reply: ..."): the English forms of RFC 3834 responders,
    /// Exchange/Outlook, Notes (`AUTO:` is read separately), Gmail and the vacation programs,
    /// and Outlook's translations of "Automatic reply" in the languages it ships in.
    static let autoreplySubjects = [
        "auto reply", "auto-reply", "autoreply", "auto re:", "automatic reply", "automatic response", "auto response",
        "auto-response", "autoresponse", "autorespond", "automated response", "automated reply", "out of office autoreply",
        "vacation reply", "vacation notice", "vacation message", "away message", "[auto", "abwesenheitsnotiz",
        // de, fr, es, ca, it, pt, nl, da, sv, no, fi, et, lv, lt, pl, cs, sk, hu, ro, sl, hr/sr/bs, tr, el.
        "automatische antwort", "autom. antwort", "réponse automatique", "reponse automatique", "respuesta automática",
        "respuesta automatica", "resposta automàtica", "risposta automatica", "resposta automática",
        "resposta automatica", "automatisch antwoord", "automatisk svar", "automatiskt svar", "autosvar",
        "automaattinen vastaus", "automaatne vastus", "automātiskā atbilde", "automatinis atsakymas",
        "automatyczna odpowied", "automatická odpověď", "automatická odpoveď", "automatikus válasz", "răspuns automat",
        "raspuns automat", "samodejni odgovor", "automatski odgovor", "otomatik yanıt", "otomatik cevap",
        "αυτόματη απάντηση",
        // ru, uk, bg, ar, he, ja, zh (simplified and traditional), ko, vi, id/ms, th.
        "автоответ", "автоматический ответ", "автоматична відповідь", "автоматичен отговор", "رد تلقائي",
        "תשובה אוטומטית", "自動応答", "自動返信", "自动回复", "自动答复", "自動回覆", "自動答覆", "자동 응답", "자동응답",
        "자동 회신", "trả lời tự động", "balasan otomatis", "balasan automatik", "ตอบกลับอัตโนมัติ",
    ]

    /// Tags by which vacation responders say the person is away ("Out of office: ..."). A person
    /// announcing an absence writes the same words, so these count only as a prefix tag.
    static let absenceSubjects = [
        "out of office", "out of the office", "out-of-office", "away from the office", "on vacation", "on holiday",
        "on leave", "abwesenheit", "abwesend", "nicht im büro", "außer haus", "absent du bureau",
        "absence du bureau", "absent", "fuera de la oficina", "fuera de oficina", "ausente", "fuori ufficio", "fuori sede",
        "assente", "fora do escritório", "afwezig", "niet aanwezig", "frånvaro", "fraværende", "fravær", "ikke på kontoret",
        "poissa", "poza biurem", "nieobecn", "nepřítomn", "mimo kancelář", "házon kívül", "ofis dışında",
        "εκτός γραφείου", "нет на месте", "в отпуске", "отсутств", "不在", "休暇", "休假", "外出", "부재",
        "خارج المكتب", "מחוץ למשרד",
    ]

    /// Acknowledgements of helpdesks, CRMs and auto-responders ("thank you for your message"):
    /// also the words of order confirmations and newsletters, so they count only for a reply.
    static let acknowledgements = [
        "thank you for your email", "thank you for your e-mail", "thank you for your message",
        "thanks for your email", "thanks for your e-mail", "thanks for your message", "thank you for contacting",
        "thanks for contacting", "thank you for writing", "we have received your", "we received your", "i have received your",
        "your message has been received", "received your message", "received your email",
        "will reply as soon as", "reply as soon as possible", "respond as soon as possible",
        "respond to your email", "respond to your message", "reply to your email", "get back to you",
        "this is an automated", "this is an automatic",
    ]

    /// Virus / content-filter notice subjects.
    static let virusSubjects = [
        "virus", "infected", "malware", "worm found", "trojan", "quarantine", "banned attachment",
        "banned file", "blocked attachment", "content filter", "content-filter", "contentfilter", "policy violation",
        "attachment removed", "attachment blocked", "spam detected", "detected as spam", "wirus",
        "virenfund", "virenwarnung", "infiziert", "infecté", "infectado", "infetto", "besmet", "zainfekowan",
        "вирус", "заражен", "ウイルス", "病毒",
    ]

    // MARK: - Bodies

    /// Delivery-failure wording in notice text.
    static let bounceBodies = [
        "could not be delivered", "couldn't be delivered", "could not deliver", "couldn't deliver",
        "cannot be delivered", "can't be delivered", "was not delivered", "wasn't delivered",
        "has not been delivered", "have not been delivered", "were not delivered", "could not be sent",
        "unable to deliver", "was undeliverable", "is undeliverable", "message undeliverable",
        "undeliverable message", "undeliverable mail", "undelivered mail", "delivery has failed",
        "delivery failed", "delivery to the following recipient", "delivery to these recipients",
        "delivery to the following", "permanent error", "permanent fatal error", "permanent failure",
        "failed permanently", "this is a permanent error", "the following address(es) failed",
        "the following addresses had", "following recipient(s)", "following recipients failed",
        "mail delivery software", "mail delivery system", "mail delivery subsystem",
        "delivery status notification", "i'm sorry to have to inform you", "i am sorry to have to inform you",
        "this is the mail system at host", "this is the qmail-send program", "message delivery has failed",
        "your message did not reach", "did not reach some or all", "your message couldn't be delivered",
        "your message wasn't delivered", "your message could not be delivered", "message could not be delivered",
        "returned to sender", "returning message to sender", "returned mail", "delivery failure",
        "nondelivery report", "non delivery report",
        "host or domain name not found", "relay access denied", "relaying denied", "rejected your message",
        "message was rejected", "message has been rejected", "mail was rejected", "smtp error from remote",
        "error from remote mail server", "remote host said", "remote server replied", "remote server returned",
        "generated by the mail server", "this message was created automatically", "there was an error sending",
        "failed to deliver", "message not delivered", "delivery attempt failed", "could not be forwarded",
        "no valid recipients", "failed addresses follow", "failed recipient", "delivery was stopped",
        "could not be relayed",
    ]

    /// Delay wording.
    static let delayBodies = [
        "will continue trying", "will keep trying", "will retry", "still trying", "not yet been delivered",
        "has not yet been delivered", "temporary failure", "delivery attempts will continue",
        "message is delayed", "has been delayed", "delayed for", "could not send message for past",
        "cannot send message for", "no action is required on your part", "action: delayed",
    ]

    /// Wording about the failed recipient (reply-text fragments of RFC 3463 classes 5.1.x/5.2.x).
    static let recipientProblems = [
        "user unknown", "unknown user", "no such user", "no such recipient", "no such mailbox",
        "no such address", "mailbox unavailable", "mailbox not found", "mailbox does not exist",
        "mailbox is full", "mailbox full", "mailbox has exceeded", "over quota", "quota exceeded",
        "exceeded storage", "exceeded the quota", "recipient address rejected", "address rejected",
        "invalid recipient", "invalid user", "invalid mailbox", "invalid address",
        "unknown recipient", "not a valid user", "not a valid recipient", "account is disabled",
        "account has been disabled", "account is inactive", "address does not exist",
        "user does not exist", "recipient does not exist", "addressee unknown", "no mailbox here",
        "domain not found", "user not found", "unknown host", "host unknown", "host not found", "recipient not found",
        "is not a valid mailbox",
    ]

    /// Vacation and out-of-office wording (strong).
    static let autoreplyBodies = [
        "out of the office", "i am away", "i'm away", "i am currently away",
        "i'm currently away", "i am currently out", "i'm currently out", "i am out of", "i'm out of",
        "i will be out", "i will be away", "i am on vacation", "i'm on vacation",
        "i'm on holiday", "on annual leave", "on vacation until", "on leave until",
        "away until", "back in the office", "return to the office", "returning to the office",
        "i will return", "i will be back", "will be back on", "limited access to email", "limited access to e-mail",
        "limited access to my email", "upon my return", "on my return", "when i return", "until my return",
        "automatic reply", "automated reply", "automatic response", "automated response", "auto-reply",
        "autoreply", "auto reply", "this is an auto-reply", "this is an auto reply", "vacation message",
    ]

    /// Challenge-response wording (TMDA-style verification requests and their commercial kin).
    ///
    /// Fixed phrases of the genre; the looser evidence (a verification word, a word for the
    /// sender or a person, a reply request or link) is combined in `MessageEvidence.asksForVerification`.
    static let challenges = [
        "verify that you are", "verify you are", "confirm you are a",
        "prove that you are", "prove you are", "real person", "a human being", "human sender",
        "not a spammer", "not an automated", "challenge-response", "challenge/response",
        "challenge response", "sender verification", "verification request",
        "complete the verification", "must be verified",
        "list of approved senders", "approved senders", "approved sender list",
        "allowed senders", "authorized senders", "whitelist", "white list", "white-list", "safe sender list",
        "spam protection", "anti-spam system", "spam filter requires",
        "has been quarantined pending", "message is being held", "held for verification", "pending verification",
        "held pending", "unverified sender", "anti-spam verification", "sender is not yet verified",
        // German, French, Spanish, Italian, Dutch, Portuguese, Polish, Russian, Japanese, Chinese.
        "bestätigen sie, dass sie", "absenderbestätigung", "absenderverifizierung", "vérifier que vous",
        "confirmer que vous", "confirmez que vous", "verificar que usted", "confirmar que usted",
        "confirme que usted", "verificare che sei", "confermare che sei", "confermi di essere",
        "bevestigen dat u", "bevestig dat u", "confirmar que você", "confirme que você", "potwierdzić, że jesteś",
        "potwierdź, że jesteś", "подтвердите, что вы", "подтвердить, что вы", "送信者確認", "送信者認証",
        "发件人验证", "發件人驗證",
    ]

    /// Words that ask for a verification or confirmation (one leg of the challenge evidence).
    static let verificationWords = [
        "verify", "verifi", "vérifi", "confirm that you", "confirm you", "confirm your address",
        "bestätigen sie", "bestätigung ihrer", "confirmez", "confirmer votre", "confirme su", "confirmar su",
        "conferma", "confermare", "bevestig", "confirme seu", "confirmar seu", "potwierd", "weryfik",
        "подтверд", "верифик", "認証", "验证", "驗證",
    ]

    /// Words for the sender or for a human being, as a verification request names them.
    static let senderOrPersonWords = [
        "sender", "human", "a person", "not a robot", "not a machine", "absender", "mensch", "expéditeur",
        "expediteur", "humain", "une personne", "remitente", "humano", "una persona", "mittente", "umano",
        "afzender", "een persoon", "echt persoon", "remetente", "uma pessoa", "nadawc", "człowiek",
        "отправител", "человек", "送信者", "送信元", "人間", "发件人", "發件人", "寄件者", "真人",
    ]

    /// Requests to reply or to follow a link (the action a challenge asks for).
    static let replyRequests = [
        "reply to this", "simply reply", "respond to this", "click the link", "click on the link",
        "click the following link", "click on the following link", "follow the link", "visit the link",
        "antworten sie auf diese", "auf diese nachricht antworten", "klicken sie auf den link", "répondez à ce",
        "répondre à ce", "cliquez sur le lien", "responda a este", "responder a este", "haga clic en el enlace",
        "rispondi a questo", "rispondere a questo", "clicca sul link", "beantwoord dit", "antwoord op dit",
        "klik op de link", "responda a esta", "clique no link", "odpowiedz na t", "kliknij w link", "kliknij link",
        "ответьте на это", "ответьте на данное", "перейдите по ссылке", "このメールに返信", "本メールに返信",
        "回复此邮件", "回覆此郵件", "点击链接", "點擊連結",
    ]

    /// References to the message the notice answers (the trap's supposed message).
    static let messageReferences = [
        "your message", "you sent", "message you sent", "mail you sent", "email you sent", "e-mail you sent",
        "your email to", "your e-mail to", "your mail to", "your email about", "your email regarding",
        "sent from your address", "message sent by you", "message from you", "your recent message",
        "your inquiry", "your submission", "ihre nachricht", "votre message", "su mensaje", "il suo messaggio",
        "sua mensagem", "uw bericht", "twoja wiadomość", "ваше сообщение", "ваше письмо",
    ]

    /// Virus and content-filter notice wording.
    static let virusBodies = [
        "virus found", "virus detected", "found a virus", "contains a virus", "contained a virus",
        "infected with", "infected message", "infected attachment", "is infected",
        "detected a virus", "virus was detected", "viruses were found", "malware detected", "contains malware",
        "banned attachment", "blocked attachment", "banned file", "has been quarantined", "was quarantined",
        "been placed in quarantine", "content filter", "blocked by our",
        "violates our", "was blocked", "has been blocked", "dangerous attachment",
        "virus:", "infection", "unsolicited bulk email", "considered spam", "classified as spam", "identified as spam",
        "detected as spam", "banned content", "spam content",
    ]

    /// Words naming malware, and the shapes of the names scanners give it: CARO-style platform
    /// prefixes (`W32/Family@mm`, `Win32.Worm.X`, `JS.Downloader`, `HTML/Phish`), Kaspersky's
    /// `HEUR:`/`Email-Worm.`, Trend Micro's `WORM_X.A`/`TROJ_X`, Sophos's `Troj/`, the EICAR test file.
    static let malwareWords = [
        "virus", "infected", "malware", "trojan", "ransomware", "infiziert", "infecté", "infectado", "infetto",
        "besmet", "wirus", "zainfekowan", "вирус", "заражен", "вредонос", "ウイルス", "病毒", "惡意", "恶意",
        "w32/", "w32.", "win32.", "win32/", "win.", "w97m/", "w97m.", "x97m/", "x97m.", "o97m/", "o97m.", "js/", "js.",
        "vbs/", "vbs.", "html/", "html.", "lnk/", "lnk.", "pdf/", "pdf.", "heur:", "i-worm", "email-worm", "net-worm",
        "p2p-worm", "im-worm", "worm_", "worm.", "troj_", "troj/", "backdoor.", "backdoor/", "exploit.", "exploit/",
        "eicar",
    ]

    /// Virus scanners and content filters that write notices, as they name themselves in From
    /// or X-Mailer (amavisd-new's default notice sender is "Content-filter at HOST").
    static let filterProducts = [
        "antivirus", "anti-virus", "anti virus", "virus scan", "virusscan", "viruswall", "virus wall",
        "virenschutz", "virenscanner", "virenwächter", "antywirus", "антивирус", "ウイルス対策", "杀毒", "防毒",
        "content-filter", "content filter", "contentfilter", "inhaltsfilter", "mailscanner", "mail scanner",
        "mailsweeper", "mailmarshal", "amavis", "clamav", "clamsmtp", "bitdefender", "kaspersky", "symantec",
        "mcafee", "groupshield", "trend micro", "interscan", "scanmail", "sophos", "f-secure", "gwava",
        "messagelabs", "avast", "drweb", "dr.web",
    ]

    /// Challenge-response systems, as their notices name themselves (From, Message-ID, X-Mailer).
    static let challengeProducts = [
        "boxbe", "spamarrest", "spam arrest", "bluebottle", "mailblocks", "boxtrapper", "-tmda-confirm", "choicemail",
        "sendio", "spamlion", "spamazoid", "exispam",
    ]

    /// What list managers (Mailman, Majordomo, Sympa, LISTSERV, ezmlm, Google/Groups.io-style
    /// groups) say when they refuse a post: the poster is not a member, or the list does not exist.
    static let listManagerRejections = [
        "not a member", "not member", "non-member", "nonmember", "members only", "only members", "members-only",
        "not subscribed", "not on the list", "not allowed to post", "not authorized to", "posting restriction",
        "posts from non", "rejected", "has not been distributed", "list does not exist", "unknown list",
    ]

    /// What list managers say when they hold a post for a moderator, or acknowledge it.
    static let listModerationNotices = [
        "awaiting moderator", "awaits moderator", "held for moderation", "held until", "moderator approval",
        "requires approval", "subject to moderation", "list is moderated", "reviewed by a moderator",
        "post by non-member", "is being held", "thanks for your post",
    ]

    /// The opening lines of the bounce templates of common MTAs (Postfix, qmail, Exim,
    /// Sendmail, Exchange/Office 365, Gmail, Notes/Domino, Courier, OpenSMTPD, smail, AOL, Yahoo).
    static let mtaTemplates = [
        "this is the mail system at host", "this is the qmail-send program",
        "this message was created automatically by mail delivery software", "transcript of session follows",
        "the original message was received at", "the following addresses had permanent fatal errors",
        "delivery has failed to these recipients or groups", "did not reach some or all of the intended recipients",
        "diagnostic information for administrators", "delivery to the following recipient failed permanently",
        "delivery to the following recipients failed",
        "this is an automatically generated delivery status notification", "the following recipient(s) could not be reached",
        "your message was not delivered to", "a message that you sent could not be delivered",
        "a message that you sent has not yet been delivered", "an error has occurred while attempting to deliver",
        "this is the mailer-daemon at", "failed addresses follow", "sorry, we were unable to deliver your message",
        "your mail to the following recipients could not be delivered", "this report relates to a message you sent",
        "i'm sorry to have to inform you that your message could not", "message delivery has failed",
    ]

    /// Subjects of read and delivery receipts that are not RFC 8098 reports (Lotus Notes/Domino
    /// "Return Receipt", Outlook's "Read: <subject>").
    static let receiptSubjects = [
        "return receipt", "read receipt", "delivery receipt", "read:",
    ]

    /// The lines of Lotus Notes/Domino's return receipt ("Your document: X / was received by: Y /
    /// at: Z") and of Outlook's plain-text read receipt ("Your message ... was read on DATE").
    static let receiptTemplates = [
        "your document:", "was received by:", "was read on",
    ]

    /// Markers of a forward by a person (mail clients' forward separators).
    static let forwardMarkers = [
        "begin forwarded message", "---------- forwarded message", "-------- forwarded message",
        "----- forwarded message", "forwarded message follows", "-------- original message --------",
        "weitergeleitete nachricht", "message transféré", "mensaje reenviado", "messaggio inoltrato",
        "doorgestuurd bericht", "wiadomość przekazana", "пересылаемое сообщение",
    ]

    /// Markers of a returned original (inline, as qmail, Exim and Notes write it).
    static let originalMarkers = [
        "original message follows", "original message headers", "a copy of the original message",
        "this is a copy of the message", "below this line is a copy of the message",
        "the original message was received", "original message is attached", "unsent message below",
        "returned message follows", "message headers follow", "headers of the original message",
        "copy of your message", "your original message", "--- original message", "original message:",
        "included below", "original message text", "message text follows", "text of the message follows",
        " received: from ", " message-id: <", " return-path: <",
    ]

    /// SMTP transcript fragments (RFC 5321 commands and reply framing, RFC 3464 field names).
    static let smtpTranscript = [
        "rcpt to:", "rcpt to <", "mail from:", "end of data", "smtp error", "said: 5", "said: 4",
        "<<< 5", "<<< 4", "smtp; 5", "smtp; 4", "diagnostic-code", "reporting-mta", "final-recipient",
        "remote-mta", "action: failed", "status: 5.", "status: 4.", "x-postfix;", "while talking to",
        "conversation with", "dns; ", "remote server", "host said",
    ]
}
