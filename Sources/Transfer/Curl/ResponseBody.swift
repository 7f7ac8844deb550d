/// The body of a response, as an async sequence of byte chunks.
///
/// Dropping it before the end cancels the transfer, so an abandoned download frees its connection. A chunk the
/// reader no longer holds when it asks for the next one goes back to `BodyChunk`'s pool, to be filled again.
public struct ResponseBody: AsyncSequence, Sendable {
    public typealias Element = BodyChunk
    private let owner: Owner

    init(_ easy: CurlEasy) {
        self.owner = Owner(easy)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let owner: Owner
        var previous: BodyChunk?
        public mutating func next() async throws -> BodyChunk? {
            if var done = self.previous {
                self.previous = nil
                if isKnownUniquelyReferenced(&done) { BodyChunk.giveBack(done) }
            }
            self.previous = try await self.owner.easy.nextBodyChunk()
            return self.previous
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(owner: self.owner)
    }

    /// Lays the body out for a file: body byte 0 is bound for file offset `offset`, and every chunk started from
    /// now on holds its bytes at their file offsets' place within an aligned block (see `BodyChunk`).
    public func place(firstByteAt offset: Int64) {
        self.owner.easy.place(firstByteAt: offset)
    }

    /// Reads the whole body; fails with `.tooLarge` past `limit` bytes.
    public func collect(upTo limit: Int) async throws -> [UInt8] {
        var out: [UInt8] = []
        for try await chunk in self {
            if out.count + chunk.count > limit {
                self.owner.easy.cancel()
                throw TransferError(.tooLarge, "response from \(self.owner.easy.request.url) is larger than \(limit) bytes")
            }
            chunk.withUnsafeBytes { out.append(contentsOf: $0) }
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
