// Cue.swift -- the wording tables: what bounces, auto-replies and challenges say.

/// Cue categories and their phrases (lowercase, single-spaced, as `CueText` produces).
///
/// Wording is the second line of evidence, after structure (null sender, RFC 3464 parts,
/// RFC 3834 headers). Phrases come from the fixed texts MTAs and mail clients generate
/// (Postfix `bounce` templates, Sendmail, Exim, qmail, Exchange/Office 365, Lotus Notes,
/// Gmail, Courier, the "vacation" program and its clones), in the languages those ship in.
/// None names a particular sender, host or message.
enum Cue {
    // Subject-only categories.
    static let bounceSubject = 0
    static let delaySubject = 1
    static let autoreplySubject = 2
    static let virusSubject = 3
    // Body categories.
    static let bounceBody = 4
    static let delayBody = 5
    static let recipientProblem = 6
    static let autoreplyBody = 7
    static let autoreplyBodyWeak = 8
    static let challenge = 9
    static let messageReference = 10
    static let virusBody = 11
    static let listManager = 12
    static let forwardMarker = 13
    static let originalMarker = 14
    static let smtpEvidence = 15
    static let phishing = 16
    static let link = 17
    static let malware = 18
    static let virusName = 19
    static let verification = 20
    static let senderOrPerson = 21
    static let replyRequest = 22
    // Identity categories: read only from the notice's From, X-Mailer, User-Agent and Message-ID.
    static let filterProduct = 23
    static let challengeProduct = 24
    static let categoryCount = 25

    /// Categories the classifier reads from the Subject, and from the text.
    static let subjectCategories = [bounceSubject, delaySubject, autoreplySubject, virusSubject, challenge, listManager, malware]
    static let bodyCategories = [bounceBody, delayBody, recipientProblem, autoreplyBody, autoreplyBodyWeak, challenge,
                                 messageReference, virusBody, listManager, originalMarker, smtpEvidence, phishing, malware,
                                 virusName, verification, senderOrPerson, replyRequest]
    static let identityCategories = [filterProduct, challengeProduct]

    static let names = [
        "bounce", "delay", "auto-reply", "virus notice",
        "bounce wording", "delay wording", "recipient problem", "auto-reply wording", "acknowledgement wording",
        "challenge wording", "reference to the original", "virus notice wording", "list-manager notice",
        "forwarded-message marker", "returned-original marker", "SMTP transcript", "phishing wording", "link", "malware wording",
        "virus name", "verification wording", "sender or person", "reply request", "virus/content filter", "challenge-response system",
    ]

    /// The one automaton for every table below.
    static let matcher = CueMatcher(entries: entries, categoryCount: categoryCount)

