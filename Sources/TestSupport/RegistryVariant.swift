/// How a test registry is set up; every variant is a real Distribution registry (`docker-registry serve`).
public enum RegistryVariant: Sendable, Hashable {
    /// Plain HTTP, no auth.
    case http
    /// Plain HTTP with htpasswd basic auth (registry 2.8 allows it without TLS; clients must agree to send
    /// credentials in the clear, e.g. skopeo `--tls-verify=false`).
    case httpBasicAuth(Credentials)
    /// TLS with a certificate for 127.0.0.1/localhost from a private CA (`TestRegistry.caCertPath`),
    /// optionally with htpasswd basic auth.
    case https(basicAuth: Credentials?)
    /// Bearer-token auth with `ferry-testkit token-server` as the token service (plain HTTP for both).
    /// `anonymousPull` lets clients without credentials pull (as Docker Hub does for public images).
    case token(users: [Credentials], anonymousPull: Bool = false)
    /// Plain HTTP, with blob GETs answered by a 307 to `ferry-testkit serve-files` on 127.0.0.2, which serves the
    /// registry's storage directory: real cross-host redirects, as with S3- or CDN-backed registries.
    case redirect

    /// `https` when the registry speaks TLS.
    public var scheme: String {
        if case .https = self { return "https" }
        return "http"
    }

    /// The credentials clients need, if any (for `.token`, the first user).
    public var credentials: Credentials? {
        switch self {
        case .http, .redirect: nil
        case .httpBasicAuth(let credentials): credentials
        case .https(let basicAuth): basicAuth
        case .token(let users, _): users.first
        }
    }
}
