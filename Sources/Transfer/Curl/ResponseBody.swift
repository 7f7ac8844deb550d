/// The body of a response, as an async sequence of byte chunks.
///
/// Dropping it before the end cancels the transfer, so an abandoned download frees its connection.
public struct ResponseBody: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    private let owner: Owner

    init(_ easy: CurlEasy) {
        self.owner = Owner(easy)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let owner: Owner
        public mutating func next() async throws -> [UInt8]? {
            try await self.owner.easy.nextBodyChunk()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(owner: self.owner)
    }

    /// Reads the whole body; fails with `.tooLarge` past `limit` bytes.
    public func collect(upTo limit: Int) async throws -> [UInt8] {
        var out: [UInt8] = []
        for try await chunk in self {
            if out.count + chunk.count > limit {
                self.owner.easy.cancel()
                throw TransferError(.tooLarge, "response from \(self.owner.easy.request.url) is larger than \(limit) bytes")
            }
            out += chunk
        }
        return out
    }

    /// Reads and drops the rest of the body (keeps the connection reusable for small bodies).
    public func discard() async throws {
        for try await _ in self {}
    }

    /// Stops the transfer now.
    public func cancel() {
        self.owner.easy.cancel()
    }

    final class Owner: Sendable {
        let easy: CurlEasy
        init(_ easy: CurlEasy) { self.easy = easy }
        deinit {
            if easy.state.withLock({ $0.result == nil }) { easy.cancel() }
        }
    }
}