    private static var entries: [(category: Int, phrase: String)] {
        var result: [(category: Int, phrase: String)] = []
        func add(_ category: Int, _ phrases: [String]) {
            for phrase in phrases { result.append((category, phrase)) }
        }
        add(bounceSubject, bounceSubjects)
        add(delaySubject, delaySubjects)
        add(autoreplySubject, autoreplySubjects)
        add(virusSubject, virusSubjects)
        add(bounceBody, bounceBodies)
        add(delayBody, delayBodies)
        add(recipientProblem, recipientProblems)
        add(autoreplyBody, autoreplyBodies)
        add(autoreplyBodyWeak, autoreplyBodiesWeak)
        add(challenge, challenges)
        add(messageReference, messageReferences)
        add(virusBody, virusBodies)
        add(listManager, listManagerNotices)
        add(forwardMarker, forwardMarkers)
        add(originalMarker, originalMarkers)
        add(smtpEvidence, smtpTranscript)
        add(phishing, phishingPhrases)
        add(link, ["http://", "https://"])
        add(malware, malwareWords)
        add(virusName, virusNames)
        add(verification, verificationWords)
        add(senderOrPerson, senderOrPersonWords)
        add(replyRequest, replyRequests)
        add(filterProduct, filterProducts)
        add(challengeProduct, challengeProducts)
        return result
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

    /// Auto-reply subjects (RFC 3834 responders, Exchange OOF, Notes, vacation clones).
    static let autoreplySubjects = [
        "auto reply", "auto-reply", "autoreply", "auto re:", "automatic reply", "automatic response",
        "auto response", "auto-response", "autoresponse", "autorespons", "autoresponder", "automated response",
        "automated reply", "out of office", "out of the office", "out-of-office", "away from the office",
        "away from my", "on vacation", "on holiday", "on leave", "vacation reply", "vacation notice",
        "vacation message", "away message", "thank you for your e-mail", "thank you for your email",
        "thank you for your message", "thanks for your email", "thanks for your e-mail", "thanks for your message",
        "thank you for contacting", "we have received your", "we received your", "your message has been received",
        "abwesenheitsnotiz", "abwesend", "automatische antwort", "abwesenheit", "nicht im büro", "außer haus",
        "réponse automatique", "reponse automatique", "absent du bureau", "absence du bureau",
        "respuesta automática", "respuesta automatica", "fuera de la oficina", "fuera de oficina",
        "risposta automatica", "fuori ufficio", "fuori sede", "resposta automática", "resposta automatica",
        "fora do escritório", "automatisch antwoord", "afwezig", "niet aanwezig", "afwezigheid",
        "automatyczna odpowied", "poza biurem", "nieobecnoś", "autosvar", "automatisk svar", "automatiskt svar",
        "frånvaro", "fraværende", "fravær", "automaattinen vastaus", "automatická odpověď", "automatikus válasz",
        "otomatik yanıt", "otomatik cevap", "автоответ", "автоматический ответ", "нет на месте", "в отпуске",
        "自動応答", "自動返信", "不在", "自动回复", "自動回覆", "자동 응답", "자동응답",
    ]

    /// Virus / content-filter notice subjects.
    static let virusSubjects = [
        "virus", "infected", "malware", "worm found", "trojan", "quarantine", "banned attachment",
        "banned file", "blocked attachment", "message blocked", "mail blocked",
        "content filter", "content-filter", "contentfilter", "policy violation", "attachment removed",
        "attachment blocked", "blocked by", "spam detected", "detected as spam", "wirus",
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
        "non-delivery", "nondelivery report", "non delivery report", "unrouteable address",
        "host or domain name not found", "relay access denied", "relaying denied", "rejected your message",
        "message was rejected", "message has been rejected", "mail was rejected", "smtp error from remote",
        "error from remote mail server", "remote host said", "remote server replied", "remote server returned",
        "generated by the mail server", "this message was created automatically", "there was an error sending",
        "failed to deliver", "message not delivered", "delivery attempt failed", "could not be forwarded",
        "no valid recipients", "failed addresses follow", "failed recipient", "delivery was stopped",
        "could not be relayed",
        // German, French, Spanish, Italian, Portuguese, Dutch, Nordic, Polish, Czech, Hungarian, Turkish.
        "konnte nicht zugestellt werden", "nicht zugestellt werden", "konnte nicht ausgeliefert werden",
        "unzustellbar", "zustellung fehlgeschlagen", "nicht zustellbar", "n'a pas pu être remis",
        "n'a pas pu etre remis", "n'a pas pu être délivré", "n'a pas pu être distribué", "impossible de remettre",
        "n'a pas été remis", "échec de la remise", "echec de la remise", "échec de distribution",
        "no se pudo entregar", "no pudo ser entregado", "no ha podido ser entregado", "no se ha podido entregar",
        "no ha sido entregado", "no pudo entregarse", "non è stato possibile recapitare",
        "non è stato recapitato", "impossibile recapitare", "non è stato possibile consegnare",
        "non recapitabile", "mancato recapito", "não pôde ser entregue", "nao pode ser entregue",
        "não foi possível entregar", "nao foi possivel entregar", "não foi entregue", "kon niet worden afgeleverd",
        "kan niet worden afgeleverd", "kon niet worden bezorgd", "niet afgeleverd", "onbestelbaar",
        "kunde inte levereras", "kunne ikke leveres", "kan ikke leveres", "kunne ikke afleveres",
        "nie mógł zostać dostarczony", "nie może zostać dostarczona", "nie została dostarczona",
        "nie został dostarczony", "nie można dostarczyć", "nie dostarczono", "nie zostala dostarczona",
        "nie zostal dostarczony", "nelze doručit", "nemohla být doručena", "nem kézbesíthető", "teslim edilemedi",
        // Russian, Ukrainian, Japanese, Chinese, Korean.
        "не может быть доставлено", "не может быть доставлен", "не доставлено", "не было доставлено",
        "не удалось доставить", "недоставлено", "не може бути доставлено", "送信できませんでした",
        "配信できませんでした", "配送できませんでした", "届けることができませんでした", "配信に失敗", "送信に失敗",
        "配送に失敗", "送信できません", "配信できません", "无法投递", "投递失败", "无法送达", "未能送达", "退信",
        "無法傳遞", "傳送失敗", "发送失败", "전송되지 못했습니다", "배달되지", "발송 실패",
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
        "invalid recipient", "invalid user", "invalid mailbox", "invalid address", "recipient unknown",
        "unknown recipient", "not a valid user", "not a valid recipient", "account is disabled",
        "account has been disabled", "account disabled", "account is inactive", "address does not exist",
        "user does not exist", "recipient does not exist", "addressee unknown", "no mailbox here",
        "domain not found", "user not found", "unknown host", "host unknown", "host not found", "recipient not found", "is not a valid mailbox",
        "empfänger unbekannt", "unbekannter empfänger", "postfach voll", "destinataire inconnu",
        "boîte aux lettres pleine", "destinatario desconocido", "buzón lleno", "destinatario sconosciuto",
        "casella piena", "destinatário desconhecido", "onbekende ontvanger", "nieznany odbiorca",
        "skrzynka pełna", "пользователь не найден", "ящик переполнен", "宛先不明", "存在しない",
        "メールボックスが一杯", "用户不存在", "邮箱已满",
    ]

    /// Vacation and out-of-office wording (strong).
    static let autoreplyBodies = [
        "out of the office", "out of office", "i am away", "i'm away", "i am currently away",
        "i'm currently away", "i am currently out", "i'm currently out", "i am out of", "i'm out of",
        "i will be out", "i will be away", "i am on vacation", "i'm on vacation", "i am on holiday",
        "i'm on holiday", "on annual leave", "on vacation until", "on leave until", "on holiday until",
        "away until", "back in the office", "return to the office", "returning to the office",
        "i will return", "i will be back", "will be back on", "limited access to email", "limited access to e-mail",
        "limited access to my email", "upon my return", "on my return", "when i return", "until my return",
        "automatic reply", "automated reply", "automatic response", "automated response", "auto-reply",
        "autoreply", "auto reply", "this is an auto-reply", "this is an auto reply", "vacation message",
        "bin nicht im büro", "nicht im büro", "bin abwesend", "außer haus", "ausser haus", "im urlaub",
        "abwesenheitsnotiz", "automatische antwort", "je suis absent", "je suis actuellement absent",
        "je serai absent", "en congé", "en vacances", "de retour le", "réponse automatique",
        "estoy fuera", "fuera de la oficina", "de vacaciones", "respuesta automática", "sono assente",
        "fuori ufficio", "in ferie", "risposta automatica", "estou ausente", "fora do escritório",
        "resposta automática", "ben afwezig", "niet op kantoor", "met vakantie", "automatisch antwoord",
        "jestem nieobecny", "jestem nieobecna", "przebywam na urlopie", "poza biurem", "automatyczna odpowied",
        "я в отпуске", "нахожусь в отпуске", "отсутствую", "автоматический ответ", "автоответ",
        "不在にしております", "不在にしています", "休暇", "自動応答", "自動返信", "我正在休假", "休假", "自动回复",
    ]

    /// Acknowledgement wording of auto-responders (weak: also in order confirmations).
    static let autoreplyBodiesWeak = [
        "thank you for your email", "thank you for your e-mail", "thank you for your message",
        "thanks for your email", "thanks for your e-mail", "thanks for your message", "thank you for contacting",
        "we have received your", "i have received your", "received your message", "received your email",
        "will reply as soon as", "reply as soon as possible", "respond as soon as possible",
        "respond to your email", "respond to your message", "reply to your email", "get back to you",
        "this is an automated", "this is an automatic",
        "vielen dank für ihre", "merci pour votre message", "gracias por su mensaje", "grazie per il",
        "obrigado pelo seu", "bedankt voor uw", "dziękujemy za", "спасибо за ваше", "ご連絡ありがとう",
    ]

    /// Challenge-response wording (TMDA-style verification requests and their commercial kin).
    ///
    /// Fixed phrases of the genre; the looser evidence (a verification word, a word for the
    /// sender or a person, a reply request or link) is combined in `ContentClassifier`.
    static let challenges = [
        "verify that you are", "verify you are", "confirm that you are a", "confirm you are a",
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
        "reply to this", "simply reply", "just reply", "respond to this", "click the link", "click on the link",
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
        "infected with", "infected message", "infected attachment", "is infected", "was infected",
        "detected a virus", "virus was detected", "viruses were found", "malware detected", "contains malware",
        "banned attachment", "blocked attachment", "banned file", "has been quarantined", "was quarantined",
        "been placed in quarantine", "content filter", "blocked by our", "policy violation",
        "violates our", "was blocked", "has been blocked", "dangerous attachment",
        "virus:", "infection", "unsolicited bulk email", "considered spam", "classified as spam", "identified as spam",
        "detected as spam", "banned content", "spam content",
        // German, French, Spanish, Italian, Dutch, Portuguese, Polish, Russian, Japanese, Chinese.
        "wurde ein virus", "virus gefunden", "mit einem virus", "ist infiziert", "virus entdeckt",
        "contient un virus", "est infecté", "virus détecté", "contiene un virus", "está infectado",
        "virus detectado", "è infetto", "virus rilevato", "bevat een virus", "is besmet", "virus gevonden",
        "contém um vírus", "está infectada", "vírus detectado", "zawiera wirusa", "wykryto wirusa", "wirus",
        "содержит вирус", "обнаружен вирус", "заражен", "вирус", "ウイルスが検出", "ウイルスを検出", "ウイルスに感染",
        "检测到病毒", "发现病毒", "含有病毒", "發現病毒", "偵測到病毒",
    ]

    /// Words naming malware in general (subject, Diagnostic-Code).
    static let malwareWords = [
        "virus", "infected", "malware", "trojan", "ransomware", "infiziert", "infecté", "infectado", "infetto",
        "besmet", "wirus", "zainfekowan", "вирус", "заражен", "ウイルス", "病毒",
    ]

    /// Prefixes of virus names as scanners print them (CARO-style `W32/Family@mm`,
    /// `Win32.Worm.X`, Kaspersky `Email-Worm.Win32.X`, Trend Micro `WORM_X.A`, the EICAR test file).
    static let virusNames = [
        "w32/", "w32.", "win32.", "win32/", "w97m/", "x97m/", "o97m/", "i-worm", "email-worm", "net-worm",
        "p2p-worm", "im-worm", "worm_", "troj_", "trojan.", "trojan-", "trojan/", "backdoor.", "eicar",
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

    /// Mailing-list manager rejections and moderation notices (Mailman, Majordomo, Sympa, fml, ezmlm, LISTSERV).
    static let listManagerNotices = [
        "not a member", "not member", "non-member", "nonmember", "members only", "only members",
        "members-only", "not subscribed", "not on the list", "awaiting moderator", "awaits moderator",
        "held for moderation", "moderator approval", "requires approval", "subject to moderation",
        "post by non-member", "posting restriction", "posts from non", "you are not allowed to post",
        "only accepts messages from", "list is moderated", "not allowed to post",
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

    /// Wording of phishing and spam dressed as mail-system notices.
    static let phishingPhrases = [
        "click here", "click below", "log in", "login", "sign in", "password", "verify your account",
        "confirm your account", "update your account", "release your", "release the", "pending messages",
        "pending emails", "held messages", "upgrade your", "storage limit", "mailbox quota", "webmail",
        "account will be", "suspended", "deactivat", "recover your", "unlock", "download", "your computer",
        "your pc", "scan your", "buy now", "order now", "special offer", "free trial", "unsubscribe",
        // German, French, Spanish, Italian, Dutch, Portuguese, Polish, Russian, Japanese, Chinese.
        "klicken sie hier", "passwort", "kennwort", "cliquez ici", "mot de passe", "connectez-vous",
        "haga clic aquí", "haga clic aqui", "contraseña", "iniciar sesión", "clicca qui", "accedi al",
        "klik hier", "wachtwoord", "clique aqui", "senha", "kliknij tutaj", "hasło", "zaloguj",
        "нажмите здесь", "пароль", "こちらをクリック", "パスワード", "ログインして", "点击这里", "點擊這裡", "密码", "密碼",
    ]
}
