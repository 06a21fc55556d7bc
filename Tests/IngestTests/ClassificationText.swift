// ClassificationText.swift -- the text forms the classification tables are written in.
//
// The fixture and corpus tables of ClassificationTests.swift give sources and digests as
// text, the way `rbld classify --json` prints them, while a `Classification` carries them
// as values (`IPPrefix`, `MessageDigest`). These few operators let such a table compare
// with the values; a table written with values needs none of them.

import Store
@testable import Ingest

/// An address as the corpus labels write it, in the canonical text attribution reports
/// (IPv4-mapped IPv6 as IPv4, RFC 5952 for IPv6).
struct LabelAddress: CustomStringConvertible {
    let description: String

    init?(_ text: String) {
        guard let address = IPPrefix.mailAddress(Array(text.utf8)[...]) else { return nil }
        description = address.description
    }
}

/// An attributed source against a table's text (nil: unattributable).
func == (lhs: IPPrefix?, rhs: String?) -> Bool { lhs?.description == rhs }
func != (lhs: IPPrefix?, rhs: String?) -> Bool { !(lhs == rhs) }

/// The source's text, or the given placeholder when there is none (for messages).
func ?? (lhs: IPPrefix?, rhs: @autoclosure () -> String) -> String { lhs?.description ?? rhs() }

/// A digest against its lowercase hex.
func == (lhs: MessageDigest, rhs: String) -> Bool { lhs.description == rhs }

extension MessageDigest {
    /// The number of hex digits it prints as (64).
    var count: Int { description.utf8.count }
}
