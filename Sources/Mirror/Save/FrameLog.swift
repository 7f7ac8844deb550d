import Synchronization

/// What the bundle writer and the output sink share: the staged blobs that may go once their last frame is durable.
final class FrameLog: Sendable {
    private struct State {
        var written: [(contentEnd: Int64, path: String)] = []
    }

    private let state = Mutex(State())

    /// The staged blob at `path` is in the stream up to content offset `contentEnd`.
    func written(_ path: String, endingAt contentEnd: Int64) { self.state.withLock { $0.written.append((contentEnd, path)) } }

    /// The staged blobs that end at or before `contentEnd`, no longer listed. The writer walks the plan in order, so
    /// ends only grow: they are a prefix.
    func takeDurable(upTo contentEnd: Int64) -> [String] {
        self.state.withLock { s in
            let count = s.written.firstIndex { $0.contentEnd > contentEnd } ?? s.written.count
            let done = s.written[..<count].map(\.path)
            s.written.removeFirst(count)
            return done
        }
    }
}
