/// The head of an HTTP response: what arrives before the body.
public struct Response: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    /// The URL that answered (curl's `CURLINFO_EFFECTIVE_URL`).
    public var url: String

    public init(status: Int, headers: HTTPHeaders, url: String) {
        self.status = status
        self.headers = headers
        self.url = url
    }

    public var isSuccess: Bool { (200..<300).contains(self.status) }
    public var isRedirect: Bool { [301, 302, 303, 307, 308].contains(self.status) }
    public var contentLength: Int64? { self.headers["content-length"].flatMap { Int64($0.trimmingSpaces) } }
}

extension String {
    var trimmingSpaces: String {
        // Unicode scalars, not Characters: "\r\n" is a single Character and would slip past a Character test.
        var s = Substring(self).unicodeScalars
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s.removeLast() }
        return String(s)
    }
}
