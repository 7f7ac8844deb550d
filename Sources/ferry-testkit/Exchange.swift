import NIOCore
import NIOHTTP1

/// One request and its response as they pass through a ProxyConnection.
///
/// A class, not a struct: the connection mutates it from many callbacks, always on its event loop.
final class Exchange {
    enum Phase {
        /// Parked by the `hold` fault until released.
        case held(holdID: Int)
        /// A `/__testkit/` request: its body is gathered, then the control API answers.
        case control(body: ByteBuffer)
        /// Answered by the proxy itself (an injected status, 413, 502); the request body is dropped.
        case local
        /// Going to and coming from upstream.
        case forwarding
    }

    let id: Int
    let head: HTTPRequestHead
    let pathClass: PathClass
    let faults: AppliedFaults
    var phase: Phase

    // Request side.
    /// The head as sent upstream (Range/Expect removed as needed); nil until forwarding starts.
    var upstreamHead: HTTPRequestHead?
    var headSentUpstream = false
    var requestEnded = false
    var requestBodyBytes = 0
    /// A stale keep-alive upstream connection may close just as a request is sent on it:
    /// a request without a body is then sent once more on a new connection.
    var resent = false

    // Response side.
    var responseStarted = false
    var responseDone = false
    var responseBodyBytes = 0
    /// Body bytes from upstream not yet passed to the client (at most one read's worth).
    var pending = ByteBuffer()
    var upstreamEnded = false
    var upstreamWillClose = false
    /// Sending is paused until then (the `stall` fault).
    var stallUntil: NIODeadline?
    /// A stall with an offset not reached yet.
    var stallArmed: Bool
    /// Close the client connection once the response is out.
    var closeAfter = false

    init(id: Int, head: HTTPRequestHead, faults: AppliedFaults, phase: Phase) {
        self.id = id
        self.head = head
        self.pathClass = PathClass(target: head.uri)
        self.faults = faults
        self.phase = phase
        self.stallArmed = faults.stall != nil
        self.closeAfter = !head.isKeepAlive
    }

    var isForwarding: Bool {
        if case .forwarding = self.phase { return true }
        return false
    }

    /// Whether the client will send a body after the head (which a local answer won't wait for).
    var requestHasBody: Bool {
        if let length = self.contentLength { return length > 0 }
        return self.head.headers[canonicalForm: "Transfer-Encoding"].contains { $0.lowercased() == "chunked" }
    }

    var contentLength: Int? { self.head.headers.first(name: "Content-Length").flatMap { Int($0) } }
}
