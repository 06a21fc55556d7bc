// LDNSMessage.swift -- a DNS message as libldns reads it: the independent reference.

import CLDNS
import Glibc

/// A DNS message parsed by libldns (`ldns_wire2pkt`), field by field, with every record in
/// libldns's presentation format. It shares no code with the server, so a golden packet
/// checked against it is checked by a second implementation, not against bytes the
/// server itself once wrote.
public struct LDNSMessage: Sendable, CustomStringConvertible {
    public var id: UInt16
    public var qr: Bool
    public var opcode: Int
    public var aa: Bool
    public var tc: Bool
    public var rd: Bool
    public var ra: Bool
    /// The full response code: the header's four bits and, with EDNS, the OPT record's upper eight.
    public var rcode: Int
    /// Records as `owner TTL CLASS TYPE RDATA`, whitespace folded to single spaces.
    public var question: [String]
    public var answer: [String]
    public var authority: [String]
    /// Additional records other than OPT (libldns takes OPT apart into the `edns` fields).
    public var additional: [String]
    public var edns: EDNS?

    /// The OPT record's fields (RFC 6891 §6.1.3).
    public struct EDNS: Hashable, Sendable {
        public var payloadSize: Int
        public var version: Int
        public var dnssecOK: Bool

        public init(payloadSize: Int, version: Int, dnssecOK: Bool) {
            self.payloadSize = payloadSize
            self.version = version
            self.dnssecOK = dnssecOK
        }
    }

    /// Parses `bytes`; nil with libldns's reason when it cannot.
    public static func parse(_ bytes: [UInt8]) -> Result<LDNSMessage, LDNSError> {
        var packet: UnsafeMutablePointer<ldns_pkt>?
        let status = bytes.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let packet else {
            return .failure(LDNSError(reason: String(cString: ldns_get_errorstr_by_id(status))))
        }
        defer { ldns_pkt_free(packet) }
        func records(_ list: UnsafeMutablePointer<ldns_rr_list>?, question: Bool = false) -> [String] {
            guard let list else { return [] }
            return (0..<ldns_rr_list_rr_count(list)).map { index in
                let rr = ldns_rr_list_rr(list, index)
                guard let text = ldns_rr2str(rr) else { return "?" }
                defer { free(text) }
                return String(cString: text).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
                    .joined(separator: " ").replacingSemicolonQuestion(question)
            }
        }
        var rcode = Int(ldns_pkt_get_rcode(packet).rawValue)
        var edns: EDNS?
        if ldns_pkt_edns(packet) {
            rcode |= Int(ldns_pkt_edns_extended_rcode(packet)) << 4
            edns = EDNS(payloadSize: Int(ldns_pkt_edns_udp_size(packet)), version: Int(ldns_pkt_edns_version(packet)),
                        dnssecOK: ldns_pkt_edns_do(packet))
        }
        return .success(LDNSMessage(
            id: ldns_pkt_id(packet), qr: ldns_pkt_qr(packet), opcode: Int(ldns_pkt_get_opcode(packet).rawValue),
            aa: ldns_pkt_aa(packet), tc: ldns_pkt_tc(packet), rd: ldns_pkt_rd(packet), ra: ldns_pkt_ra(packet),
            rcode: rcode, question: records(ldns_pkt_question(packet), question: true),
            answer: records(ldns_pkt_answer(packet)), authority: records(ldns_pkt_authority(packet)),
            additional: records(ldns_pkt_additional(packet)), edns: edns))
    }

    public var description: String {
        let flags = [qr ? "qr" : nil, aa ? "aa" : nil, tc ? "tc" : nil, rd ? "rd" : nil, ra ? "ra" : nil].compactMap { $0 }
        var lines = ["id \(id) opcode \(opcode) rcode \(rcode) flags \(flags.joined(separator: " "))"
                     + (edns.map { " edns payload \($0.payloadSize) version \($0.version) do \($0.dnssecOK)" } ?? "")]
        for (name, section) in [("question", question), ("answer", answer), ("authority", authority), ("additional", additional)] {
            lines += section.map { "\(name): \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}

/// libldns refused the bytes.
public struct LDNSError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

private extension String {
    /// libldns prints a question as `;name CLASS TYPE` on some versions: drop the `;`.
    func replacingSemicolonQuestion(_ question: Bool) -> String {
        question && hasPrefix(";") ? String(dropFirst()) : self
    }
}
