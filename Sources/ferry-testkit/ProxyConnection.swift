import NIOCore
import NIOHTTP1
import NIOPosix

/// One client connection of the fault proxy and the upstream connection that serves it.
///
/// Everything here runs on the client channel's event loop (the upstream channel is made on the same
/// loop), so the state needs no locks. Reading is manual (autoRead off) on both sides:
/// - the client is read when there is no request yet, or when the request body can go upstream
///   (upstream writable);
/// - upstream is read when the response body from the last read has all gone to the client
///   (see `pump()` in ProxyConnection+Response.swift, where cut, stall and throttle apply).
/// One request is handled at a time; a pipelined request waits in `inbound` until the previous is done.
final class ProxyConnection: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    enum Upstream {
        case none
        case connecting
        case connected(any Channel)
    }

    let shared: FaultProxy.Shared
    var context: ChannelHandlerContext!
    var upstream = Upstream.none
    var exchange: Exchange?
    var bucket: TokenBucket?
    var pumpTimer: Scheduled<Void>?
    /// The throttle on request bodies (uploads): a link is capped both ways, each direction on its own.
    private var requestBucket: TokenBucket?
    private var requestTimer: Scheduled<Void>?
    var closing = false
    private var inbound = CircularBuffer<HTTPServerRequestPart>()
    private var clientReadPending = false
    private var exchangeCount = 0
    /// The last write to the client: a close waits for it, since closing a NIO channel drops unwritten data
    /// (a cut must deliver exactly its N bytes, a local answer all of itself).
    private var lastClientWrite: EventLoopFuture<Void>?

    init(shared: FaultProxy.Shared) {
        self.shared = shared
    }

    // MARK: - Client channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        self.shared.stats.connectionOpened()
        self.readClient()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.closing = true
        self.shared.stats.connectionClosed()
        self.pumpTimer?.cancel()
        self.pumpTimer = nil
        self.requestTimer?.cancel()
        self.requestTimer = nil
        if let exchange = self.exchange, case .held(let id) = exchange.phase { self.shared.holds.cancel(id) }
        self.exchange = nil
        if case .connected(let channel) = self.upstream { channel.close(promise: nil) }
        self.upstream = .none
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.inbound.append(Self.unwrapInboundIn(data))
        self.processInbound()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.clientReadPending = false
        self.readClient()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { self.pump() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !isOrdinaryDisconnect(error) { Log.info("client connection: \(error)") }
        self.closeClient()
    }

    // MARK: - Request side

    /// Moves request parts on: starts exchanges for heads, forwards or drops bodies.
    func processInbound() {
        var flushUpstream = false
        parts: while let part = self.inbound.first, !self.closing {
            guard let exchange = self.exchange else {
                self.inbound.removeFirst()
                if case .head(let head) = part { self.start(head) }
                continue
            }
            // A pipelined next request waits until this one is answered.
            guard !exchange.requestEnded else { break }
            switch exchange.phase {
            case .held:
                break parts
            case .control(var body):
                self.inbound.removeFirst()
                switch part {
                case .head: break
                case .body(var chunk):
                    body.writeBuffer(&chunk)
                    exchange.phase = .control(body: body)
                case .end:
                    exchange.requestEnded = true
                    self.answerControl(exchange, body: body)
                }
            case .local:
                self.inbound.removeFirst()
                if case .end = part {
                    exchange.requestEnded = true
                    self.finishIfDone(exchange)
                }
            case .forwarding:
                guard exchange.headSentUpstream, case .connected(let channel) = self.upstream, channel.isWritable
                else { break parts }
                var next = part
                if case .body(var chunk) = part, let rate = exchange.faults.throttle {
                    let now = NIODeadline.now()
                    var bucket = self.requestBucket?.rate == rate ? self.requestBucket! : TokenBucket(rate: rate, now: now)
                    let granted = bucket.take(upTo: chunk.readableBytes, now: now)
                    self.requestBucket = bucket
                    guard granted > 0 else {
                        self.scheduleRequestBody(at: bucket.readyTime(for: chunk.readableBytes))
                        break parts
                    }
                    if granted < chunk.readableBytes {
                        // Send what the bucket grants; the rest waits at the front for the next grant.
                        next = .body(chunk.readSlice(length: granted)!)
                        self.inbound[self.inbound.startIndex] = .body(chunk)
                    } else {
                        self.inbound.removeFirst()
                    }
                } else {
                    self.inbound.removeFirst()
                }
                switch next {
                case .head: break
                case .body(let chunk):
                    exchange.requestBodyBytes += chunk.readableBytes
                    if let limit = exchange.faults.maxBody, exchange.requestBodyBytes > limit {
                        // A chunked body that turned out too long: it can't be taken back from upstream,
                        // so both connections go, with a 413 to the client if nothing was answered yet.
                        // answerLocally first: it takes the exchange off upstream, so the close isn't seen as a 502.
                        self.answerLocally(exchange, .payloadTooLarge, message: "request body over \(limit) bytes")
                        self.upstream = .none
                        channel.close(promise: nil)
                        return
                    }
                    self.shared.stats.requestBody(chunk.readableBytes, exchange.pathClass)
                    channel.write(HTTPClientRequestPart.body(.byteBuffer(chunk)), promise: nil)
                    flushUpstream = true
                case .end(let trailers):
                    exchange.requestEnded = true
                    channel.write(HTTPClientRequestPart.end(trailers), promise: nil)
                    flushUpstream = true
                }
            }
        }
        if flushUpstream, case .connected(let channel) = self.upstream { channel.flush() }
        self.readClient()
    }

    /// Goes on with a throttled request body once the bucket has refilled.
    private func scheduleRequestBody(at deadline: NIODeadline) {
        guard self.requestTimer == nil else { return }
        self.requestTimer = self.context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.requestTimer = nil
            self.processInbound()
        }
    }

    /// Asks the client for more bytes when what they carry can be used now.
    private func readClient() {
        guard !self.clientReadPending, !self.closing else { return }
        if let exchange = self.exchange, case .held = exchange.phase {
            // A held request's body is read and kept here, not forwarded, so that a client that goes away is
            // noticed (channelInactive drops the hold) rather than its half-sent request going upstream on release.
            guard self.heldBodyBytes < Self.heldBodyLimit else { return }
            self.clientReadPending = true
            self.context.read()
            return
        }
        guard self.inbound.isEmpty else { return }
        if let exchange = self.exchange {
            guard !exchange.requestEnded else { return }
            switch exchange.phase {
            case .held: return
            case .control, .local: break
            case .forwarding:
                guard exchange.headSentUpstream, case .connected(let channel) = self.upstream, channel.isWritable
                else { return }
            }
        }
        self.clientReadPending = true
        self.context.read()
    }

    /// How much of a held request's body may wait in memory; past it the client is left to wait (backpressure).
    private static let heldBodyLimit = 64 << 20

    private var heldBodyBytes: Int {
        self.inbound.reduce(0) { sum, part in
            if case .body(let chunk) = part { return sum + chunk.readableBytes }
            return sum
        }
    }

    private func start(_ head: HTTPRequestHead) {
        self.exchangeCount += 1
        if head.uri.hasPrefix("/__testkit/") {
            let phase = Exchange.Phase.control(body: ByteBuffer())
            self.exchange = Exchange(id: self.exchangeCount, head: head, faults: AppliedFaults(), phase: phase)
            return
        }
        let faults = self.shared.faults.take(method: head.method.rawValue, target: head.uri)
        let exchange = Exchange(id: self.exchangeCount, head: head, faults: faults, phase: .local)
        self.exchange = exchange
        self.shared.stats.requestStarted(exchange.pathClass, faults: faults.names)
        guard faults.hold else {
            self.proceed(exchange)
            return
        }
        let released = self.context.eventLoop.makePromise(of: Void.self)
        exchange.phase = .held(holdID: self.shared.holds.hold(released))
        Log.info("holding \(head.method) \(head.uri)")
        released.futureResult.assumeIsolated().whenSuccess {
            guard let current = self.exchange, current === exchange, !self.closing else { return }
            self.proceed(exchange)
            self.processInbound()
        }
    }

    /// After any hold: answer locally when a fault says so, else go upstream.
    private func proceed(_ exchange: Exchange) {
        if let status = exchange.faults.status {
            var headers: HTTPHeaders = [:]
            if let seconds = status.retryAfter { headers.add(name: "Retry-After", value: String(seconds)) }
            if status.rateLimitRemaining { headers.add(name: "RateLimit-Remaining", value: "0") }
            self.answerLocally(
                exchange,
                HTTPResponseStatus(statusCode: status.code),
                message: "ferry-testkit injected \(status.code)",
                headers: headers
            )
        } else if let limit = exchange.faults.maxBody, let length = exchange.contentLength, length > limit {
            self.answerLocally(exchange, .payloadTooLarge, message: "request body of \(length) bytes is over \(limit)")
        } else {
            exchange.phase = .forwarding
            self.startForwarding(exchange)
        }
    }

    private func startForwarding(_ exchange: Exchange) {
        var head = exchange.head
        if exchange.faults.ignoreRange {
            head.headers.remove(name: "Range")
            head.headers.remove(name: "If-Range")
        }
        // The proxy says "100 Continue" itself: by now no fault will refuse the body, and answering here
        // spares the client a wait for an interim response that would have to cross two hops.
        if head.headers[canonicalForm: "Expect"].contains(where: { $0.lowercased() == "100-continue" }) {
            head.headers.remove(name: "Expect")
            self.writeClient(.head(HTTPResponseHead(version: exchange.head.version, status: .continue)))
            self.context.flush()
        }
        exchange.upstreamHead = head
        switch self.upstream {
        case .connected(let channel) where channel.isActive: self.sendHead(exchange, on: channel)
        case .connected, .none: self.connectUpstream()
        case .connecting: break
        }
    }

    func connectUpstream() {
        self.upstream = .connecting
        let owner = NIOLoopBound(self, eventLoop: self.context.eventLoop)
        ClientBootstrap(group: self.context.eventLoop)
            .connectTimeout(.seconds(10))
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            // Reads of up to 256 KiB, one per read() call: fewer trips through the pipeline per byte
            // (loopback delivers big segments), and at most 256 KiB waits in `pending` per connection.
            .channelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 65536, maximum: 262_144)
            )
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler(owner: owner.value))
                }
            }
            .connect(host: self.shared.upstream.host, port: self.shared.upstream.port)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    guard !self.closing else {
                        channel.close(promise: nil)
                        return
                    }
                    self.upstream = .connected(channel)
                    if let exchange = self.exchange, exchange.isForwarding, !exchange.headSentUpstream {
                        self.sendHead(exchange, on: channel)
                    }
                case .failure(let error):
                    self.upstream = .none
                    Log.info("cannot connect to upstream \(self.shared.upstream): \(error)")
                    if let exchange = self.exchange, exchange.isForwarding, !exchange.responseStarted {
                        self.answerLocally(exchange, .badGateway, message: "upstream \(self.shared.upstream): \(error)")
                    }
                }
            }
    }

    private func sendHead(_ exchange: Exchange, on channel: any Channel) {
        guard let head = exchange.upstreamHead else { return }
        exchange.headSentUpstream = true
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        // Only when sent again on a fresh connection (see upstreamClosed) has the end gone by already.
        if exchange.requestEnded { channel.write(HTTPClientRequestPart.end(nil), promise: nil) }
        channel.flush()
        channel.read()  // the response may come before the request body is done (an early 401, say)
        self.processInbound()
    }

    // MARK: - Answers made here

    /// Answers with a small JSON error in the registry's format, without asking upstream.
    func answerLocally(
        _ exchange: Exchange,
        _ status: HTTPResponseStatus,
        message: String,
        headers extra: HTTPHeaders = [:]
    ) {
        let code: String
        switch status.code {
        case 429: code = "TOOMANYREQUESTS"
        case 503: code = "UNAVAILABLE"
        default: code = "UNKNOWN"
        }
        var response = SimpleResponse.json(
            status,
            ControlAPI.json(["errors": [["code": code, "message": message]]]),
            headers: extra
        )
        response.headers.add(name: "Docker-Distribution-API-Version", value: "registry/2.0")
        exchange.phase = .local
        // The body of the request is not wanted; reading it through would mean waiting for it, and a
        // client that sent `Expect: 100-continue` won't send it at all. So the connection ends here.
        if exchange.requestHasBody && !exchange.requestEnded { exchange.closeAfter = true }
        if exchange.responseStarted {
            self.closeClient()  // a response is half out: all that can be said now is a cut
            return
        }
        exchange.responseStarted = true
        exchange.responseDone = true
        self.shared.stats.responseStarted(status: Int(status.code), local: true)
        self.lastClientWrite = response.write(
            to: self.context,
            keepAlive: !exchange.closeAfter,
            wrap: Self.wrapOutboundOut
        )
        if exchange.closeAfter {
            self.closeClient()
        } else if exchange.requestEnded {
            self.finishIfDone(exchange)
        } else {
            self.processInbound()  // drops the rest of the request (its end), which finishes the exchange
        }
    }

    private func answerControl(_ exchange: Exchange, body: ByteBuffer) {
        let response = self.shared.control.respond(to: BufferedRequest(head: exchange.head, body: body))
        exchange.responseStarted = true
        exchange.responseDone = true
        self.lastClientWrite = response.write(
            to: self.context,
            keepAlive: !exchange.closeAfter,
            wrap: Self.wrapOutboundOut
        )
        if exchange.closeAfter {
            self.closeClient()
        } else {
            self.finishIfDone(exchange)
        }
    }

    /// Ends an exchange whose request and response are both complete, and goes on with the next.
    func finishIfDone(_ exchange: Exchange) {
        guard exchange.requestEnded, exchange.responseDone, self.exchange === exchange else { return }
        self.exchange = nil
        if exchange.closeAfter {
            self.closeClient()
        } else {
            self.processInbound()
        }
    }

    /// Writes a response part to the client (flushed by the caller).
    func writeClient(_ part: HTTPServerResponsePart) {
        let promise = self.context.eventLoop.makePromise(of: Void.self)
        self.context.write(Self.wrapOutboundOut(part), promise: promise)
        self.lastClientWrite = promise.futureResult
    }

    /// Closes the client connection once everything written to it is out.
    func closeClient() {
        guard !self.closing else { return }
        self.closing = true
        self.context.flush()
        guard let last = self.lastClientWrite else {
            self.context.close(promise: nil)
            return
        }
        let context = self.context!
        last.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
