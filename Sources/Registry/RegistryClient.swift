import Foundation
import OCI
import Transfer

/// Talks the OCI distribution protocol to one registry host.
///
/// Finds the scheme once (`GET /v2/`), authenticates per repository scope, and retries what is safe to retry.
public final class RegistryClient: Sendable {
    /// The registry as references name it (`docker.io`, `127.0.0.1:5000`).
    public let registry: String
    let engine: CurlEngine
    let options: RegistryOptions
    let auth: Authenticator
    private let endpoint: Endpoint

    public init(registry: String, engine: CurlEngine, options: RegistryOptions) throws(RegistryError) {
        self.registry = registry
        self.engine = engine
        self.options = options
        let host = registry == "docker.io" ? "registry-1.docker.io" : registry
        let credential = try options.credentials.credential(for: registry)
        self.auth = Authenticator(registry: registry, credential: credential, engine: engine, tls: options.tls)
        self.endpoint = Endpoint(
            host: host, allowPlainHTTP: options.allowsPlainHTTP(host: registry),
            plainFirst: RegistryOptions.isLoopback(registry) && Endpoint.hasExplicitPort(host))
    }

    /// `https://host` or, for plain-HTTP registries, `http://host`; pings on first use.
    public func baseURL() async throws -> String {
        try await self.endpoint.resolve { url, retrying in
            try await self.ping(url, policy: retrying ? self.options.retry : RetryPolicy(attempts: 1))
        }
    }

    /// `GET /v2/`: 200 means no auth, 401 carries the challenge.
    private func ping(_ base: String, policy: RetryPolicy) async throws {
        let what = "ping \(self.registry)"
        let (response, body) = try await Retry.run(what: what, policy: policy) {
            do {
                return try await self.engine.perform(Request(url: base + "/v2/", tls: self.options.tls), maxBodyBytes: 1 << 20)
            } catch let e as TransferError {
                throw RegistryError.from(e, registry: self.registry)
            }
        } check: { r, b in
            r.status == 429 || r.status >= 500 ? RegistryError.from(status: r.status, headers: r.headers, body: b, what: what, registry: self.registry) : nil
        }
        switch response.status {
        case 200..<300:
            await self.auth.update(challenge: nil)
        case 401:
            let challenge = response.headers.values("www-authenticate").compactMap(Challenge.init(header:)).first
            await self.auth.update(challenge: challenge)
        default:
            throw RegistryError.from(status: response.status, headers: response.headers, body: body, what: "\(self.registry)/v2/", registry: self.registry)
        }
    }

    /// Sends a request to `path` (under the base URL, e.g. `/v2/repo/manifests/tag`) with auth for `scopes`,
    /// renewing the token once on a 401. The response body is left to the caller.
    func send(
        _ path: String,
        method: Request.Method = .get,
        headers: HTTPHeaders = HTTPHeaders(),
        body: Request.Body = .none,
        scopes: [String],
        httpVersion: Request.HTTPVersion = .automatic,
        bufferLimit: Int = 1 << 20
    ) async throws -> (Response, ResponseBody) {
        let url = path.hasPrefix("http://") || path.hasPrefix("https://") ? path : try await self.baseURL() + path
        var renewed = false
        while true {
            var request = Request(method: method, url: url, headers: headers, body: body, httpVersion: httpVersion, tls: self.options.tls, bufferLimit: bufferLimit)
            if let authorization = try await self.auth.authorization(scopes: scopes) {
                request.headers.set("Authorization", authorization)
            }
            let (response, responseBody): (Response, ResponseBody)
            do {
                (response, responseBody) = try await self.engine.execute(request)
            } catch let e as TransferError {
                throw RegistryError.from(e, registry: self.registry)
            }
            guard response.status == 401, !renewed else { return (response, responseBody) }
            responseBody.cancel()
            renewed = true
            // A 401 without a challenge keeps the one we have: dropping it would retry anonymously.
            if let challenge = response.headers.values("www-authenticate").compactMap(Challenge.init(header:)).first {
                await self.auth.update(challenge: challenge)
            }
            await self.auth.invalidate(scopes: scopes)
        }
    }

