// SQLiteDatabase.swift -- the one small type around the SQLite C API: open, cached
// statements with bound parameters, transactions, and error mapping.

internal import CSQLite

/// One SQLite connection with a statement cache.
///
/// SQL text is only ever a `StaticString` (a literal in this module), so user data can
/// reach the database through bound parameters alone.
final class SQLiteDatabase {
    let handle: OpaquePointer
    let path: String
    private var cache: [UnsafeRawPointer: Statement] = [:]
    private(set) var inTransaction = false

    /// SQLite copies bound text and blobs (the `SQLITE_TRANSIENT` macro).
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Process-wide library settings, applied once before the first connection opens.
    private static let libraryConfigured: Void = {
        _ = rbld_sqlite_disable_memory_statistics()
    }()

    init(path: String, readOnly: Bool, create: Bool) throws(StoreError) {
        _ = Self.libraryConfigured
        self.path = path
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        if readOnly {
            flags |= SQLITE_OPEN_READONLY
        } else {
            flags |= SQLITE_OPEN_READWRITE
            if create { flags |= SQLITE_OPEN_CREATE }
        }
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw StoreError(.io, "\(path): cannot open the store: \(message)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        for statement in cache.values { sqlite3_finalize(statement.handle) }
        sqlite3_close_v2(handle)
    }

    /// Maps an SQLite result code to a StoreError naming the file.
    func error(_ rc: Int32, _ context: String, file: String = #fileID, line: Int = #line) -> StoreError {
        let message = String(cString: sqlite3_errmsg(handle))
        let code: StoreError.Code
        switch rc & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: code = .busy
        case SQLITE_NOTADB: code = .notADatabase
        case SQLITE_CORRUPT: code = .corrupt
        case SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_FULL, SQLITE_READONLY, SQLITE_PERM, SQLITE_AUTH, SQLITE_NOLFS:
            code = .io
        case SQLITE_CONSTRAINT: code = .conflict
        default: code = .internalError
        }
        let what: String
        switch code {
        case .notADatabase: what = "not an SQLite database (\(message))"
        case .corrupt: what = "the database is corrupt (\(message))"
        case .busy: what = "the database is locked by another process (\(message)); try again"
        default: what = message
        }
        return StoreError(code, "\(path): \(context): \(what)", file: file, line: line)
    }

    /// Runs fixed SQL (schema, pragmas, transaction control); no parameters.
    func execute(_ sql: StaticString, file: String = #fileID, line: Int = #line) throws(StoreError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sql.withUTF8Buffer { buffer in
            // StaticString literals are NUL-terminated in storage.
            sqlite3_exec(handle, UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self), nil, nil, &message)
        }
        if let message { sqlite3_free(message) }
        guard rc == SQLITE_OK else { throw error(rc, "\(Self.summary(sql))", file: file, line: line) }
    }

    /// A prepared statement for `sql`, reset and ready to bind; cached per connection.
    func statement(_ sql: StaticString, file: String = #fileID, line: Int = #line) throws(StoreError) -> Statement {
        let key = UnsafeRawPointer(sql.utf8Start)
        if let cached = cache[key] {
            cached.reset()
            return cached
        }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, UnsafeRawPointer(sql.utf8Start).assumingMemoryBound(to: CChar.self),
                                    Int32(sql.utf8CodeUnitCount), UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, "prepare \(Self.summary(sql))", file: file, line: line) }
        let statement = Statement(handle: stmt, database: self, sql: Self.summary(sql))
        cache[key] = statement
        return statement
    }

    static func summary(_ sql: StaticString) -> String {
        let text = sql.description.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return text.count > 60 ? String(text.prefix(60)) + "…" : text
    }

    /// Runs `body` in one write transaction (`BEGIN IMMEDIATE`, so the write lock is taken
    /// up front and the busy timeout applies); rolls back on any error. Nested calls join
    /// the outer transaction.
    func writeTransaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try transaction("BEGIN IMMEDIATE", body)
    }

    /// Runs `body` in one read transaction, so all its reads see one snapshot (WAL).
    func readTransaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try transaction("BEGIN DEFERRED", body)
    }

    private func transaction<T>(_ begin: StaticString, _ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        if inTransaction { return try body() }
        try execute(begin)
        inTransaction = true
        defer { inTransaction = false }
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs `body` with one blob of `table`.`column` at `row` open for incremental I/O
    /// (`sqlite3_blob_*`), so a large blob is read or written in pieces, never held whole.
    /// Must be called inside a transaction that stays open while `body` runs.
    func withBlob<T>(_ table: StaticString, _ column: StaticString, row: Int64, writable: Bool,
                     _ body: (Blob) throws(StoreError) -> T) throws(StoreError) -> T {
        var blob: OpaquePointer?
        let rc = table.withUTF8Buffer { table in
            column.withUTF8Buffer { column in
                sqlite3_blob_open(handle, "main", UnsafeRawPointer(table.baseAddress!).assumingMemoryBound(to: CChar.self),
                                  UnsafeRawPointer(column.baseAddress!).assumingMemoryBound(to: CChar.self),
                                  row, writable ? 1 : 0, &blob)
            }
        }
        guard rc == SQLITE_OK, let blob else { throw error(rc, "open the blob \(table).\(column) of row \(row)") }
        defer { sqlite3_blob_close(blob) }
        return try body(Blob(handle: blob, database: self))
    }

    /// One open blob: its size, and reads and writes at an offset (at most 1 GiB a call,
    /// SQLite's limit for an `int` count, taken in pieces).
    struct Blob {
        fileprivate let handle: OpaquePointer
        fileprivate let database: SQLiteDatabase
        private static let piece = 1 << 30

        var count: Int { Int(sqlite3_blob_bytes(handle)) }

        func read(at offset: Int, into destination: UnsafeMutableRawBufferPointer) throws(StoreError) {
            try inPieces(destination.count, from: offset, "read") { done, length, position in
                sqlite3_blob_read(handle, destination.baseAddress! + done, length, position)
            }
        }

        func write(at offset: Int, _ source: UnsafeRawBufferPointer) throws(StoreError) {
            try inPieces(source.count, from: offset, "write") { done, length, position in
                sqlite3_blob_write(handle, source.baseAddress! + done, length, position)
            }
        }

        /// Calls `call(done, length, position)` for each piece of `count` bytes from `offset`.
        private func inPieces(_ count: Int, from offset: Int, _ verb: String,
                              _ call: (Int, Int32, Int32) -> Int32) throws(StoreError) {
            var done = 0
            while done < count {
                let length = min(Self.piece, count - done)
                let rc = call(done, Int32(length), Int32(offset + done))
                guard rc == SQLITE_OK else { throw database.error(rc, "\(verb) a blob at byte \(offset + done)") }
                done += length
            }
        }
    }
}

