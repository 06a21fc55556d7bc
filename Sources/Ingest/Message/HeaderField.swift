// HeaderField.swift -- one RFC 5322 header field as offsets into the message bytes.

/// One header field, as offsets into the (LF-normalized) message buffer.
///
/// The value range covers the raw, still folded value: from after the colon (and the
/// whitespace that follows it) to the end of the field's last continuation line.
struct HeaderField: Equatable {
    let nameStart: Int
    let nameEnd: Int
    let valueStart: Int
    var valueEnd: Int
    /// Offset of the field's first byte (its name), for header excerpts.
    var fieldStart: Int { nameStart }
}