    /// Like `send`, for answers small enough to hold (errors, manifests), with retries on 429/5xx and network hiccups.
    func sendSmall(
        _ path: String,
        method: Request.Method = .get,
        headers: HTTPHeaders = HTTPHeaders(),
        body: Request.Body = .none,
        scopes: [String],
        what: String,
        maxBodyBytes: Int = 4 << 20
    ) async throws -> (Response, [UInt8]) {
        try await Retry.run(what: what, policy: self.options.retry) {
            let (response, stream) = try await self.send(path, method: method, headers: headers, body: body, scopes: scopes)
            do {
                return (response, try await stream.collect(upTo: maxBodyBytes))
            } catch let e as TransferError {
                throw e.code == .tooLarge ? RegistryError(.badResponse, "\(what): \(e.message)") : RegistryError.from(e, registry: self.registry)
            }
        } check: { r, b in
            r.status == 429 || r.status >= 500 ? RegistryError.from(status: r.status, headers: r.headers, body: b, what: what, registry: self.registry) : nil
        }
    }

    /// The error for a refused request, naming the credentials that were tried when it was an auth failure.
    func failure(_ response: Response, _ body: [UInt8], what: String) async -> RegistryError {
        var e = RegistryError.from(status: response.status, headers: response.headers, body: body, what: what, registry: self.registry)
        if e.code == .unauthorized || e.code == .denied {
            e.message += " (tried \(await self.auth.identity))"
        }
        return e
    }

    static func pullScope(_ repository: String) -> String { "repository:\(repository):pull" }
}

/// Resolves the scheme of a registry once, even when many tasks ask at the same time.
///
/// HTTPS first, then plain HTTP where that is allowed, as docker and skopeo do. A loopback registry named with its
/// port is asked in plain HTTP first, once: both schemes reach the same listener there, one that answers plain HTTP
/// cannot be speaking TLS, and that spares a handshake bound to fail (it loads the whole CA bundle, ~35 ms a
/// command). Only on loopback: elsewhere a proxy or a listener that speaks both could answer plain HTTP where HTTPS
/// works, and credentials would then go in clear.
actor Endpoint {
    private let host: String
    private let allowPlainHTTP: Bool
    private let plainFirst: Bool
    private var resolved: Task<String, any Error>?

    init(host: String, allowPlainHTTP: Bool, plainFirst: Bool = false) {
        self.host = host
        self.allowPlainHTTP = allowPlainHTTP
        self.plainFirst = plainFirst && allowPlainHTTP
    }

    /// `ping(url, retrying)` asks `url + "/v2/"`; without `retrying`, one attempt (a probe that may well fail).
    func resolve(ping: @escaping @Sendable (String, Bool) async throws -> Void) async throws -> String {
        if let r = self.resolved, let url = try? await r.value { return url }
        let https = "https://\(self.host)", http = "http://\(self.host)"
        let plain = self.allowPlainHTTP, plainFirst = self.plainFirst
        let task = Task<String, any Error> {
            if plainFirst, (try? await ping(http, false)) != nil { return http }
            do {
                try await ping(https, true)
                return https
            } catch let e as RegistryError where plain && [.tls, .plainHTTP, .unreachable].contains(e.code) {
                do {
                    try await ping(http, true)
                } catch {
                    // A TLS port answers plain HTTP with 400: the HTTPS failure is the one that explains.
                    throw e
                }
                return http
            }
        }
        self.resolved = task
        return try await task.value
    }

    /// `host:port` or `[v6]:port`; a bare IPv6 address has colons but no port.
    static func hasExplicitPort(_ host: String) -> Bool {
        if host.hasPrefix("[") { return host.contains("]:") }
        return host.filter { $0 == ":" }.count == 1
    }
}
