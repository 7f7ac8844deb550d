import Synchronization

/// What the tar producer and the output sink share: the content offset of each frame end asked for (the sink pairs
/// them, in order, with the output offset of the chunk that ends the frame), and the staged blobs that may go once
/// their last frame is durable.
final class FrameLog: Sendable {
    private struct State {
        var requested: [Int64] = []
        var written: [(contentEnd: Int64, path: String)] = []
    }

    private let state = Mutex(State())

    /// Called before sending the chunk that ends a frame at content offset `contentEnd`.
    func requested(_ contentEnd: Int64) { self.state.withLock { $0.requested.append(contentEnd) } }

    /// The staged blob at `path` is in the stream up to content offset `contentEnd`.
    func written(_ path: String, endingAt contentEnd: Int64) { self.state.withLock { $0.written.append((contentEnd, path)) } }

    func takeFrameEnd() -> Int64? {
        self.state.withLock { $0.requested.isEmpty ? nil : $0.requested.removeFirst() }
    }

    func takeDurable(upTo contentEnd: Int64) -> [String] {
        self.state.withLock { s in
            let done = s.written.filter { $0.contentEnd <= contentEnd }.map(\.path)
            s.written.removeAll { $0.contentEnd <= contentEnd }
            return done
        }
    }
}
