// ClassificationRule.swift -- one named rule of the classifier and what it concludes.

import Store

/// What a rule concludes about a message.
struct RuleFinding: Equatable {
    /// `.none` when the message is not backscatter.
    var kind: Classification.Kind
    var strength: EvidenceStrength
    /// Why, in a few words ("RFC 3464 delivery-status part (Action: failed, Status: 5.1.1)").
    var reason: String

    var isBackscatter: Bool { kind != .none }

    static func backscatter(_ kind: Classification.Kind, _ strength: EvidenceStrength, _ reason: String) -> RuleFinding {
        RuleFinding(kind: kind, strength: strength, reason: reason)
    }

    static func notBackscatter(_ reason: String) -> RuleFinding {
        RuleFinding(kind: .none, strength: .strong, reason: reason)
    }
}

/// One rule: a name, a one-line summary, and the test that either concludes or passes.
///
/// The classifier tries `ClassificationRules.ordered` in order and the first rule that
/// concludes decides; `rbld classify --explain` lists every rule that would have concluded.
struct ClassificationRule: Sendable {
    /// A stable identifier (`delivery-status-report`), shown by `--explain` and kept with a hit.
    let name: String
    /// When the rule applies and what it concludes, in one line.
    let summary: String
    let evaluate: @Sendable (MessageEvidence) -> RuleFinding?

    init(_ name: String, _ summary: String, _ evaluate: @escaping @Sendable (MessageEvidence) -> RuleFinding?) {
        self.name = name
        self.summary = summary
        self.evaluate = evaluate
    }
}
