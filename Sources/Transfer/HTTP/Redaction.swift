/// What `--verbose` may print of an HTTP exchange: credentials, tokens and the signatures of pre-signed URLs are
/// replaced by `<redacted>`, so a log can be shared.
public enum Redaction {
    static let secretHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie", "x-registry-auth"]
    /// Query parameters of signed URLs (S3, GCS, Azure, CDN tokens) that grant access by themselves.
    static let secretQueryWords = ["sig", "token", "key", "secret", "credential", "password", "auth", "policy"]

    public static func header(_ name: String, _ value: String) -> String {
        if Self.secretHeaders.contains(name.lowercased()) { return "\(name): <redacted>" }
        if name.lowercased() == "location" || name.lowercased() == "content-location" { return "\(name): \(Self.url(value))" }
        return "\(name): \(value)"
    }

    public static func url(_ url: String) -> String {
        var text = url
        // user:password@host
        if let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@"),
            !text[scheme.upperBound..<at].contains("/")
        {
            text.replaceSubrange(scheme.upperBound..<at, with: "<redacted>")
        }
        guard let q = text.firstIndex(of: "?") else { return text }
        let query = text[text.index(after: q)...].split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts[0].lowercased()
            guard parts.count == 2, Self.secretQueryWords.contains(where: { name.contains($0) }) else { return String(pair) }
            return "\(parts[0])=<redacted>"
        }
        return String(text[...q]) + query.joined(separator: "&")
    }
}
