/// One HTTP request as the engine performs it. Values only; the engine turns it into a curl easy handle.
public struct Request: Sendable {
    public enum Method: String, Sendable {
        case get = "GET", head = "HEAD", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE"
    }

    /// Where the request body comes from. Bodies are streamed, never copied whole into curl.
    public enum Body: Sendable {
        case none
        case bytes([UInt8])
        /// `length` bytes of the file at `path`, starting at `offset`.
        case file(path: String, offset: Int64, length: Int64)

        var length: Int64 {
            switch self {
            case .none: 0
            case .bytes(let b): Int64(b.count)
            case .file(_, _, let length): length
            }
        }
    }

    /// Which HTTP version to speak. Range segments use `.http1_1` so each gets its own TCP connection
    /// (HTTP/2 would multiplex them onto one and bring a per-connection cap back).
    public enum HTTPVersion: Sendable { case automatic, http1_1 }

    public var method: Method
    public var url: String
    public var headers: HTTPHeaders
    public var body: Body
    public var httpVersion: HTTPVersion
    public var tls: TLSConfiguration
    /// How many body bytes may sit unread before curl is paused; the engine's whole memory bound per transfer.
    public var bufferLimit: Int
    /// Told, on the engine thread, of request-body bytes as they are handed to the connection (upload progress and
    /// stall detection); must be cheap.
    public var bodyProgress: (@Sendable (Int64) -> Void)? = nil

    public init(
        method: Method = .get,
        url: String,
        headers: HTTPHeaders = HTTPHeaders(),
        body: Body = .none,
        httpVersion: HTTPVersion = .automatic,
        tls: TLSConfiguration = .default,
        bufferLimit: Int = 1 << 20
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.httpVersion = httpVersion
        self.tls = tls
        self.bufferLimit = bufferLimit
    }
}
