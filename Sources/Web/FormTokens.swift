// FormTokens.swift -- CSRF tokens for the forms: random, single-use, bound to a client.

import Store
import Synchronization

/// Tokens that a form carries to prove it was served by this site to this client.
///
/// Each is 128 random bits, kept server-side with the client and form it was issued for,
/// used once, and valid for `lifetime` seconds. A cross-site page cannot read one (the
/// same-origin policy), and one fetched by an attacker is bound to the attacker's address.
/// The table is bounded: past `capacity` tokens the oldest are dropped.
final class FormTokens: Sendable {
    private struct Issued {
        var scope: String
        var expires: Double
    }

    private let lifetime: Double
    private let capacity: Int
    private let tokens = Mutex<(byToken: [String: Issued], order: [String])>(([:], []))

    init(lifetime: Double = 3600, capacity: Int = 50_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// A new token for `form` shown to `client` (and `user`, for the admin pages).
    func issue(form: String, client: IPPrefix, user: String = "", now: Double) -> String {
        var generator = SystemRandomNumberGenerator()
        let token = (0..<2).map { _ in
            let value = generator.next() as UInt64
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
        let scope = Self.scope(form: form, client: client, user: user)
        tokens.withLock { state in
            state.byToken[token] = Issued(scope: scope, expires: now + lifetime)
            state.order.append(token)
            if state.order.count > capacity {
                let dropped = state.order.count - capacity * 3 / 4
                for old in state.order.prefix(dropped) { state.byToken[old] = nil }
                state.order.removeFirst(dropped)
            }
        }
        return token
    }

    /// Whether `token` was issued for this form, client and user and has not expired;
    /// a token is good for one use.
    func redeem(_ token: String, form: String, client: IPPrefix, user: String = "", now: Double) -> Bool {
        guard token.utf8.count == 32 else { return false }
        let scope = Self.scope(form: form, client: client, user: user)
        return tokens.withLock { state in
            guard let issued = state.byToken[token], issued.scope == scope, issued.expires > now else { return false }
            state.byToken[token] = nil
            return true
        }
    }

    private static func scope(form: String, client: IPPrefix, user: String) -> String {
        "\(form) \(ClientAddress.rateKey(client)) \(user)"
    }
}