/// A cached prepared statement. Bind, step, read columns; the cache resets it on reuse.
final class Statement {
    let handle: OpaquePointer
    unowned let database: SQLiteDatabase
    let sql: String

    init(handle: OpaquePointer, database: SQLiteDatabase, sql: String) {
        self.handle = handle
        self.database = database
        self.sql = sql
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Resets for the next row of a loop, keeping parameters that do not change.
    func resetKeepingBindings() {
        sqlite3_reset(handle)
    }

    // Binding; index is 1-based as in SQLite.
    @discardableResult func bind(_ index: Int32, _ value: Int64?) -> Statement {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
        return self
    }
    @discardableResult func bind(_ index: Int32, _ value: Int?) -> Statement { bind(index, value.map(Int64.init)) }
    @discardableResult func bind(_ index: Int32, _ value: Double?) -> Statement {
        if let value { sqlite3_bind_double(handle, index, value) } else { sqlite3_bind_null(handle, index) }
        return self
    }
    @discardableResult func bind(_ index: Int32, _ value: String?) -> Statement {
        if let value {
            var value = value
            value.withUTF8 { utf8 in
                _ = sqlite3_bind_text(handle, index, UnsafeRawPointer(utf8.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                    .assumingMemoryBound(to: CChar.self), Int32(utf8.count), SQLiteDatabase.transient)
            }
        } else {
            sqlite3_bind_null(handle, index)
        }
        return self
    }
    @discardableResult func bind(_ index: Int32, _ value: [UInt8]?) -> Statement {
        if let value {
            value.withUnsafeBytes { raw in
                _ = sqlite3_bind_blob(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, Int32(raw.count), SQLiteDatabase.transient)
            }
        } else {
            sqlite3_bind_null(handle, index)
        }
        return self
    }
    /// Binds an address as a big-endian blob: 4 bytes for IPv4, 16 for IPv6, so blob order
    /// (memcmp) is address order.
    @discardableResult func bindAddress(_ index: Int32, _ prefix: IPPrefix) -> Statement {
        bindAddress(index, family: prefix.family, address: prefix.address)
    }
    @discardableResult func bindAddress(_ index: Int32, family: IPPrefix.Family, address: UInt128) -> Statement {
        let count = family == .v4 ? 4 : 16
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { buffer in
            for position in 0..<count {
                buffer[position] = UInt8(truncatingIfNeeded: address >> (8 * (count - 1 - position)))
            }
            _ = sqlite3_bind_blob(handle, index, buffer.baseAddress!, Int32(count), SQLiteDatabase.transient)
        }
        return self
    }
    /// Binds family (4/6), address blob and length at `index`, `index+1`, `index+2`.
    @discardableResult func bindPrefix(_ index: Int32, _ prefix: IPPrefix) -> Statement {
        bind(index, Int64(prefix.family == .v4 ? 4 : 6))
        bindAddress(index + 1, prefix)
        bind(index + 2, Int64(prefix.length))
        return self
    }

    /// Steps once; true when a row is available, false when done.
    func step(file: String = #fileID, line: Int = #line) throws(StoreError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = database.error(rc, sql, file: file, line: line)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Steps to completion (a statement without result rows).
    func run(file: String = #fileID, line: Int = #line) throws(StoreError) {
        while try step(file: file, line: line) {}
    }

    // Columns; index is 0-based as in SQLite.
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }
    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
    func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }
    func blob(_ column: Int32) -> [UInt8]? {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard let pointer = sqlite3_column_blob(handle, column) else { return isNull(column) ? nil : [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
    /// Reads family, address blob, length at `column`...`column+2` as a prefix.
    func prefix(_ column: Int32) -> IPPrefix? {
        let family: IPPrefix.Family
        switch int64(column) {
        case 4: family = .v4
        case 6: family = .v6
        default: return nil
        }
        let count = Int(sqlite3_column_bytes(handle, column + 1))
        guard count == (family == .v4 ? 4 : 16), let pointer = sqlite3_column_blob(handle, column + 1) else { return nil }
        let bytes = pointer.assumingMemoryBound(to: UInt8.self)
        var address: UInt128 = 0
        for position in 0..<count { address = address << 8 | UInt128(bytes[position]) }
        return IPPrefix(family: family, address: address, length: int(column + 2))
    }
}
