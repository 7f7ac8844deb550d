import NIOCore
import NIOHTTP1

/// The response side of a ProxyConnection: what upstream sends, shaped by cut, stall and throttle.
extension ProxyConnection {
    func upstreamRead(_ part: HTTPClientResponsePart, from channel: any Channel) {
        guard let exchange = self.exchange, exchange.isForwarding, !exchange.responseDone else {
            // Nothing was asked of this connection: it is out of step, so it can't be reused.
            channel.close(promise: nil)
            return
        }
        switch part {
        case .head(let head):
            self.startResponse(head, exchange)
        case .body(var chunk):
            exchange.pending.writeBuffer(&chunk)
            self.pump()
        case .end:
            exchange.upstreamEnded = true
            self.pump()
        }
    }

    func upstreamWritabilityChanged() {
        self.processInbound()
    }

    func upstreamClosed(_ channel: any Channel) {
        if case .connected(let current) = self.upstream, current === channel { self.upstream = .none }
        guard let exchange = self.exchange, exchange.isForwarding, !exchange.upstreamEnded, !self.closing else {
            return
        }
        if !exchange.responseStarted {
            if exchange.headSentUpstream && !exchange.resent && !exchange.requestHasBody {
                // Most likely a kept-alive connection upstream had just closed: try once on a fresh one.
                exchange.resent = true
                exchange.headSentUpstream = false
                self.connectUpstream()
            } else {
                self.answerLocally(exchange, .badGateway, message: "upstream closed the connection before answering")
            }
        } else {
            // Mid-body: pass the failure on as what it is, a connection that ends early.
            self.closeClient()
        }
    }

    private func startResponse(_ head: HTTPResponseHead, _ exchange: Exchange) {
        exchange.responseStarted = true
        exchange.upstreamWillClose = !head.isKeepAlive
        self.shared.stats.responseStarted(status: Int(head.status.code), local: false)
        var head = head
        if exchange.closeAfter { head.headers.replaceOrAdd(name: "Connection", value: "close") }
        self.writeClient(.head(head))
        self.context.flush()
        if let stall = exchange.faults.stall, stall.afterBytes == 0 {
            exchange.stallArmed = false
            exchange.stallUntil = .now() + .nanoseconds(Int64(stall.seconds * 1e9))
        }
        if exchange.faults.cut == 0 {
            self.closeClient()
            return
        }
        if let rate = exchange.faults.throttle, self.bucket?.rate != rate {
            self.bucket = TokenBucket(rate: rate, now: .now())
        }
        self.pump()
    }

    /// Passes pending response bytes to the client as far as the faults and the client allow, then
    /// either ends the response or asks upstream for more. Called whenever something changes:
    /// bytes arrive, the client drains, a stall or throttle wait ends.
    func pump() {
        guard let exchange = self.exchange, exchange.isForwarding, exchange.responseStarted, !exchange.responseDone,
            !self.closing
        else { return }
        let now = NIODeadline.now()
        var wrote = false
        defer { if wrote && !self.closing { self.context.flush() } }

        while true {
            if let until = exchange.stallUntil {
                guard until <= now else {
                    self.schedulePump(at: until)
                    return
                }
                exchange.stallUntil = nil
            }
            guard exchange.pending.readableBytes > 0 else { break }
            guard self.context.channel.isWritable else { return }  // channelWritabilityChanged resumes

            var count = exchange.pending.readableBytes
            if let cut = exchange.faults.cut { count = min(count, cut - exchange.responseBodyBytes) }
            if exchange.stallArmed, let stall = exchange.faults.stall {
                count = min(count, stall.afterBytes - exchange.responseBodyBytes)
            }
            if exchange.faults.throttle != nil, var bucket = self.bucket {
                let granted = bucket.take(upTo: count, now: now)
                self.bucket = bucket
                guard granted > 0 else {
                    self.schedulePump(at: bucket.readyTime(for: count))
                    return
                }
                count = granted
            }
            let slice = exchange.pending.readSlice(length: count)!
            self.writeClient(.body(.byteBuffer(slice)))
            wrote = true
            exchange.responseBodyBytes += count
            self.shared.stats.responseBody(count, exchange.pathClass, target: exchange.head.uri, connection: ObjectIdentifier(self))

            if let cut = exchange.faults.cut, exchange.responseBodyBytes >= cut {
                Log.info("cut \(exchange.head.method) \(exchange.head.uri) after \(cut) bytes")
                self.closeClient()
                return
            }
            if exchange.stallArmed, let stall = exchange.faults.stall, exchange.responseBodyBytes >= stall.afterBytes {
                exchange.stallArmed = false
                exchange.stallUntil = now + .nanoseconds(Int64(stall.seconds * 1e9))
            }
        }
        exchange.pending.discardReadBytes()

        guard exchange.upstreamEnded else {
            if case .connected(let channel) = self.upstream { channel.read() }
            return
        }
        self.writeClient(.end(nil))
        wrote = true
        exchange.responseDone = true
        if exchange.upstreamWillClose, case .connected(let channel) = self.upstream {
            // Closed here rather than when upstream gets round to it, so the next request can't land on it.
            channel.close(promise: nil)
            self.upstream = .none
        }
        // Upstream answered before the client finished sending: the rest of that body is not wanted.
        if !exchange.requestEnded { exchange.closeAfter = true }
        self.finishIfDone(exchange)
        if exchange.closeAfter && self.exchange === exchange { self.closeClient() }
    }

    private func schedulePump(at deadline: NIODeadline) {
        guard self.pumpTimer == nil else { return }
        self.pumpTimer = self.context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.pumpTimer = nil
            self.pump()
        }
    }
}
