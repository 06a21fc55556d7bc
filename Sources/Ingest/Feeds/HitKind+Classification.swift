// HitKind+Classification.swift -- the hit kind of a backscatter verdict.

public import Store

extension HitKind {
    /// The hit kind of a backscatter classification (`none` never reaches the store).
    public init(_ kind: Classification.Kind) {
        switch kind {
        case .dsn: self = .dsn
        case .autoreply: self = .autoreply
        case .challenge: self = .challenge
        case .virus: self = .virus
        case .unknownBounce, .none: self = .unknownBounce
        }
    }
}
