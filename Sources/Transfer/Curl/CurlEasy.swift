internal import CCurl
import Synchronization
import Glibc

/// One request in flight: its curl easy handle (touched only on the engine thread) and the state
/// shared with the Swift task that reads the response (guarded by `state`).
final class CurlEasy: @unchecked Sendable {
    let request: Request
    /// Strong: a body dropped after the engine shut down still queues its removal on a live loop (whose multi
    /// handle is freed only when the last of these references goes).
    let loop: CurlLoop

    // Engine thread only.
    private(set) var handle: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    private var headerLines: [String] = []
    private var uploadPosition: Int64 = 0
    private var uploadFD: Int32 = -1

    struct State {
        var headContinuation: CheckedContinuation<Response, any Error>?
        var headDelivered = false
        /// The chunk curl is filling; handed whole to the reader.
        var body: BodyChunk?
        var bodyWaiter: CheckedContinuation<BodyChunk?, any Error>?
        /// Body bytes put into chunks so far, and (once the reader has asked, `place`) where byte 0 sits within an
        /// aligned block: each new chunk starts at the phase of the byte it will hold first.
        var delivered: Int64 = 0
        var phase: Int64?
        /// curl was told to pause; it re-delivers the refused bytes once unpaused.
        var paused = false
        var unpauseQueued = false
        var result: Result<Void, TransferError>?
        var cancelled = false
    }
    let state = Mutex(State())

    /// curl's receive buffer: the most one write callback delivers.
    static let receiveBuffer = 256 * 1024

    init(request: Request, loop: CurlLoop) {
        self.request = request
        self.loop = loop
        self.errorBuffer.initialize(to: 0)
    }

    deinit {
        self.errorBuffer.deallocate()
    }

    // MARK: engine thread

