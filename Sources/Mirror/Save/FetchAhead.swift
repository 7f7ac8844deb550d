import OCI
import Registry
import Stores
import Synchronization

/// The downloads a compressed `save` runs ahead of its writer: at most `jobs` at once, started in plan order and
/// taken in the same order, each staged as a file of its own.
///
/// They are unstructured tasks because the writer takes them one by one in plan order, which a task group's
/// "next to finish" cannot give; so cancellation is explicit: `cancel()` (from the writer's cancellation handler or
/// its error path) reaches every download in flight, and none starts after it.
final class FetchAhead: Sendable {
    typealias Item = (member: BundlePlan.Member, client: RegistryClient, repository: String)

    private struct State {
        var waiting: ArraySlice<Item>
        var inFlight: [(digest: Digest, task: Task<Int64, any Error>)] = []
        var cancelled = false
    }

    private let state: Mutex<State>
    private let jobs: Int
    private let fetch: @Sendable (Item) async throws -> Int64

    /// - Parameter fetch: stages one blob; returns the bytes it fetched.
    init(_ queue: [Item], jobs: Int, fetch: @escaping @Sendable (Item) async throws -> Int64) {
        self.state = Mutex(State(waiting: queue[...]))
        self.jobs = max(1, jobs)
        self.fetch = fetch
        self.topUp()
    }

    /// Waits for the download of `digest`, which must be the next in plan order, and starts the next one waiting.
    /// - Returns: the bytes it fetched.
    func take(_ digest: Digest) async throws -> Int64 {
        let task = self.state.withLock { s in s.inFlight.first.flatMap { $0.digest == digest ? $0.task : nil } }
        guard let task else { throw MirrorError(.failed, "internal: blob \(digest) is neither staged nor being fetched") }
        // Still listed while awaited, so that `cancel()` reaches it too.
        let fetched = try await task.value
        self.state.withLock { s in _ = s.inFlight.removeFirst() }
        self.topUp()
        return fetched
    }

    /// Cancels every download in flight; none starts after this.
    func cancel() {
        let tasks = self.state.withLock { s in
            s.cancelled = true
            return s.inFlight.map(\.task)
        }
        for task in tasks { task.cancel() }
    }

    /// Cancels, then waits until no download runs any more (none may still write to the staging area).
    func stop() async {
        self.cancel()
        for task in self.state.withLock({ s in s.inFlight.map(\.task) }) { _ = await task.result }
    }

    private func topUp() {
        self.state.withLock { s in
            while !s.cancelled, s.inFlight.count < self.jobs, let item = s.waiting.popFirst() {
                let fetch = self.fetch
                s.inFlight.append((item.member.digest!, Task { try await fetch(item) }))
            }
        }
    }
}
