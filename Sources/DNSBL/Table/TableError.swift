// TableError.swift -- why a serialized prefix table was rejected.

/// Why ``PrefixTable/init(serialized:)`` rejected a blob.
///
/// Payload-free so that typed throws box nothing; the loader that read the file adds the
/// file name to its own diagnostic.
public enum TableError: Error, Hashable, Sendable {
    /// The blob does not start with the prefix-table magic bytes.
    case badMagic
    /// The blob is a prefix table of a format version this build cannot read.
    case unsupportedVersion
    /// The blob ends before the counts in its headers say it should.
    case truncated
    /// The blob is complete but violates an invariant (order, ranges, flags, trailing bytes).
    case corrupt
}