    /// Creates and configures the easy handle. Returns an error instead when the request cannot start.
    func start() -> TransferError? {
        guard let h = curl_easy_init() else { return TransferError(.other, "libcurl could not create a handle") }
        self.handle = h
        let me = Unmanaged.passUnretained(self).toOpaque()
        let r = self.request
        _ = CCurl_easy_setopt_string(h, CURLOPT_URL, r.url)
        _ = CCurl_easy_setopt_ptr(h, CURLOPT_PRIVATE, me)
        _ = CCurl_easy_setopt_ptr(h, CURLOPT_ERRORBUFFER, self.errorBuffer)
        _ = CCurl_easy_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = CCurl_easy_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = CCurl_easy_setopt_string(h, CURLOPT_USERAGENT, Request.userAgent)
        _ = CCurl_easy_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        _ = CCurl_easy_setopt_long(h, CURLOPT_CONNECTTIMEOUT, 30)
        _ = CCurl_easy_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
        _ = CCurl_easy_setopt_long(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1)
        // Fewer, larger write callbacks; still far under the per-transfer buffer limit.
        _ = CCurl_easy_setopt_long(h, CURLOPT_BUFFERSIZE, Self.receiveBuffer)
        let version = r.httpVersion == .http1_1 ? CURL_HTTP_VERSION_1_1 : CURL_HTTP_VERSION_2TLS
        _ = CCurl_easy_setopt_long(h, CURLOPT_HTTP_VERSION, Int(version))
        if !r.tls.verify {
            _ = CCurl_easy_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 0)
            _ = CCurl_easy_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 0)
        } else if let bundle = r.tls.caBundle {
            _ = bundle.withUnsafeBytes { CCurl_easy_setopt_blob(h, CURLOPT_CAINFO_BLOB, $0.baseAddress, $0.count) }
        }

        var headers = r.headers
        switch r.method {
        case .get: break
        case .head: _ = CCurl_easy_setopt_long(h, CURLOPT_NOBODY, 1)
        default: _ = CCurl_easy_setopt_string(h, CURLOPT_CUSTOMREQUEST, r.method.rawValue)
        }
        if r.method == .post || r.method == .put || r.method == .patch {
            if case .file(let path, _, _) = r.body {
                self.uploadFD = open(path, O_RDONLY | O_CLOEXEC)
                if self.uploadFD < 0 {
                    return TransferError(.io, "cannot open \(path) to upload: \(String(cString: strerror(errno)))")
                }
            }
            _ = CCurl_easy_setopt_long(h, CURLOPT_UPLOAD, 1)
            _ = CCurl_easy_setopt_off_t(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(r.body.length))
            _ = CCurl_easy_setopt_data_callback(h, CURLOPT_READFUNCTION, curlRead)
            _ = CCurl_easy_setopt_ptr(h, CURLOPT_READDATA, me)
            // Registries answer at once; waiting a second for "100 Continue" only costs time.
            headers.set("Expect", "")
            if headers["Content-Type"] == nil { headers.set("Content-Type", "application/octet-stream") }
        }
        for (name, value) in headers {
            // "Name;" is curl's way to send a header with an empty value; "Name:" would remove it.
            let line = value.isEmpty ? (name == "Expect" ? "Expect:" : "\(name);") : "\(name): \(value)"
            self.headerList = curl_slist_append(self.headerList, line)
        }
        _ = CCurl_easy_setopt_ptr(h, CURLOPT_HTTPHEADER, self.headerList)
        _ = CCurl_easy_setopt_data_callback(h, CURLOPT_HEADERFUNCTION, curlHeader)
        _ = CCurl_easy_setopt_ptr(h, CURLOPT_HEADERDATA, me)
        _ = CCurl_easy_setopt_data_callback(h, CURLOPT_WRITEFUNCTION, curlWrite)
        _ = CCurl_easy_setopt_ptr(h, CURLOPT_WRITEDATA, me)
        return nil
    }

    /// Frees the handle; called once, after it has left the multi handle.
    func cleanup() {
        if let h = self.handle { curl_easy_cleanup(h) }
        self.handle = nil
        if let l = self.headerList { curl_slist_free_all(l) }
        self.headerList = nil
        if self.uploadFD >= 0 { close(self.uploadFD) }
        self.uploadFD = -1
    }

    func didReceiveHeader(_ bytes: UnsafeRawBufferPointer) -> Int {
        let line = String(decoding: bytes, as: UTF8.self)
        if line != "\r\n" && line != "\n" {
            self.headerLines.append(line)
            return bytes.count
        }
        // A header block ended. 1xx blocks are followed by the real one.
        guard let statusLine = self.headerLines.first else { return bytes.count }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        let status = parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
        if status < 200 {
            self.headerLines.removeAll()
            return bytes.count
        }
        var headers = HTTPHeaders()
        for l in self.headerLines.dropFirst() {
            guard let colon = l.firstIndex(of: ":") else { continue }
            headers.add(String(l[..<colon]).trimmingSpaces, String(l[l.index(after: colon)...]).trimmingSpaces)
        }
        self.headerLines.removeAll()
        var effective: UnsafeMutablePointer<CChar>? = nil
        _ = CCurl_easy_getinfo_string(self.handle, CURLINFO_EFFECTIVE_URL, &effective)
        let response = Response(status: status, headers: headers, url: effective.map { String(cString: $0) } ?? self.request.url)
        if let trace = self.loop.trace {
            var text = "< \(status) \(Redaction.url(response.url))"
            for (name, value) in headers { text += "\n<   \(Redaction.header(name, value))" }
            trace(text)
        }
        let cont = self.state.withLock { s -> CheckedContinuation<Response, any Error>? in
            s.headDelivered = true
            defer { s.headContinuation = nil }
            return s.headContinuation
        }
        cont?.resume(returning: response)
        return bytes.count
    }

    func didReceiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        enum Outcome { case abort, pause, accepted(CheckedContinuation<BodyChunk?, any Error>?, BodyChunk?) }
        let outcome = self.state.withLock { s -> Outcome in
            if s.cancelled { return .abort }
            if let body = s.body, body.count >= self.request.bufferLimit {
                s.paused = true
                return .pause
            }
            s.append(bytes, limit: self.request.bufferLimit)
            guard let waiter = s.bodyWaiter else { return .accepted(nil, nil) }
            s.bodyWaiter = nil
            defer { s.body = nil }
            return .accepted(waiter, s.body)
        }
        switch outcome {
        case .abort: return 0
        case .pause: return CCurl_writefunc_pause()
        case .accepted(let waiter, let chunk):
            waiter?.resume(returning: chunk)
            return bytes.count
        }
    }

    func fillUpload(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        if self.state.withLock({ $0.cancelled }) { return CCurl_readfunc_abort() }
        let remaining = self.request.body.length - self.uploadPosition
        let n = Int(min(Int64(buffer.count), remaining))
        guard n > 0 else { return 0 }
        switch self.request.body {
        case .none: return 0
        case .bytes(let bytes):
            let start = Int(self.uploadPosition)
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<start + n])) }
            self.uploadPosition += Int64(n)
            self.request.bodyProgress?(Int64(n))
            return n
        case .file(_, let offset, _):
            let got = pread(self.uploadFD, buffer.baseAddress, n, off_t(offset + self.uploadPosition))
            if got <= 0 { return CCurl_readfunc_abort() }
            self.uploadPosition += Int64(got)
            self.request.bodyProgress?(Int64(got))
            return got
        }
    }

    /// The transfer ended (engine thread): wakes whoever waits, with the outcome.
    func finish(_ result: Result<Void, TransferError>) {
        let (head, waiter, body) = self.state.withLock { s -> (CheckedContinuation<Response, any Error>?, CheckedContinuation<BodyChunk?, any Error>?, BodyChunk?) in
            if s.result == nil { s.result = s.cancelled ? .failure(TransferError(.cancelled, "cancelled")) : result }
            let h = s.headContinuation, w = s.bodyWaiter
            s.headContinuation = nil
            s.bodyWaiter = nil
            let b = s.body
            if w != nil { s.body = nil }
            return (h, w, b)
        }
        let final = self.state.withLock { $0.result! }
        switch final {
        case .success:
            head?.resume(throwing: TransferError(.protocolError, "\(self.request.url): the server closed the connection without a response"))
            waiter?.resume(returning: body.flatMap { $0.count == 0 ? nil : $0 })
        case .failure(let e):
            head?.resume(throwing: e)
            waiter?.resume(throwing: e)
        }
    }

    func curlErrorMessage(_ code: CURLcode) -> String {
        let detail = String(cString: self.errorBuffer)
        return detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    }

    // MARK: any thread

    /// The next piece of body, `nil` at the end. Unpauses curl once the buffer is drained.
    func nextBodyChunk() async throws -> BodyChunk? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<BodyChunk?, any Error>) in
                enum Step { case value(BodyChunk?, unpause: Bool), error(any Error), wait }
                let step = self.state.withLock { s -> Step in
                    if s.cancelled { return .error(CancellationError()) }
                    if let chunk = s.body, chunk.count > 0 {
                        s.body = nil
                        var unpause = false
                        if s.paused && !s.unpauseQueued {
                            s.unpauseQueued = true
                            unpause = true
                        }
                        return .value(chunk, unpause: unpause)
                    }
                    switch s.result {
                    case .some(.success): return .value(nil, unpause: false)
                    case .some(.failure(let e)): return .error(e)
                    case .none:
                        s.bodyWaiter = c
                        return .wait
                    }
                }
                switch step {
                case .value(let chunk, let unpause):
                    if unpause { self.loop.submit(.unpause(self)) }
                    c.resume(returning: chunk)
                case .error(let e): c.resume(throwing: e)
                case .wait: break
                }
            }
        } onCancel: {
            self.cancel()
        }
    }

    /// Body bytes from now on are laid out for a file: byte 0 of the body is bound for file offset `offset`.
    func place(firstByteAt offset: Int64) {
        self.state.withLock { $0.phase = offset }
    }

    /// Engine thread: curl may be resumed now that the reader made room.
    func resumeFromPause() {
        guard let h = self.handle else { return }
        self.state.withLock {
            $0.paused = false
            $0.unpauseQueued = false
        }
        // May call the write callback right here, re-entering didReceiveBody; no lock is held.
        _ = curl_easy_pause(h, 0 /* CURLPAUSE_CONT */)
    }

    /// Stops the transfer promptly: wakes waiters now, and has the engine thread remove the handle.
    func cancel() {
        let (head, waiter) = self.state.withLock { s -> (CheckedContinuation<Response, any Error>?, CheckedContinuation<BodyChunk?, any Error>?) in
            guard s.result == nil, !s.cancelled else { return (nil, nil) }
            s.cancelled = true
            defer { s.headContinuation = nil; s.bodyWaiter = nil }
            return (s.headContinuation, s.bodyWaiter)
        }
        head?.resume(throwing: CancellationError())
        waiter?.resume(throwing: CancellationError())
        self.loop.submit(.remove(self))
    }
}

