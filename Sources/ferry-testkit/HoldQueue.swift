import NIOCore
import Synchronization

/// Requests kept by the `hold` fault, oldest first, until the control API releases them.
final class HoldQueue: Sendable {
    private struct Waiting {
        var nextID = 0
        var entries: [(id: Int, promise: EventLoopPromise<Void>)] = []
    }

    private let waiting = Mutex(Waiting())

    /// Parks a request; `promise` is succeeded on release. Returns an id to cancel with.
    func hold(_ promise: EventLoopPromise<Void>) -> Int {
        self.waiting.withLock {
            $0.nextID += 1
            $0.entries.append(($0.nextID, promise))
            return $0.nextID
        }
    }

    /// Forgets a held request whose connection closed.
    func cancel(_ id: Int) {
        let removed = self.waiting.withLock { waiting -> EventLoopPromise<Void>? in
            guard let index = waiting.entries.firstIndex(where: { $0.id == id }) else { return nil }
            return waiting.entries.remove(at: index).promise
        }
        removed?.fail(ChannelError.ioOnClosedChannel)
    }

    /// Lets the oldest `limit` held requests (all when nil) go on. Returns how many.
    func release(limit: Int?) -> Int {
        let released = self.waiting.withLock { waiting in
            let count = min(limit ?? waiting.entries.count, waiting.entries.count)
            defer { waiting.entries.removeFirst(count) }
            return waiting.entries.prefix(count).map(\.promise)
        }
        // Outside the lock: succeeding runs callbacks when called on the promise's own loop.
        for promise in released { promise.succeed() }
        return released.count
    }

    var count: Int { self.waiting.withLock { $0.entries.count } }
}
