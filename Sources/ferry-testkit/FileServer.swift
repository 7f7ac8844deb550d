import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// `ferry-testkit serve-files`: a static file server standing in for the storage backend behind the
/// registry's `redirect` storage middleware (blob GETs answered 307 to `baseurl` + storage path).
///
/// GET and HEAD, one byte range per request (206 with Content-Range, 416 when unsatisfiable), files
/// sent with sendfile(2) through NIO's FileRegion so a multi-GB blob never passes through memory.
/// `GET /__testkit/stats` answers `{"requests": N, "bodyBytes": N}` for tests that check a redirect was followed.
enum FileServer {
    struct Options {
        var listen: HostPort
        var root: String

        init(parsing argv: ArraySlice<String>) throws {
            let arguments = try Arguments(argv, options: ["listen", "root"])
            self.listen = try HostPort(loopback: try arguments.required("listen"))
            self.root = try arguments.required("root")
        }
    }

    static func run(_ options: Options) throws -> Never {
        let root = try FileRoot(options.root)
        let stats = FileServerStats()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let channel = try Server.bind(options.listen, group: group) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                try channel.pipeline.syncOperations.addHandler(FileRequestHandler(root: root, stats: stats))
            }
        }
        Server.announce(channel, requested: options.listen)
        Log.info("serve-files from \(root.path)")
        Server.runUntilSignalled()
    }
}

/// Requests served and body bytes handed to the socket since start.
final class FileServerStats: Sendable {
    private let counters = Mutex((requests: 0, bodyBytes: 0))

    func served(bodyBytes: Int) { self.counters.withLock { $0.requests += 1; $0.bodyBytes += bodyBytes } }

    var json: String {
        let (requests, bytes) = self.counters.withLock { ($0.requests, $0.bodyBytes) }
        return "{\"bodyBytes\":\(bytes),\"requests\":\(requests)}"
    }
}

/// Answers one request at a time on a connection (the pipelining handler in front keeps order).
final class FileRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let root: FileRoot
    private let stats: FileServerStats
    private var head: HTTPRequestHead?

    init(root: FileRoot, stats: FileServerStats) {
        self.root = root
        self.stats = stats
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break  // GET and HEAD have no body worth reading
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            self.respond(to: head, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        if head.uri == "/__testkit/stats" {
            self.finish(SimpleResponse.json(.ok, self.stats.json), head: head, context: context)
            return
        }
        guard head.method == .GET || head.method == .HEAD else {
            var response = SimpleResponse.text(.methodNotAllowed, "only GET and HEAD")
            response.headers.add(name: "Allow", value: "GET, HEAD")
            self.finish(response, head: head, context: context)
            return
        }
        guard let path = self.root.resolve(head.uri), let file = OpenFile(path: path) else {
            self.finish(SimpleResponse.text(.notFound, "not found"), head: head, context: context)
            return
        }

        var headers: HTTPHeaders = ["Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"]
        let status: HTTPResponseStatus
        let bytes: Range<Int>
        switch ByteRange(header: head.headers.first(name: "Range"), size: file.size) {
        case .whole:
            status = .ok
            bytes = 0..<file.size
        case .partial(let range):
            status = .partialContent
            bytes = range.lowerBound..<(range.upperBound + 1)
            headers.add(name: "Content-Range", value: "bytes \(range.lowerBound)-\(range.upperBound)/\(file.size)")
        case .unsatisfiable:
            file.close()
            var response = SimpleResponse.text(.rangeNotSatisfiable, "range not satisfiable")
            response.headers.add(name: "Content-Range", value: "bytes */\(file.size)")
            self.finish(response, head: head, context: context)
            return
        }
        headers.add(name: "Content-Length", value: String(bytes.count))
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        let responseHead = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
        context.write(Self.wrapOutboundOut(.head(responseHead)), promise: nil)

        let handle: NIOFileHandle?
        if head.method == .GET && !bytes.isEmpty {
            let fileHandle = file.handOver()
            handle = fileHandle
            let region = FileRegion(fileHandle: fileHandle, readerIndex: bytes.lowerBound, endIndex: bytes.upperBound)
            context.write(Self.wrapOutboundOut(.body(.fileRegion(region))), promise: nil)
        } else {
            file.close()
            handle = nil
        }
        let keepAlive = head.isKeepAlive
        let stats = self.stats
        let sent = head.method == .GET ? bytes.count : 0
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { result in
            // The region is written (or the connection is gone) only now, so only now may the file close.
            try? handle?.close()
            if case .success = result { stats.served(bodyBytes: sent) }
            if !keepAlive { channel.close(promise: nil) }
        }
    }

    private func finish(_ response: SimpleResponse, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var response = response
        if head.method == .HEAD { response.body.clear() }
        let channel = context.channel
        let keepAlive = head.isKeepAlive
        response.write(to: context, keepAlive: keepAlive, wrap: Self.wrapOutboundOut).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}

/// A regular file opened for reading, with its size; closed unless handed over to NIO.
private final class OpenFile {
    private var descriptor: CInt
    let size: Int

    init?(path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            Glibc.close(descriptor)
            return nil
        }
        self.descriptor = descriptor
        self.size = Int(status.st_size)
    }

    /// Gives the descriptor to a NIOFileHandle, which the caller must close after the write completes.
    func handOver() -> NIOFileHandle {
        defer { self.descriptor = -1 }
        return NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: self.descriptor)
    }

    func close() {
        if self.descriptor >= 0 { Glibc.close(self.descriptor) }
        self.descriptor = -1
    }

    deinit { self.close() }
}
