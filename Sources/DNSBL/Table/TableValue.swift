// TableValue.swift -- the small value stored per prefix-table entry.

/// What the table knows about one listed (or excluded) prefix.
///
/// Kept to six bytes of payload so that a host entry costs little more than its key. The
/// meaning of `listing` belongs to the zone: it indexes the zone's listing classes (a
/// return code 127.0.0.X plus a TXT variant). Index 0 is reserved for exclusions, the
/// rbldnsd `!` entries that punch holes into wider listed prefixes.
public struct TableValue: Hashable, Sendable {
    /// Index into the zone's listing classes; 0 means excluded (never listed).
    public var listing: UInt16
    /// Unix time in seconds when the entry stops being listed; 0 means never.
    ///
    /// The table does not look at the clock: the zone compares this with the time of
    /// the query batch, so expiry is continuous without a rebuild.
    public var expires: UInt32

    /// Creates a value.
    ///
    /// - Parameters:
    ///   - listing: Index of the listing class, or 0 for an exclusion.
    ///   - expires: Unix seconds when the listing ends; 0 (the default) for never.
    public init(listing: UInt16, expires: UInt32 = 0) {
        self.listing = listing
        self.expires = expires
    }

    /// The value of an exclusion (`!` entry): a hole in any wider listed prefix.
    public static let excluded = TableValue(listing: 0)

    /// Whether this value is an exclusion rather than a listing.
    var isExclusion: Bool { listing == 0 }
}
