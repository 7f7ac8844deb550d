/// What we authenticate with at one registry.
public enum Credential: Sendable, Hashable {
    case basic(username: String, password: String)
    /// An OAuth2 refresh token (`identitytoken` in docker's config.json); exchanged at the token realm.
    case identityToken(String)

    /// `USER:PASS` as given to `--creds`; the password may itself hold colons.
    public init(userColonPassword: String) throws(RegistryError) {
        guard let colon = userColonPassword.firstIndex(of: ":"), colon != userColonPassword.startIndex else {
            throw RegistryError(.usage, "--creds must be USER:PASSWORD")
        }
        self = .basic(
            username: String(userColonPassword[..<colon]),
            password: String(userColonPassword[userColonPassword.index(after: colon)...])
        )
    }

    /// Where credentials came from, for error messages; never the secret itself.
    public var redactedDescription: String {
        switch self {
        case .basic(let u, _): "user \(u)"
        case .identityToken: "an identity token"
        }
    }
}

/// A credential together with where it was found, so errors can say which credentials were tried.
public struct FoundCredential: Sendable, Hashable {
    public var credential: Credential
    public var source: String

    public init(_ credential: Credential, source: String) {
        self.credential = credential
        self.source = source
    }
}
