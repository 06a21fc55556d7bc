// HitKind.swift -- the kinds of backscatter a hit can be, and their return-code bits.

/// What kind of backscatter a hit was (the classifier's `kind`, minus `none`).
///
/// Each kind but the plain bounce sets one bit of the answer 127.0.0.X
/// (X = 2 + 4·autoreply + 8·challenge + 16·virus + 32·manual; docs/DNS-BEHAVIOUR.md).
public enum HitKind: String, Codable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// A delivery status notification (RFC 3464) or delay notice.
    case dsn
    /// A bounce in some non-standard shape.
    case unknownBounce = "unknown-bounce"
    /// An auto-reply (vacation, out-of-office; RFC 3834).
    case autoreply
    /// A challenge-response verification request.
    case challenge
    /// A virus or content-filter notification.
    case virus

    /// The return-code bit of this kind (0 for plain bounces).
    public var codeBit: UInt8 {
        switch self {
        case .dsn, .unknownBounce: 0
        case .autoreply: 4
        case .challenge: 8
        case .virus: 16
        }
    }

    /// Bit of the stored kinds mask (not the return-code bit: every kind has one).
    var maskBit: Int64 {
        switch self {
        case .dsn: 1
        case .unknownBounce: 2
        case .autoreply: 4
        case .challenge: 8
        case .virus: 16
        }
    }

    /// The kinds in a stored mask.
    static func kinds(inMask mask: Int64) -> [HitKind] { allCases.filter { mask & $0.maskBit != 0 } }

    public var description: String { rawValue }
}

/// Return codes (X of 127.0.0.X).
public enum ReturnCode {
    /// Every listing has this bit (127.0.0.2 = plain bounce backscatter).
    public static let base: UInt8 = 2
    /// Set for manual (admin) listings.
    public static let manual: UInt8 = 32

    /// The code for a set of kinds, optionally marked manual.
    public static func code(kinds: some Sequence<HitKind>, manual: Bool = false) -> UInt8 {
        var code = base
        for kind in kinds { code |= kind.codeBit }
        if manual { code |= Self.manual }
        return code
    }

    /// The kinds a code says (for `show`); nil bits outside the scheme are ignored.
    public static func kinds(in code: UInt8) -> [HitKind] {
        [.autoreply, .challenge, .virus].filter { code & $0.codeBit != 0 }
    }
}

// Dictionaries keyed by kind encode as JSON objects (`{"virus": 2}`).
extension HitKind: CodingKeyRepresentable {}
