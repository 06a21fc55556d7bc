// RequestGuard.swift -- the middleware every request passes: client, rate limit, errors, security headers.

import HTTPTypes
import Hummingbird
import Logging
import Store

/// Runs around every route:
///
/// 1. works out the client (``ClientAddress``) and puts it in the context;
/// 2. takes the request's cost from the client's rate limit, or answers 429 with
///    `Retry-After`;
/// 3. turns every error into an answer: `{"error": "..."}` under `/api/`, a page elsewhere
///    (an unexpected error is logged and answered 500 without its details);
/// 4. adds the security headers to every answer.
struct RequestGuard: RouterMiddleware {
    typealias Context = WebContext
    let site: WebSite

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        var context = context
        let client = ClientAddress.resolve(peer: context.peer, forwardedFor: request.headers[values: .xForwardedFor],
                                           trustedProxies: site.configuration.trustedProxies)
        context.client = client
        let isAPI = request.uri.path.hasPrefix("/api/")
        var response: Response
        do {
            let cost = request.method == .post && request.uri.path.hasSuffix("delist") ? site.configuration.rateLimit.delistCost : 1
            if let wait = site.limiter.take(ClientAddress.rateKey(client), cost: cost, now: site.monotonicSeconds()) {
                let seconds = max(1, Int(wait.rounded(.up)))
                throw WebError(.tooManyRequests, "too many requests from \(ClientAddress.rateKey(client)); retry in \(seconds) s",
                               retryAfter: seconds)
            }
            response = try await next(request, context)
        } catch let error as WebError {
            response = site.errorResponse(error, api: isAPI)
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound ? "no such page: \(WebError.quoted(request.uri.path))" : error.status.reasonPhrase)
            response = site.errorResponse(WebError(error.status, message), api: isAPI)
        } catch {
            context.logger.error("web: request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = site.errorResponse(WebError(.internalServerError, "internal error; it was logged"), api: isAPI)
        }
        SecurityHeaders.apply(to: &response.headers)
        return response
    }
}

/// The headers every answer carries.
enum SecurityHeaders {
    /// Nothing but this site's own style sheet, pages, form targets and inline SVG: no
    /// script, no frames, no foreign fonts or images.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'none'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    static func apply(to headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "no-referrer"
        headers[.xFrameOptions] = "DENY"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let secFetchSite = Self("Sec-Fetch-Site")!
}
