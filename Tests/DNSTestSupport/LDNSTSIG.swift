// LDNSTSIG.swift -- TSIG (RFC 8945) signing and checking by libldns, independent of DNSBL.

import CLDNS
import Glibc

/// Signs requests and checks signed responses with libldns's TSIG code (HMAC-SHA256).
public enum LDNSTSIG {
    /// A request signed by libldns (with the current time) and its MAC, which the
    /// response's signature chains from.
    public struct Signed {
        public var bytes: [UInt8]
        public var mac: [UInt8]
    }

    public static func sign(_ query: [UInt8], keyName: String, secretBase64: String) -> Signed? {
        var packet: UnsafeMutablePointer<ldns_pkt>?
        let status = query.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let packet else { return nil }
        defer { ldns_pkt_free(packet) }
        guard ldns_pkt_tsig_sign(packet, keyName, secretBase64, 300, "hmac-sha256.", nil) == LDNS_STATUS_OK,
              let tsig = ldns_pkt_tsig(packet), let macRDF = ldns_rr_rdf(tsig, 3)
        else { return nil }
        var wire: UnsafeMutablePointer<UInt8>?
        var size = 0
        guard ldns_pkt2wire(&wire, packet, &size) == LDNS_STATUS_OK, let wire else { return nil }
        defer { free(wire) }
        return Signed(bytes: Array(UnsafeBufferPointer(start: wire, count: size)), mac: rdfBytes(macRDF))
    }

    /// Whether every message of a response verifies: the first against the request's MAC
    /// with the full TSIG variables, each later one against the previous MAC with the
    /// timers only (RFC 8945 §5.3.1).
    public static func verify(_ messages: [[UInt8]], request: Signed, keyName: String, secretBase64: String) -> Bool {
        var prior = request.mac
        for (index, message) in messages.enumerated() {
            var packet: UnsafeMutablePointer<ldns_pkt>?
            let status = message.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
            guard status == LDNS_STATUS_OK, let packet else { return false }
            defer { ldns_pkt_free(packet) }
            guard let tsig = ldns_pkt_tsig(packet), let macRDF = ldns_rr_rdf(tsig, 3) else { return false }
            let mac = rdfBytes(macRDF)
            // ldns_rdf_new_frm_data copies the bytes: a 2-byte length, then the MAC.
            let field = [UInt8(prior.count >> 8), UInt8(truncatingIfNeeded: prior.count)] + prior
            let priorRDF = field.withUnsafeBufferPointer {
                ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, $0.count, UnsafeMutableRawPointer(mutating: $0.baseAddress))
            }
            defer { ldns_rdf_deep_free(priorRDF) }
            let ok = message.withUnsafeBufferPointer {
                ldns_pkt_tsig_verify_next(packet, $0.baseAddress, $0.count, keyName, secretBase64, priorRDF, index > 0 ? 1 : 0)
            }
            guard ok else { return false }
            prior = mac
        }
        return !messages.isEmpty
    }

    /// The TSIG error field of a response (RFC 8945 §3), or nil without a TSIG record.
    public static func error(of message: [UInt8]) -> Int? {
        var packet: UnsafeMutablePointer<ldns_pkt>?
        let status = message.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let packet else { return nil }
        defer { ldns_pkt_free(packet) }
        guard let tsig = ldns_pkt_tsig(packet), let rdf = ldns_rr_rdf(tsig, 5) else { return nil }
        return Int(ldns_rdf2native_int16(rdf))
    }

    /// The MAC field's bytes (an INT16_DATA rdf: a 2-byte length, then the MAC).
    private static func rdfBytes(_ rdf: UnsafeMutablePointer<ldns_rdf>) -> [UInt8] {
        let size = ldns_rdf_size(rdf)
        guard size >= 2, let data = ldns_rdf_data(rdf) else { return [] }
        return Array(UnsafeBufferPointer(start: data + 2, count: size - 2))
    }
}

extension LDNSTSIG {
    /// Whether a signed request (a NOTIFY) verifies: the MAC over the message and the
    /// TSIG variables, with no prior MAC.
    public static func verifyRequest(_ message: [UInt8], keyName: String, secretBase64: String) -> Bool {
        var packet: UnsafeMutablePointer<ldns_pkt>?
        let status = message.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let packet else { return false }
        defer { ldns_pkt_free(packet) }
        return message.withUnsafeBufferPointer {
            ldns_pkt_tsig_verify(packet, $0.baseAddress, $0.count, keyName, secretBase64, nil)
        }
    }
}
