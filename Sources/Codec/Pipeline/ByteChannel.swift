/// A bounded channel of chunks between async code and a pipeline, usable as either end.
///
/// As a source: tasks `send` (suspending while the channel is full, which is the backpressure a download needs)
/// and `finish()`; the pipeline reads it. As a sink: the pipeline writes, and tasks `receive()` or iterate it with
/// `for try await chunk in channel` (an upload reading compressed output). When the pipeline fails or is cancelled
/// it fails the channel, so the task on the other end gets the same error instead of waiting forever; a task can
/// likewise `fail(_:)` the channel to stop the pipeline.
public final class ByteChannel: ByteSource, ByteSink, AsyncSequence, Sendable {
    public typealias Element = Chunk

    private let queue: BoundedQueue<Chunk>

    /// - Parameter capacity: chunks held before `send` suspends (or the pipeline's writer blocks).
    public init(capacity: Int = 8) {
        self.queue = BoundedQueue(capacity: capacity)
    }

    // MARK: async ends

    /// Queues `bytes`, suspending while the channel is full. `endsFrame` asks the encoder to end its frame after them.
    public func send(_ bytes: [UInt8], endsFrame: Bool = false) async throws {
        try await self.queue.send(Chunk(bytes, endsFrame: endsFrame))
    }

    public func send(_ chunk: Chunk) async throws {
        try await self.queue.send(chunk)
    }

    /// The next chunk, or `nil` once the writer finished and everything was taken.
    public func receive() async throws -> Chunk? {
        try await self.queue.receive()
    }

    /// The producer is done (no more `send`).
    public func finish() {
        self.queue.finish()
    }

    /// Stops the channel: both ends get `error` from now on.
    public func fail(_ error: any Error) {
        self.queue.fail(error)
    }

    // MARK: ByteSource / ByteSink (blocking; the pipeline's threads)

    public func next() throws -> Chunk? {
        try self.queue.pop()
    }

    public func write(_ chunk: Chunk) throws {
        try self.queue.push(chunk)
    }

    public func interrupt(with error: any Error) {
        self.queue.fail(error)
    }

    // MARK: AsyncSequence

    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate let channel: ByteChannel

        public mutating func next() async throws -> Chunk? {
            try await self.channel.receive()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(channel: self)
    }
}
