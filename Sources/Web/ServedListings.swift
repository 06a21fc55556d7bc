// ServedListings.swift -- what the DNS side serves, as the web side's lookups read it.

public import Store

/// The published DNS tables of the process, when the web side runs beside the DNS server
/// (`rbld serve --web`, `rbld run`): a lookup takes the answer (listed, code, TXT, expiry,
/// excluded) from them, as DNS gives it, and reads from the store only what the store alone
/// holds (``Store/publicReport(for:zone:now:served:hitLimit:)``).
public protocol ServedListings: Sendable {
    /// What the published table of `zone` holds for the host `address`; nil when the zone
    /// is not served (the lookup then reads the store alone).
    func match(_ address: IPPrefix, zone: String) -> ServedMatch?
}
