// HitKind.swift -- the kinds of backscatter a hit can be, and the return codes they make.

/// What kind of backscatter a hit was (the classifier's `kind`, minus `none`).
///
/// Each kind may set a bit of the answer 127.0.0.X (``ReturnCodes``, per zone).
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

/// How a listing's kinds become its answer 127.0.0.X: per zone, in its listing policy.
///
/// X is `base`, or-ed with the bit of each kind the listing has, and with `manual` for an
/// operator's listing. The defaults (X = 2 + 4·autoreply + 8·challenge + 16·virus +
/// 32·manual; docs/DNS-BEHAVIOUR.md) let an MTA tell kinds apart; an operator matching an
/// existing list's scheme sets other bits, or none (every listing 127.0.0.2).
public struct ReturnCodes: Codable, Hashable, Sendable {
    // Constants: the per-mask table below is made from them once.
    /// Every listing has it (2: 127.0.0.2, RFC 5782's "listed"). At least 2: 127.0.0.1 and
    /// 127.0.0.0 are never answers of a DNSBL.
    public let base: UInt8
    /// Each kind's bit (none for plain bounces by default).
    public let bits: [HitKind: UInt8]
    /// Set for manual (operator) listings.
    public let manual: UInt8

    public init(base: UInt8 = 2, bits: [HitKind: UInt8] = [.autoreply: 4, .challenge: 8, .virus: 16], manual: UInt8 = 32) {
        self.base = base
        self.bits = bits.filter { $0.value != 0 }
        self.manual = manual
        codeOfMask = Self.table(base: base, bits: self.bits)
    }

    public static let defaults = ReturnCodes()

    /// The code of every stored kinds mask (5 bits), for the bulk snapshot's one lookup a row.
    private let codeOfMask: [UInt8]

    private static func table(base: UInt8, bits: [HitKind: UInt8]) -> [UInt8] {
        (0..<32).map { mask in
            HitKind.kinds(inMask: Int64(mask)).reduce(base) { $0 | (bits[$1] ?? 0) }
        }
    }

    /// The code for a set of kinds, optionally marked manual.
    public func code(kinds: some Sequence<HitKind>, manual: Bool = false) -> UInt8 {
        var code = base
        for kind in kinds { code |= bits[kind] ?? 0 }
        if manual { code |= self.manual }
        return code
    }

    /// The code for a stored kinds mask (``HitKind/kinds(inMask:)``).
    func code(kindsMask: Int64) -> UInt8 { codeOfMask[Int(kindsMask & 31)] }

    /// The kinds a code says (for `show`): those with a bit of their own that the code has.
    public func kinds(in code: UInt8) -> [HitKind] {
        HitKind.allCases.filter { kind in bits[kind].map { $0 & ~base != 0 && code & $0 == $0 } ?? false }
    }

    enum CodingKeys: String, CodingKey { case base, bits, manual }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(base: try container.decode(UInt8.self, forKey: .base), bits: try container.decode([HitKind: UInt8].self, forKey: .bits),
                  manual: try container.decode(UInt8.self, forKey: .manual))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(base, forKey: .base)
        try container.encode(bits, forKey: .bits)
        try container.encode(manual, forKey: .manual)
    }

    public static func == (lhs: ReturnCodes, rhs: ReturnCodes) -> Bool {
        lhs.base == rhs.base && lhs.bits == rhs.bits && lhs.manual == rhs.manual
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(base)
        hasher.combine(bits)
        hasher.combine(manual)
    }
}

// Dictionaries keyed by kind encode as JSON objects (`{"virus": 2}`).
extension HitKind: CodingKeyRepresentable {}
