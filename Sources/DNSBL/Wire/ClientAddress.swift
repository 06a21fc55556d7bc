// ClientAddress.swift -- the address a query came from.

/// The source address of a query: what response rate limiting and client policy key on.
///
/// An IPv4 address is kept in the low 32 bits of `bits`; IPv4-mapped IPv6 sources
/// (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) are folded into IPv4 by the serving code, so a
/// dual-stack socket and an IPv4 socket see the same client.
public struct ClientAddress: Hashable, Sendable {
    public let isIPv6: Bool
    public let bits: UInt128

    public static func v4(_ address: UInt32) -> ClientAddress { ClientAddress(isIPv6: false, bits: UInt128(address)) }

    /// An IPv6 address; IPv4-mapped ones become their IPv4 address.
    public static func v6(_ address: UInt128) -> ClientAddress {
        if address >> 32 == 0xFFFF { return .v4(UInt32(truncatingIfNeeded: address)) }
        return ClientAddress(isIPv6: true, bits: address)
    }

    /// The address with every bit after the first `v4` (IPv4) or `v6` (IPv6) bits cleared:
    /// the client's network, as RRL and quotas count it.
    @inline(__always)
    func prefix(v4: Int, v6: Int) -> UInt128 {
        // Shifts are in range: the lengths are checked to 0...32 and 0...128 when configured.
        if isIPv6 {
            guard v6 < 128 else { return bits }
            return v6 == 0 ? 0 : bits & ~(UInt128.max >> v6)
        }
        guard v4 < 32 else { return bits }
        return v4 == 0 ? 0 : bits & UInt128(~(UInt32.max >> v4))
    }
}
