// FuzzDNS.swift -- libFuzzer targets for the DNS answer path: one datagram, or a TCP byte stream.
//
// RBLD_FUZZ_TARGET=dns-query: the input is one query, answered as UDP and as TCP by a
// responder with listings, rate limiting and client policy switched on.
// RBLD_FUZZ_TARGET=dns-tcp: the input is what a client writes on a TCP connection, in up
// to three segments: the real framing decoder and query handler on an embedded channel.
// Every reply must echo the ID, set QR, fit its limit, and parse with the tests'
// independent decoder; a violation traps, which libFuzzer reports as a finding.

import CFuzzer
@testable import DNSBL
import DNSTestSupport
import Glibc
import NIOCore
import NIOEmbedded

/// Listings, a fixed clock (so the rate limit is soon reached and slips are fuzzed too),
/// a refused and a fixed-code client among those the inputs come from, and a quota.
let responder: Responder = {
    var builder = PrefixTableBuilder()
    builder.insert(v4: 0xC633_6407, prefixLength: 32, value: TableValue(listing: 1))                  // 198.51.100.7
    builder.insert(v4: 0xCB00_7100, prefixLength: 24, value: TableValue(listing: 2, expires: 1_000_100)) // 203.0.113.0/24
    builder.insert(v4: 0xCB00_7109, prefixLength: 32, value: .excluded)
    builder.insert(v6: UInt128(0x2001_0db8) << 96 | 1, prefixLength: 128, value: TableValue(listing: 1))
    let config = ZoneConfig(
        name: "bl.example.org",
        soa: SOAFields(mname: "ns1.example.org", rname: "hostmaster.example.org", serial: 1),
        nameservers: ["ns1.bl.example.org", "ns2.example.net"],
        listings: [ListingClass(code: 2, text: "Listed: $"), ListingClass(code: 6, text: String(repeating: "x", count: 600))])
    let zone = try! ZoneSnapshot(config: config, table: builder.freeze())
    var rate = RateLimitConfiguration()
    rate.rate = 20
    var clients = ClientPolicyConfiguration()
    clients.refused = [ClientNetwork(isIPv6: false, address: 0x7F00_0107, prefixLength: 32)!]
    clients.fixedCodeNetworks = [ClientNetwork(isIPv6: false, address: 0x7F00_0108, prefixLength: 32)!]
    clients.dailyQuota = 50
    return Responder(store: SnapshotStore(ServedZones([zone])), clock: { 1_000_000 },
                     rateLimiter: ResponseRateLimiter(rate, seed: 1), clientPolicy: ClientPolicy(clients, seed: 1),
                     monotonicClock: { 0 })
}()
nonisolated(unsafe) var session = responder.makeSession()
nonisolated(unsafe) var output = [UInt8](repeating: 0, count: 65535)
let target = getenv("RBLD_FUZZ_TARGET").map { String(cString: $0) } ?? "dns-query"

/// Checks what every reply must be; traps (a finding) when it is not.
func check(reply: ArraySlice<UInt8>, to query: UnsafeRawBufferPointer, limit: Int) {
    let reply = Array(reply)
    precondition(reply.count >= 12 && reply.count <= limit, "reply of \(reply.count) bytes, limit \(limit)")
    precondition(query.count >= 2 && reply[0] == query[0] && reply[1] == query[1], "ID not echoed")
    precondition(reply[2] & 0x80 != 0, "QR not set")
    guard let decoded = DecodedResponse(reply) else { preconditionFailure("reply does not parse: \(reply)") }
    if !decoded.questionBytes.isEmpty {
        precondition(query.count >= 12 + decoded.questionBytes.count
                     && Array(query[12..<(12 + decoded.questionBytes.count)]) == decoded.questionBytes,
                     "question not echoed byte for byte")
    }
}

func fuzzQuery(_ query: UnsafeRawBufferPointer) {
    // The client: one of a few loopback hosts, among them the refused and the fixed-code one.
    let client = ClientAddress.v4(0x7F00_0100 | UInt32(query.count % 12))
    for transport in [Transport.udp, .tcp] {
        responder.beginBatch(&session)
        let written = output.withUnsafeMutableBytes { out in
            responder.respond(to: query, into: out, transport: transport, client: client, session: &session)
        }
        if written > 0 { check(reply: output[0..<written], to: query, limit: transport == .udp ? 1232 : 65535) }
    }
}

func fuzzTCP(_ stream: UnsafeRawBufferPointer) {
    let channel = EmbeddedChannel()
    do {
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(TCPFrameDecoder(), maximumBufferSize: 2 + TCPFrameDecoder.maximumMessageLength))
        try channel.pipeline.syncOperations.addHandler(TCPQueryHandler(responder: responder, counters: TCPCounterStorage()))
    } catch {
        preconditionFailure("pipeline: \(error)")
    }
    // Up to three segments, cut where the first two bytes say.
    let count = stream.count
    let cuts = count >= 2 ? [Int(stream[0]) % (count + 1), Int(stream[1]) * 7 % (count + 1)].sorted() : []
    var start = 0
    for end in cuts + [count] where end >= start {
        var buffer = channel.allocator.buffer(capacity: end - start)
        buffer.writeBytes(UnsafeRawBufferPointer(rebasing: stream[start..<end]))
        start = end
        do { try channel.writeInbound(buffer) } catch { break }  // a framing error closes the connection
    }
    // Every reply is framed: a length prefix that matches, around a DNS reply.
    while let reply = try? channel.readOutbound(as: ByteBuffer.self) {
        guard reply.readableBytes > 0 else { continue }   // the flush on a half-close
        var copy = reply
        guard let length = copy.readInteger(as: UInt16.self) else { preconditionFailure("reply without a length") }
        precondition(Int(length) == copy.readableBytes, "length prefix \(length), \(copy.readableBytes) bytes")
        let bytes = copy.readBytes(length: Int(length))!
        precondition(bytes.count >= 12 && bytes[2] & 0x80 != 0 && DecodedResponse(bytes) != nil, "bad TCP reply")
    }
    // Close (a framing error may have done so already) and let the embedded event loop run
    // the close to its end, which removes the handlers, as a real event loop always does.
    _ = try? channel.finish(acceptAlreadyClosed: true)
    channel.embeddedEventLoop.run()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    if target == "dns-tcp" { fuzzTCP(input) } else { fuzzQuery(input) }
    return 0
}

@_cdecl("FuzzDNS_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    rbld_fuzz_main(argc, argv)
}
