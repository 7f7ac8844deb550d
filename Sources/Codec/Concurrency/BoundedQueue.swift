/// A FIFO of at most `capacity` elements between two stages: the backpressure of the pipeline.
///
/// Both ends may block (a stage thread: `push`, `pop`) or suspend (a task: `send`, `receive`), so a pipeline can be
/// fed from async code and drained into it. The producer ends the stream with `finish()`; anyone may `fail(_:)` it,
/// which drops what is queued and makes every waiter and every later call, on both ends, throw that error: this is
/// how an error or a cancellation in one stage stops all the others.
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    private struct Receiver {
        var id: Int
        var continuation: CheckedContinuation<Element?, any Error>
    }

    private struct Sender {
        var id: Int
        var element: Element
        var continuation: CheckedContinuation<Void, any Error>
    }

    private enum ReceiveFastPath {
        case element(Element?)
        case wait(Int)
    }

    private struct State {
        var items: [Element] = []
        var finished = false
        var failure: (any Error)?
        var receivers: [Receiver] = []
        var senders: [Sender] = []
        var cancelledWaiters: Set<Int> = []
        var nextWaiterID = 0
    }

    let capacity: Int
    private let lock = ConditionLock(State())

    init(capacity: Int) {
        precondition(capacity > 0, "queue capacity must be positive")
        self.capacity = capacity
    }

    // MARK: blocking ends (stage threads)

    /// Appends `element`, blocking while the queue is full.
    func push(_ element: Element) throws {
        try self.lock.wait(until: { $0.failure != nil || $0.items.count < self.capacity || !$0.receivers.isEmpty }) {
            state in
            try self.enqueueLocked(element, &state)
        }
        self.lock.broadcast()
    }

    /// The next element, blocking while the queue is empty; `nil` once the producer finished and all is taken.
    func pop() throws -> Element? {
        let element = try self.lock.wait(until: { $0.failure != nil || !$0.items.isEmpty || $0.finished }) { state in
            try self.dequeueLocked(&state)
        }
        self.lock.broadcast()
        return element
    }

    // MARK: async ends (tasks)

    /// Appends `element`, suspending while the queue is full. Cancelling the task throws `CancellationError`
    /// (the element is not queued); the queue itself stays usable.
    func send(_ element: Element) async throws {
        let id: Int? = try self.lock.withLock { state in
            if state.failure != nil || state.items.count < self.capacity || !state.receivers.isEmpty {
                try self.enqueueLocked(element, &state)
                return nil
            }
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        guard let id else {
            self.lock.broadcast()
            return
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                self.lock.withLock { state in
                    if state.cancelledWaiters.remove(id) != nil {
                        continuation.resume(throwing: CancellationError())
                    } else if let failure = state.failure {
                        continuation.resume(throwing: failure)
                    } else if state.items.count < self.capacity || !state.receivers.isEmpty {
                        // Room appeared between the two locks.
                        do {
                            try self.enqueueLocked(element, &state)
                            continuation.resume()
                        } catch {
                            continuation.resume(throwing: error)
                        }
                    } else {
                        state.senders.append(Sender(id: id, element: element, continuation: continuation))
                    }
                }
                self.lock.broadcast()
            }
        } onCancel: {
            self.cancelWaiter(id)
        }
    }

    /// The next element, suspending while the queue is empty; `nil` at the end of the stream.
    func receive() async throws -> Element? {
        let fast: ReceiveFastPath = try self.lock.withLock { state in
            if state.failure != nil || !state.items.isEmpty || state.finished {
                return .element(try self.dequeueLocked(&state))
            }
            state.nextWaiterID += 1
            return .wait(state.nextWaiterID)
        }
        let id: Int
        switch fast {
        case .element(let element):
            self.lock.broadcast()
            return element
        case .wait(let waiter):
            id = waiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Element?, any Error>) in
                self.lock.withLock { state in
                    if state.cancelledWaiters.remove(id) != nil {
                        continuation.resume(throwing: CancellationError())
                    } else if state.failure != nil || !state.items.isEmpty || state.finished {
                        continuation.resume(with: Result { try self.dequeueLocked(&state) })
                    } else {
                        state.receivers.append(Receiver(id: id, continuation: continuation))
                    }
                }
                self.lock.broadcast()
            }
        } onCancel: {
            self.cancelWaiter(id)
        }
    }

    // MARK: ending

    /// The producer is done: receivers get the remaining elements, then `nil`.
    func finish() {
        self.lock.withLock { state in
            state.finished = true
            if state.items.isEmpty {
                for receiver in state.receivers { receiver.continuation.resume(returning: nil) }
                state.receivers.removeAll()
            }
        }
        self.lock.broadcast()
    }

    /// Stops the stream: queued elements are dropped and every waiter and later call throws `error`.
    /// Only the first failure counts.
    func fail(_ error: any Error) {
        self.lock.withLock { state in
            guard state.failure == nil else { return }
            state.failure = error
            state.items.removeAll()
            for receiver in state.receivers { receiver.continuation.resume(throwing: error) }
            for sender in state.senders { sender.continuation.resume(throwing: error) }
            state.receivers.removeAll()
            state.senders.removeAll()
        }
        self.lock.broadcast()
    }

    // MARK: internals (lock held)

    private func enqueueLocked(_ element: Element, _ state: inout State) throws {
        if let failure = state.failure { throw failure }
        precondition(!state.finished, "BoundedQueue: element added after finish()")
        if !state.receivers.isEmpty {
            // A receiver only waits while the queue is empty: hand the element straight over.
            state.receivers.removeFirst().continuation.resume(returning: element)
        } else {
            state.items.append(element)
        }
    }

    private func dequeueLocked(_ state: inout State) throws -> Element? {
        if let failure = state.failure { throw failure }
        guard !state.items.isEmpty else { return nil }  // finished and drained
        let element = state.items.removeFirst()
        if !state.senders.isEmpty {
            // Room for exactly one waiting sender.
            let sender = state.senders.removeFirst()
            state.items.append(sender.element)
            sender.continuation.resume()
        }
        if state.items.isEmpty && state.finished {
            for receiver in state.receivers { receiver.continuation.resume(returning: nil) }
            state.receivers.removeAll()
        }
        return element
    }

    private func cancelWaiter(_ id: Int) {
        self.lock.withLock { state in
            if let index = state.receivers.firstIndex(where: { $0.id == id }) {
                state.receivers.remove(at: index).continuation.resume(throwing: CancellationError())
            } else if let index = state.senders.firstIndex(where: { $0.id == id }) {
                state.senders.remove(at: index).continuation.resume(throwing: CancellationError())
            } else {
                // Not registered yet: the registration will see this and resume at once.
                state.cancelledWaiters.insert(id)
            }
        }
    }
}
