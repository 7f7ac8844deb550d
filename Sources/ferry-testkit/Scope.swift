/// One `scope` of a token request: `repository:NAME:ACTIONS` or `registry:catalog:*`
/// (https://distribution.github.io/distribution/spec/auth/scope/).
struct Scope: Hashable, Sendable {
    var type: String
    var name: String
    var actions: [String]

    /// The type ends at the first colon and the actions start after the last one, so a name may itself
    /// hold colons (a registry host with a port, in scopes some clients send).
    init?(parsing text: Substring) {
        guard let first = text.firstIndex(of: ":"), let last = text.lastIndex(of: ":"), first < last else {
            return nil
        }
        self.type = String(text[..<first])
        self.name = String(text[text.index(after: first)..<last])
        self.actions = text[text.index(after: last)...].split(separator: ",").map(String.init)
        guard !self.type.isEmpty, !self.name.isEmpty else { return nil }
    }

    init(type: String, name: String, actions: [String]) {
        self.type = type
        self.name = name
        self.actions = actions
    }

    var text: String { "\(self.type):\(self.name):\(self.actions.joined(separator: ","))" }

    /// Every scope in the request's `scope` values. A value may hold several scopes separated by
    /// spaces (the OAuth2 POST form does), and the same resource may be named twice (Docker asks
    /// `pull` and `push` separately for a mount source): those are merged, actions kept in order.
    /// Returns nil when a scope is malformed.
    static func parseAll(_ values: [String]) -> [Scope]? {
        var merged: [Scope] = []
        for value in values {
            for word in value.split(separator: " ") {
                guard let scope = Scope(parsing: word) else { return nil }
                if let index = merged.firstIndex(where: { $0.type == scope.type && $0.name == scope.name }) {
                    for action in scope.actions where !merged[index].actions.contains(action) {
                        merged[index].actions.append(action)
                    }
                } else {
                    merged.append(scope)
                }
            }
        }
        return merged
    }
}
