// Listing.swift -- one entry to serve, with the listing policy already applied.

/// One served entry: a listed prefix with its answer, or a `!` hole.
///
/// The DNS side puts these into its prefix table and answers by longest match. The store
/// has already applied the policy (exclusions, manual entries, delistings, scores), so a
/// `Listing` is final until `expires`, or until the change log names its prefix.
public struct Listing: Hashable, Sendable {
    /// The network or host.
    public var prefix: IPPrefix
    /// True for an exclusion: the prefix is not listed and punches a hole in wider listings.
    public var excluded: Bool
    /// X of 127.0.0.X (2 + 4·autoreply + 8·challenge + 16·virus + 32·manual for scored and
    /// admin entries; the file's value or the zone default for imported ones). 0 when excluded.
    public var code: UInt8
    /// This entry's own TXT template (`$` = the IP); nil = the zone's template.
    public var text: String?
    /// Unix seconds when this answer stops being valid; nil = never.
    ///
    /// - Important: at that moment the prefix's state must be resolved again with
    ///   `Store.listing(for:zone:now:)` (it may become unlisted, or another listing such as a
    ///   scored entry that outlives a manual one). The DNS TTL is capped at the time left.
    public var expires: Int64?

    public init(prefix: IPPrefix, excluded: Bool = false, code: UInt8, text: String? = nil, expires: Int64? = nil) {
        self.prefix = prefix
        self.excluded = excluded
        self.code = code
        self.text = text
        self.expires = expires
    }
}

/// A prefix whose served state may have changed at `serial` (from `Store.changes`).
public struct ListingChange: Hashable, Sendable {
    /// The change-log serial of the committed change.
    public var serial: Int64
    /// Re-resolve exactly this prefix with `Store.listing(for:zone:now:)`; nil there means
    /// remove it from the table.
    public var prefix: IPPrefix

    public init(serial: Int64, prefix: IPPrefix) {
        self.serial = serial
        self.prefix = prefix
    }
}
