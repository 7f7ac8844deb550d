import NIOCore
import NIOHTTP1

/// A whole, small request: the token service and the control API only ever see a few KiB.
struct BufferedRequest {
    let head: HTTPRequestHead
    let body: ByteBuffer

    var method: HTTPMethod { self.head.method }

    /// The path without the query string.
    var path: String { String(self.head.uri.prefix { $0 != "?" }) }

    /// The decoded query parameters, in order (a name may repeat, as `scope` does).
    var query: [(String, String)] {
        guard let mark = self.head.uri.firstIndex(of: "?") else { return [] }
        return FormURLEncoding.decode(String(self.head.uri[self.head.uri.index(after: mark)...]))
    }

    var bodyString: String { String(buffer: self.body) }
}

/// A whole response with a small body.
struct SimpleResponse {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer

    init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: String = "") {
        self.status = status
        self.headers = headers
        self.body = ByteBuffer(string: body)
    }

    static func json(_ status: HTTPResponseStatus, _ text: String, headers: HTTPHeaders = [:]) -> SimpleResponse {
        var response = SimpleResponse(status: status, headers: headers, body: text)
        response.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        return response
    }

    static func text(_ status: HTTPResponseStatus, _ text: String) -> SimpleResponse {
        SimpleResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: text + "\n")
    }

    /// Writes head, body and end; Content-Length is always set so keep-alive clients know where it stops.
    func write(
        to context: ChannelHandlerContext,
        keepAlive: Bool,
        wrap: (HTTPServerResponsePart) -> NIOAny
    ) -> EventLoopFuture<Void> {
        var head = HTTPResponseHead(version: .http1_1, status: self.status, headers: self.headers)
        head.headers.replaceOrAdd(name: "Content-Length", value: String(self.body.readableBytes))
        if !keepAlive { head.headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(wrap(.head(head)), promise: nil)
        if self.body.readableBytes > 0 { context.write(wrap(.body(.byteBuffer(self.body))), promise: nil) }
        return context.writeAndFlush(wrap(.end(nil)))
    }
}

/// Collects each request whole (up to `limit` bytes of body) and answers it with `respond`.
///
/// Used behind `configureHTTPServerPipeline`, whose pipelining assistance keeps responses in order.
final class BufferedRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let respond: @Sendable (BufferedRequest) -> SimpleResponse
    private let limit: Int
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false

    init(limit: Int = 1 << 20, respond: @escaping @Sendable (BufferedRequest) -> SimpleResponse) {
        self.limit = limit
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body.clear()
            self.tooLarge = false
        case .body(var chunk):
            if self.body.readableBytes + chunk.readableBytes > self.limit {
                self.tooLarge = true
            } else {
                self.body.writeBuffer(&chunk)
            }
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            let response =
                self.tooLarge
                ? SimpleResponse.text(.payloadTooLarge, "request body over \(self.limit) bytes")
                : self.respond(BufferedRequest(head: head, body: self.body))
            let keepAlive = head.isKeepAlive && !self.tooLarge
            let written = response.write(to: context, keepAlive: keepAlive, wrap: Self.wrapOutboundOut)
            if !keepAlive {
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                written.whenComplete { _ in loopBound.value.close(promise: nil) }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
