import Foundation
import Transfer

/// Holds how one registry wants to be authenticated and the bearer tokens fetched so far, one per scope set.
///
/// The handshake (distribution's token spec):
/// 1. `GET /v2/` answers 401 with a `WWW-Authenticate` challenge (`Basic` or `Bearer realm=…,service=…`).
/// 2. For `Bearer`, ask the realm for a token for the scopes a request needs (with basic credentials,
///    or an OAuth2 refresh token for an `identitytoken`), and send it as `Authorization: Bearer`.
/// 3. A later 401 means the token expired or lacks an action: drop it and fetch again once.
actor Authenticator {
    struct Token {
        var value: String
        var expires: Date
    }

    private let registry: String
    private let credential: FoundCredential?
    private let engine: CurlEngine
    private let tls: TLSConfiguration
    private var challenge: Challenge?
    private var tokens: [String: Task<Token, any Error>] = [:]

    init(registry: String, credential: FoundCredential?, engine: CurlEngine, tls: TLSConfiguration) {
        self.registry = registry
        self.credential = credential
        self.engine = engine
        self.tls = tls
    }

    /// Records the challenge of a 401; a new realm or scheme invalidates cached tokens.
    func update(challenge: Challenge?) {
        if challenge != self.challenge { self.tokens.removeAll() }
        self.challenge = challenge
    }

    /// Forgets the token for `scopes`, after the registry refused it.
    func invalidate(scopes: [String]) {
        self.tokens[Self.key(scopes)] = nil
    }

    /// The `Authorization` header value for a request needing `scopes`, or `nil` for anonymous access.
    func authorization(scopes: [String]) async throws -> String? {
        guard let challenge = self.challenge else { return nil }
        switch challenge.scheme {
        case .basic:
            guard case .basic(let u, let p)? = self.credential?.credential else { return nil }
            return "Basic " + Data("\(u):\(p)".utf8).base64EncodedString()
        case .bearer:
            return "Bearer " + (try await self.token(scopes: scopes, challenge: challenge).value)
        case .other(let name):
            throw RegistryError(.unsupported, "\(self.registry) asks for \(name) authentication, which Ferry does not speak")
        }
    }

    /// Who we tried to be, for messages after a refusal.
    var identity: String {
        guard let c = self.credential else { return "anonymously (no credentials found for \(self.registry))" }
        return "as \(c.credential.redactedDescription) from \(c.source)"
    }

    private static func key(_ scopes: [String]) -> String { scopes.sorted().joined(separator: " ") }

    private func token(scopes: [String], challenge: Challenge) async throws -> Token {
        let key = Self.key(scopes)
        if let task = self.tokens[key] {
            if let t = try? await task.value, t.expires > Date() { return t }
            if self.tokens[key] == task { self.tokens[key] = nil }
        }
        let task = Task { try await self.fetchToken(scopes: scopes, challenge: challenge) }
        self.tokens[key] = task
        do {
            return try await task.value
        } catch {
            if self.tokens[key] == task { self.tokens[key] = nil }
            throw error
        }
    }

    private func fetchToken(scopes: [String], challenge: Challenge) async throws -> Token {
        guard let realm = challenge.realm, var components = URLComponents(string: realm) else {
            throw RegistryError(.badResponse, "\(self.registry) sent a Bearer challenge without a realm")
        }
        var query: [URLQueryItem] = []
        if let service = challenge.service { query.append(URLQueryItem(name: "service", value: service)) }
        var request: Request
        switch self.credential?.credential {
        case .identityToken(let refresh):
            // OAuth2 refresh-token grant, as docker does with an identity token.
            var form = URLComponents()
            form.queryItems = query + [
                URLQueryItem(name: "grant_type", value: "refresh_token"),
                URLQueryItem(name: "refresh_token", value: refresh),
                URLQueryItem(name: "client_id", value: "ferry"),
                URLQueryItem(name: "scope", value: scopes.joined(separator: " ")),
            ]
            let body = (form.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
            request = Request(method: .post, url: realm, body: .bytes(Array(body.utf8)), tls: self.tls)
            request.headers.set("Content-Type", "application/x-www-form-urlencoded")
        case .basic(let u, let p):
            components.queryItems = (components.queryItems ?? []) + query + scopes.map { URLQueryItem(name: "scope", value: $0) }
            request = Request(url: components.string ?? realm, tls: self.tls)
            request.headers.set("Authorization", "Basic " + Data("\(u):\(p)".utf8).base64EncodedString())
        case nil:
            components.queryItems = (components.queryItems ?? []) + query + scopes.map { URLQueryItem(name: "scope", value: $0) }
            request = Request(url: components.string ?? realm, tls: self.tls)
        }
        let what = "token for \(scopes.joined(separator: " "))"
        let tokenRequest = request
        let (response, body) = try await Retry.run(what: what) {
            do {
                return try await self.engine.perform(tokenRequest, maxBodyBytes: 1 << 20)
            } catch let e as TransferError {
                throw RegistryError.from(e, registry: realm)
            }
        } check: { response, body in
            guard response.status == 429 || response.status >= 500 else { return nil }
            return RegistryError.from(status: response.status, headers: response.headers, body: body, what: what, registry: realm)
        }
        guard response.isSuccess else {
            if response.status == 401 || response.status == 403 {
                throw RegistryError(.unauthorized, "\(self.registry) refused a token \(self.identity): check the credentials (--creds, --authfile)", status: response.status)
            }
            throw RegistryError.from(status: response.status, headers: response.headers, body: body, what: what, registry: realm)
        }
        struct Answer: Decodable {
            var token: String?
            var access_token: String?
            var expires_in: Double?
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(body)),
            let value = answer.token ?? answer.access_token, !value.isEmpty
        else {
            throw RegistryError(.badResponse, "the token service of \(self.registry) answered without a token")
        }
        // Renew a little early so a token does not expire between check and use.
        let lifetime = max((answer.expires_in ?? 60) - 10, 5)
        return Token(value: value, expires: Date().addingTimeInterval(lifetime))
    }
}
