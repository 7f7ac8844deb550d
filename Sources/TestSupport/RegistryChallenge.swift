import Foundation

/// Logs in to a registry the way a client does: ping `/v2/`, read the `WWW-Authenticate` challenge, and for
/// `Bearer` fetch a token for the repository from the realm (Docker's token flow).
enum RegistryChallenge {
    /// The authorization to send for pushing to and pulling from `repository`.
    static func authorize(
        _ curl: RegistryCurl, baseURL: URL, repository: String, credentials: Credentials?
    ) async throws -> RegistryCurl.Authorization {
        let ping = try await curl.request("GET", baseURL.absoluteString + "/v2/")
        if ping.status == 200 { return .none }
        guard ping.status == 401, let challenge = ping.headers["www-authenticate"] else {
            throw TestSupportError("GET /v2/ answered \(ping.status): \(ping.bodyText)")
        }
        let (scheme, parameters) = self.parse(challenge)
        switch scheme.lowercased() {
        case "basic":
            guard let credentials else { throw TestSupportError("the registry wants basic auth; give credentials") }
            return .basic(credentials)
        case "bearer":
            guard let realm = parameters["realm"], var components = URLComponents(string: realm) else {
                throw TestSupportError("bearer challenge without a realm: \(challenge)")
            }
            var query = components.queryItems ?? []
            if let service = parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
            query.append(URLQueryItem(name: "scope", value: "repository:\(repository):pull,push"))
            components.queryItems = query
            var tokenCurl = curl
            tokenCurl.authorization = credentials.map { .basic($0) } ?? .none
            let reply = try await tokenCurl.request("GET", components.string!)
            guard reply.status == 200,
                let object = try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any],
                let token = (object["token"] as? String) ?? (object["access_token"] as? String)
            else {
                throw TestSupportError("token request to \(realm) answered \(reply.status): \(reply.bodyText)")
            }
            return .bearer(token)
        default:
            throw TestSupportError("unsupported auth challenge: \(challenge)")
        }
    }

    /// `Bearer realm="…",service="…",scope="…"` → ("Bearer", [realm: …, service: …, scope: …]).
    static func parse(_ challenge: String) -> (String, [String: String]) {
        let trimmed = challenge.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") else { return (trimmed, [:]) }
        let scheme = String(trimmed[..<space])
        var parameters: [String: String] = [:]
        var rest = trimmed[trimmed.index(after: space)...]
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].trimmingCharacters(in: CharacterSet(charactersIn: " ,")).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                while let character = rest.first, character != "\"" {
                    if character == "\\" { rest = rest.dropFirst() }
                    if let next = rest.first { value.append(next) }
                    rest = rest.dropFirst()
                }
                rest = rest.dropFirst()
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = String(rest[..<end])
                rest = rest[end...]
            }
            parameters[key] = value
        }
        return (scheme, parameters)
    }
}