extension Request {
    static let userAgent = "ferry/\(FerryVersion.string)"
}

public enum FerryVersion {
    public static let string = "0.1.0"
}

private let curlHeader: CCurl_data_callback = { buffer, size, count, userdata in
    let easy = Unmanaged<CurlEasy>.fromOpaque(userdata!).takeUnretainedValue()
    return easy.didReceiveHeader(UnsafeRawBufferPointer(start: buffer, count: size * count))
}

private let curlWrite: CCurl_data_callback = { buffer, size, count, userdata in
    let easy = Unmanaged<CurlEasy>.fromOpaque(userdata!).takeUnretainedValue()
    return easy.didReceiveBody(UnsafeRawBufferPointer(start: buffer, count: size * count))
}

private let curlRead: CCurl_data_callback = { buffer, size, count, userdata in
    let easy = Unmanaged<CurlEasy>.fromOpaque(userdata!).takeUnretainedValue()
    return easy.fillUpload(UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
}

extension CurlEasy.State {
    /// Copies what curl delivered into the chunk being filled, starting one when there is none: with room for all
    /// the reader may leave (the limit plus one callback), so appends never move what is already buffered.
    mutating func append(_ bytes: UnsafeRawBufferPointer, limit: Int) {
        if let body, body.room < bytes.count {
            // A callback larger than curl's buffer: not expected, but a larger chunk keeps the bytes in order.
            let larger = BodyChunk.take(lead: body.lead, room: body.count + bytes.count + limit)
            body.withUnsafeBytes { larger.append($0) }
            self.body = larger
        }
        if self.body == nil {
            let lead = self.phase.map { Int(($0 + self.delivered) % Int64(BodyChunk.alignment)) } ?? 0
            self.body = BodyChunk.take(lead: lead, room: limit + max(bytes.count, CurlEasy.receiveBuffer))
        }
        self.body!.append(bytes)
        self.delivered += Int64(bytes.count)
    }
}
