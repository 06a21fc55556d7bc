// ListFileResult.swift -- what a list file contained: entries, zone settings, bad lines.

/// One line's entry from a list file (a range line yields several, with the same `line`).
public struct ImportEntry: Hashable, Sendable {
    public var prefix: IPPrefix
    /// True for a `!` exclusion.
    public var excluded: Bool
    /// The entry's own X of 127.0.0.X; nil = the zone default.
    public var code: UInt8?
    /// The entry's own TXT template; nil = the zone's.
    public var text: String?
    /// 1-based line number in the file (0 when not from a file).
    public var line: Int

    public init(prefix: IPPrefix, excluded: Bool = false, code: UInt8? = nil, text: String? = nil, line: Int = 0) {
        self.prefix = prefix
        self.excluded = excluded
        self.code = code
        self.text = text
        self.line = line
    }
}

/// A problem on one line of a list file: `ip4.zone:17: bad CIDR '1.2.3.4/33'`.
public struct ListFileError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var reason: String

    public init(file: String, line: Int, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(file):\(line): \(reason)" }
}

/// The parsed content of a list file. Parsing never throws: bad lines are collected.
public struct ListFileResult: Sendable {
    /// Good entries, in file order.
    public var entries: [ImportEntry]
    /// What `$SOA`, `$NS`, `$TTL` and a default `:A:TXT` line set (rbldnsd format only).
    public var settings: PartialZoneSettings
    /// Lines that were skipped; an import with any of these changes nothing unless the
    /// caller asks to skip bad lines.
    public var errors: [ListFileError]
    /// Lines that were accepted but not fully understood (an unknown `$` directive).
    public var warnings: [ListFileError]
    /// Number of lines read.
    public var lineCount: Int

    public init(entries: [ImportEntry] = [], settings: PartialZoneSettings = PartialZoneSettings(),
                errors: [ListFileError] = [], warnings: [ListFileError] = [], lineCount: Int = 0) {
        self.entries = entries
        self.settings = settings
        self.errors = errors
        self.warnings = warnings
        self.lineCount = lineCount
    }
}
