// ListingSource.swift -- the store as publication reads it.

public import Store

/// What the publisher reads from the store (and the snapshot cache it writes back).
///
/// `Store` is the one real source. The protocol is the seam where a test puts a store
/// that fails on demand, to see that a failed read keeps the served snapshots and is
/// reported.
public protocol ListingSource: AnyObject {
    var path: String { get }
    var readOnly: Bool { get }
    func changeSerial() throws(StoreError) -> Int64
    func zoneSettings(_ zone: String) throws(StoreError) -> ZoneSettings?
    func forEachActiveListing(zone: String, now: Int64, reserve: (Int) -> Void,
                              _ body: (Listing) throws(StoreError) -> Void) throws(StoreError) -> (serial: Int64, settings: ZoneSettings)
    func changes(zone: String, after serial: Int64, limit: Int) throws(StoreError) -> ChangeBatch?
    func listings(for prefixes: [IPPrefix], zone: String, now: Int64) throws(StoreError) -> [Listing?]
    func logExpiries(_ prefixes: [IPPrefix], zone: String) throws(StoreError)
    func readSnapshotCache<T>(
        zone: String,
        _ body: (_ serial: Int64, _ size: Int, _ read: @escaping (Int, UnsafeMutableRawBufferPointer) throws -> Void) -> T
    ) throws(StoreError) -> T?
    func saveSnapshotCache(
        zone: String, serial: Int64, size: Int,
        _ write: (_ sink: (UnsafeRawBufferPointer) throws(StoreError) -> Void) throws(StoreError) -> Void
    ) throws(StoreError)
    func shrinkMemory() throws(StoreError)
}

extension Store: ListingSource {}
