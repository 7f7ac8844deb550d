/// The transfer engine: many HTTP requests in flight on one libcurl multi handle, awaited from Swift tasks.
///
/// Each response streams through a small buffer (`Request.bufferLimit`); when the reader falls behind, curl is
/// paused, so memory stays bounded whatever the body size. Cancelling the awaiting task removes the request.
public final class CurlEngine: Sendable {
    private let loop: CurlLoop

    /// - Parameters:
    ///   - maxConnections: size of the connection cache kept for reuse across requests.
    ///   - trace: receives each request and response head (`--verbose`), credentials and signed URLs redacted.
    public init(maxConnections: Int = 64, trace: (@Sendable (String) -> Void)? = nil) {
        self.loop = CurlLoop(maxConnections: maxConnections, trace: trace)
    }

    deinit {
        self.loop.submit(.shutdown)
    }

    /// Sends `request` and returns once the response head is in; the body follows through `ResponseBody`.
    public func execute(_ request: Request) async throws -> (Response, ResponseBody) {
        let easy = CurlEasy(request: request, loop: self.loop)
        let response = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Response, any Error>) in
                let cancelled = easy.state.withLock { s -> Bool in
                    if s.cancelled { return true }
                    s.headContinuation = c
                    return false
                }
                if cancelled {
                    c.resume(throwing: CancellationError())
                } else {
                    self.loop.submit(.add(easy))
                }
            }
        } onCancel: {
            easy.cancel()
        }
        return (response, ResponseBody(easy))
    }

    /// Sends `request` and collects the whole body, refusing bodies larger than `maxBodyBytes`.
    public func perform(_ request: Request, maxBodyBytes: Int = 16 << 20) async throws -> (Response, [UInt8]) {
        let (response, body) = try await self.execute(request)
        let bytes = try await body.collect(upTo: maxBodyBytes)
        return (response, bytes)
    }
}
