// Attribution.swift -- the trusted-hop walk that names a bounce's source (docs/ARCHITECTURE.md).

import Store

/// The result of walking a message's `Received` headers from the top.
///
/// The ingest contract (docs/ARCHITECTURE.md): skip headers that name no client IP; skip hops whose client
/// is trusted (`--trusted-networks`, loopback always); the first other client IP is the
/// source, and nothing below it is looked at. No such IP means the message is unattributable.
struct Attribution: Equatable {
    enum Outcome: Equatable {
        /// The first untrusted client address.
        case source(IPPrefix)
        /// The first untrusted client is private, loopback, link-local or otherwise never a
        /// public mail source: the trusted networks are probably incomplete; list nothing.
        case nonPublicSource(IPPrefix)
        /// No `Received` header at all.
        case noReceivedHeaders
        /// `Received` headers exist, but none names a client address.
        case noClientAddress
        /// Every client address is trusted.
        case allHopsTrusted
    }

    /// `Received` headers looked at before giving up: the trap's own hops are the top few;
    /// 1,000 leaves room for long internal chains while bounding a header of 8,000 forged ones.
    static let maxReceivedExamined = 1_000

    var outcome: Outcome
    /// `Received` headers examined.
    var receivedCount = 0
    /// Hops skipped because their client was trusted.
    var trustedHopCount = 0
    /// Headers skipped because they named no client.
    var addresslessCount = 0
    /// The header that named the source, when there is one.
    var sourceHeader: ReceivedHeader?
    /// Index of that header's field in the message header, for excerpts.
    var sourceFieldIndex: Int?

    var sourceAddress: IPPrefix? {
        if case .source(let address) = outcome { return address }
        return nil
    }

    private static let received: [UInt8] = Array("received".utf8)

    init(header: MessageHeader, bytes: [UInt8], trusted: TrustedNetworks) {
        outcome = .noReceivedHeaders
        for (fieldIndex, field) in header.fields.enumerated()
        where MessageHeader.name(of: field, in: bytes, is: Self.received) {
            guard receivedCount < Self.maxReceivedExamined else { break }
            receivedCount += 1
            let parsed = ReceivedHeader(value: MessageHeader.unfoldedValue(field, in: bytes, limit: 8192))
            guard let client = parsed.clientAddress else {
                addresslessCount += 1
                continue
            }
            if trusted.contains(client) {
                trustedHopCount += 1
                continue
            }
            outcome = trusted.mayBeSource(client) ? .source(client) : .nonPublicSource(client)
            sourceHeader = parsed
            sourceFieldIndex = fieldIndex
            return
        }
        if receivedCount == 0 {
            outcome = .noReceivedHeaders
        } else if trustedHopCount == 0 {
            outcome = .noClientAddress
        } else {
            outcome = .allHopsTrusted
        }
    }

    /// A sentence for the `reason` field.
    var explanation: String {
        switch outcome {
        case .source(let address):
            let hops = trustedHopCount == 0 ? "" : " after \(trustedHopCount) trusted hop\(trustedHopCount == 1 ? "" : "s")"
            return "source \(address) from Received header \(receivedCount)\(hops)"
        case .nonPublicSource(let address):
            return "first untrusted client \(address) (Received header \(receivedCount)) is not a public address; check --trusted-networks"
        case .noReceivedHeaders:
            return "no Received header"
        case .noClientAddress:
            return "no Received header names a client IP"
        case .allHopsTrusted:
            return "all \(trustedHopCount) client IP\(trustedHopCount == 1 ? " is" : "s are") trusted"
        }
    }
}
