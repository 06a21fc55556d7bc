// WireLimits.swift -- named protocol limits, each with its derivation.

public enum WireLimits {
    /// RFC 1035 §4.1.1: the header is six 16-bit fields.
    public static let headerSize = 12
    /// RFC 1035 §2.3.4: a name is at most 255 octets in wire form, length bytes included.
    public static let maxNameLength = 255
    /// RFC 1035 §2.3.4: a label is at most 63 octets (the top two bits of a length byte
    /// are reserved for pointers and extended label types, RFC 1035 §4.1.4, RFC 6891 §5).
    public static let maxLabelLength = 63
    /// A 255-octet name holds at most 127 labels of one octet each plus the root: (255 - 1) / 2.
    public static let maxLabelCount = 127
    /// RFC 1035 §4.2.1: UDP messages without EDNS are limited to 512 octets.
    public static let classicUDPSize = 512
    /// The EDNS payload size we advertise and never exceed over UDP: 1,232 = 1,280 (IPv6
    /// minimum MTU, RFC 8200 §5) − 40 (IPv6 header) − 8 (UDP header); DNS flag day 2020.
    public static let ednsUDPSize = 1232
    /// RFC 1035 §4.2.2: a TCP message carries a 16-bit length.
    public static let maxTCPMessage = 65535
    /// The EDNS version we implement (RFC 6891 §6.1.3).
    public static let ednsVersion: UInt8 = 0
}
