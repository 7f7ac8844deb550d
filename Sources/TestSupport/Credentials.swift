/// A user name and password for a test registry or token service.
public struct Credentials: Sendable, Hashable, Codable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// `user:password`, as `curl -u`, `skopeo --creds` and `ferry --creds` take it.
    public var colonSeparated: String { "\(self.username):\(self.password)" }
}
