import OCI

/// A `WWW-Authenticate` challenge: how the registry wants us to authenticate.
///
/// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`
public struct Challenge: Sendable, Hashable {
    public enum Scheme: Sendable, Hashable { case basic, bearer, other(String) }

    public var scheme: Scheme
    public var parameters: [String: String]

    public var realm: String? { self.parameters["realm"] }
    public var service: String? { self.parameters["service"] }
    public var scope: String? { self.parameters["scope"] }
    /// `error="insufficient_scope"` on a 401 means the token lacks an action, not that it expired.
    public var error: String? { self.parameters["error"] }

    public init(scheme: Scheme, parameters: [String: String] = [:]) {
        self.scheme = scheme
        self.parameters = parameters
    }

    /// Parses one header value (RFC 7235 auth-param list; quoted strings may hold commas and escaped quotes).
    public init?(header: String) {
        var rest = Substring(header).drop { $0 == " " }
        let schemeName = rest.prefix { $0 != " " }
        guard !schemeName.isEmpty else { return nil }
        rest = rest.dropFirst(schemeName.count)
        switch schemeName.lowercased() {
        case "basic": self.scheme = .basic
        case "bearer": self.scheme = .bearer
        default: self.scheme = .other(String(schemeName))
        }
        var params: [String: String] = [:]
        while true {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard !rest.isEmpty else { break }
            let key = rest.prefix { $0 != "=" && $0 != "," && $0 != " " }
            rest = rest.dropFirst(key.count).drop { $0 == " " }
            guard rest.first == "=" else { continue }
            rest = rest.dropFirst().drop { $0 == " " }
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if escaped { value.append(c); escaped = false; continue }
                    if c == "\\" { escaped = true; continue }
                    if c == "\"" { break }
                    value.append(c)
                }
            } else {
                let v = rest.prefix { $0 != "," }
                rest = rest.dropFirst(v.count)
                value = String(v.trimmingASCIIWhitespace())
            }
            params[key.lowercased()] = value
        }
        self.parameters = params
    }
}
