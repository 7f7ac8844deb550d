#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutex and a condition variable guarding one value: the blocking half of Codec's stages.
///
/// Pipeline stages and compression workers are plain threads (they block in C libraries and in `read`/`write`,
/// which must not happen on Swift's cooperative pool), so they wait on a condition variable rather than on a task.
/// The corresponding C types are `pthread_mutex_t` and `pthread_cond_t`; both live on the heap because pthread
/// objects must not move.
final class ConditionLock<State>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var state: State

    init(_ state: State) {
        self.state = state
        self.mutex = .allocate(capacity: 1)
        self.mutex.initialize(to: pthread_mutex_t())
        self.condition = .allocate(capacity: 1)
        self.condition.initialize(to: pthread_cond_t())
        guard pthread_mutex_init(self.mutex, nil) == 0, pthread_cond_init(self.condition, nil) == 0 else {
            preconditionFailure("pthread_mutex_init/pthread_cond_init failed")
        }
    }

    deinit {
        pthread_cond_destroy(self.condition)
        pthread_mutex_destroy(self.mutex)
        self.condition.deinitialize(count: 1)
        self.condition.deallocate()
        self.mutex.deinitialize(count: 1)
        self.mutex.deallocate()
    }

    /// Runs `body` with the lock held.
    func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(self.mutex)
        defer { pthread_mutex_unlock(self.mutex) }
        return try body(&self.state)
    }

    /// Waits (lock released while asleep) until `ready` holds, then runs `body` with the lock held.
    func wait<R>(until ready: (inout State) -> Bool, then body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(self.mutex)
        defer { pthread_mutex_unlock(self.mutex) }
        while !ready(&self.state) {
            pthread_cond_wait(self.condition, self.mutex)
        }
        return try body(&self.state)
    }

    /// Wakes every waiter so it re-checks its condition. Waiters here wait for different things on one
    /// condition variable (space, items, failure), so a signal could wake the wrong one: always broadcast.
    func broadcast() {
        pthread_cond_broadcast(self.condition)
    }
}
