import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The Docker token authentication service (https://distribution.github.io/distribution/spec/auth/token/),
/// enough of it for registry 2.8 with `auth: token:` and for clients that use identity tokens.
///
/// Routes:
/// - `GET /token?service=S&scope=…&scope=…[&offline_token=true]` with optional HTTP Basic credentials.
/// - `POST /token` with a form body: `grant_type=password` (`username`, `password`, `access_type=offline`
///   for a refresh token) or `grant_type=refresh_token` (`refresh_token`), plus `service`, `scope`, `client_id`.
/// - `GET /__testkit/stats`, `POST /__testkit/reset`: request counters for tests.
///
/// Grants: a known user gets every action asked for; an anonymous request gets only `pull` on
/// repositories when `--anonymous-pull` is on, and a 401 Basic challenge otherwise.
final class TokenService: Sendable {
    struct Configuration: Sendable {
        var issuer: String
        var service: String
        var users: [String: String]
        var anonymousPull: Bool
        var lifetime: Int
        /// Refresh (identity) tokens known from the start, token → user name.
        var identityTokens: [String: String]
    }

    private let configuration: Configuration
    private let signer: ES256Signer
    private let refreshTokens: Mutex<[String: String]>
    private let stats = Mutex(TokenStats())

    init(configuration: Configuration, signer: ES256Signer) {
        self.configuration = configuration
        self.signer = signer
        self.refreshTokens = Mutex(configuration.identityTokens)
    }

    func respond(to request: BufferedRequest) -> SimpleResponse {
        switch (request.method, request.path) {
        case (.GET, "/token"):
            return self.count(self.tokenForGET(request), grant: "get")
        case (.POST, "/token"):
            return self.count(self.tokenForPOST(request), grant: "post")
        case (.GET, "/__testkit/stats"):
            return .json(.ok, self.stats.withLock { $0.json() })
        case (.POST, "/__testkit/reset"):
            self.stats.withLock { $0 = TokenStats() }
            return .json(.ok, "{}")
        default:
            return .text(.notFound, "no route for \(request.method) \(request.path)")
        }
    }

    // MARK: - The two flows

    /// The classic flow: Basic credentials (or none) and scopes in the query.
    private func tokenForGET(_ request: BufferedRequest) -> Outcome {
        let query = request.query
        let values = { (name: String) in query.filter { $0.0 == name }.map(\.1) }
        if let problem = self.checkService(values("service").first) { return problem }
        guard let scopes = Scope.parseAll(values("scope")) else { return .badRequest("malformed scope") }

        let account: String?
        switch self.basicCredentials(request.head.headers) {
        case .none: account = nil
        case .invalid: return .unauthorized("wrong user name or password")
        case .user(let name): account = name
        }
        guard account != nil || self.configuration.anonymousPull else {
            return .unauthorized("credentials required")
        }
        // A refresh token only for a known user who asks for one (docker login's `offline_token=true`).
        let refresh = values("offline_token").first == "true" ? account.map(self.newRefreshToken) : nil
        return self.issue(for: account, scopes: scopes, refreshToken: refresh)
    }

    /// The OAuth2 flow (`docker login` with identity tokens, and clients that hold a refresh token).
    private func tokenForPOST(_ request: BufferedRequest) -> Outcome {
        let form = FormURLEncoding.decode(request.bodyString)
        let field = { (name: String) in form.first { $0.0 == name }?.1 }
        if let problem = self.checkService(field("service")) { return problem }
        guard let scopes = Scope.parseAll(form.filter { $0.0 == "scope" }.map(\.1)) else {
            return .badRequest("malformed scope")
        }
        switch field("grant_type") {
        case "password":
            guard let user = field("username"), let password = field("password"),
                self.configuration.users[user] == password
            else { return .unauthorized("wrong user name or password") }
            let refresh = field("access_type") == "offline" ? self.newRefreshToken(for: user) : nil
            return self.issue(for: user, scopes: scopes, refreshToken: refresh, oauth: true, grant: "password")
        case "refresh_token":
            guard let token = field("refresh_token"),
                let user = self.refreshTokens.withLock({ $0[token] })
            else { return .unauthorized("unknown refresh token") }
            // The same refresh token is handed back: clients store whatever comes, and it stays valid.
            return self.issue(for: user, scopes: scopes, refreshToken: token, oauth: true, grant: "refresh_token")
        default:
            return .badRequest("unsupported grant_type (want password or refresh_token)")
        }
    }

    // MARK: - Pieces

    private func issue(
        for account: String?,
        scopes: [Scope],
        refreshToken: String?,
        oauth: Bool = false,
        grant: String = "get"
    ) -> Outcome {
        let granted = self.grant(scopes, to: account)
        let now = Int(Date().timeIntervalSince1970)
        let claims = TokenClaims(
            iss: self.configuration.issuer,
            sub: account ?? "",
            aud: self.configuration.service,
            exp: now + self.configuration.lifetime,
            nbf: now,
            iat: now,
            jti: Self.randomHex(bytes: 16),
            access: granted
        )
        let token = JWT.sign(claims, with: self.signer)
        var body: [String: Any] = [
            "token": token,
            "access_token": token,
            "expires_in": self.configuration.lifetime,
            "issued_at": ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(now))),
        ]
        if let refreshToken { body["refresh_token"] = refreshToken }
        if oauth {
            body["scope"] = granted.map { "\($0.type):\($0.name):\($0.actions.joined(separator: ","))" }
                .joined(separator: " ")
        }
        self.stats.withLock { $0.issued(account: account, scopes: scopes, grant: grant) }
        return .issued(.json(.ok, Self.json(body)))
    }

    private func grant(_ scopes: [Scope], to account: String?) -> [AccessEntry] {
        scopes.compactMap { scope in
            if account != nil { return AccessEntry(type: scope.type, name: scope.name, actions: scope.actions) }
            guard scope.type == "repository", scope.actions.contains("pull") else { return nil }
            return AccessEntry(type: scope.type, name: scope.name, actions: ["pull"])
        }
    }

    private enum Credentials { case none, invalid, user(String) }

    private func basicCredentials(_ headers: HTTPHeaders) -> Credentials {
        guard let value = headers.first(name: "Authorization") else { return .none }
        guard value.lowercased().hasPrefix("basic "),
            let data = Data(base64Encoded: String(value.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let pair = String(data: data, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        else { return .invalid }
        let user = String(pair[..<colon])
        let password = String(pair[pair.index(after: colon)...])
        return self.configuration.users[user] == password ? .user(user) : .invalid
    }

    /// A client asking for another service has been pointed at the wrong token server: say so.
    private func checkService(_ service: String?) -> Outcome? {
        guard let service, service != self.configuration.service else { return nil }
        return .badRequest("this token server serves '\(self.configuration.service)', not '\(service)'")
    }

    private func newRefreshToken(for user: String) -> String {
        let token = Self.randomHex(bytes: 32)
        self.refreshTokens.withLock { $0[token] = user }
        return token
    }

    private static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    private static func json(_ object: [String: Any]) -> String {
        // Only strings and integers go in, which JSONSerialization always accepts.
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: - Outcomes and counters

    private enum Outcome {
        case issued(SimpleResponse)
        case unauthorized(String)
        case badRequest(String)
    }

    private func count(_ outcome: Outcome, grant method: String) -> SimpleResponse {
        switch outcome {
        case .issued(let response):
            self.stats.withLock { $0.requests += 1; $0.byMethod[method, default: 0] += 1 }
            return response
        case .unauthorized(let message):
            self.stats.withLock { $0.requests += 1; $0.byMethod[method, default: 0] += 1; $0.denied += 1 }
            Log.info("token: 401 \(message)")
            return .json(
                .unauthorized,
                Self.json(["errors": [["code": "UNAUTHORIZED", "message": message]]]),
                headers: ["WWW-Authenticate": "Basic realm=\"ferry-testkit\""]
            )
        case .badRequest(let message):
            self.stats.withLock { $0.requests += 1; $0.byMethod[method, default: 0] += 1; $0.invalid += 1 }
            Log.info("token: 400 \(message)")
            return .json(.badRequest, Self.json(["errors": [["code": "DENIED", "message": message]]]))
        }
    }
}

/// What the token service has answered since start or the last reset, for tests that check how
/// often a client asks (one token per scope set, not one per request) and with which scopes.
struct TokenStats {
    var requests = 0
    var byMethod: [String: Int] = [:]
    var tokens = 0
    var denied = 0
    var invalid = 0
    var anonymous = 0
    var byGrant: [String: Int] = [:]
    var byAccount: [String: Int] = [:]
    /// Each token's requested scopes, space separated, as one key: several scopes in one token show here.
    var scopeSets: [String: Int] = [:]

    mutating func issued(account: String?, scopes: [Scope], grant: String) {
        self.tokens += 1
        if account == nil { self.anonymous += 1 }
        self.byGrant[grant, default: 0] += 1
        self.byAccount[account ?? "", default: 0] += 1
        self.scopeSets[scopes.map(\.text).joined(separator: " "), default: 0] += 1
    }

    func json() -> String {
        let object: [String: Any] = [
            "requests": self.requests, "byMethod": self.byMethod, "tokens": self.tokens, "denied": self.denied,
            "invalid": self.invalid, "anonymous": self.anonymous, "byGrant": self.byGrant,
            "byAccount": self.byAccount, "scopeSets": self.scopeSets,
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
