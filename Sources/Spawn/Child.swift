import CSpawn
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A started child, known by PID, that we reap ourselves.
///
/// PID reuse is ruled out by construction: the child is reaped only under `state`'s lock, and signals are sent
/// only under that lock while it is not reaped (an exited but unreaped child is a zombie still holding its PID).
/// Its exit is detected with `waitid(WNOWAIT)`, which leaves the zombie in place until we reap it.
public final class Child: Sendable {
    public let pid: pid_t
    /// Called with the PID just before the child is reaped (its PID is still ours then), e.g. to forget it
    /// in a table of children to kill at exit.
    private let beforeReap: (@Sendable (pid_t) -> Void)?
    private let state = Mutex<ExitStatus?>(nil)
    private let usage = Mutex<ResourceUsage?>(nil)

    /// The child's own CPU time and peak RSS, once it is reaped (nil before, or when someone else reaped it).
    public var resourceUsage: ResourceUsage? { self.usage.withLock { $0 } }

    init(pid: pid_t, beforeReap: (@Sendable (pid_t) -> Void)?) {
        self.pid = pid
        self.beforeReap = beforeReap
    }

    /// Starts a long-running child. Its output goes to files, `/dev/null` or our streams: `.capture` and
    /// `.bytes` need a pump, so they are for `Command.run()` only.
    public convenience init(_ command: Command, beforeReap: (@Sendable (pid_t) -> Void)? = nil) throws(SpawnError) {
        if case .capture = command.standardOutput { throw SpawnError("Child cannot capture stdout; use a file") }
        if case .capture = command.standardError { throw SpawnError("Child cannot capture stderr; use a file") }
        if case .bytes = command.standardInput { throw SpawnError("Child cannot feed stdin bytes; use a file") }
        let launched = try Launch.start(command)
        self.init(pid: launched.pid, beforeReap: beforeReap)
    }

    /// The exit status, once the child has ended (and then reaped); nil while it runs. Never blocks.
    public var exitStatus: ExitStatus? {
        self.state.withLock { status in
            if status == nil { status = self.reap(blocking: false) }
            return status
        }
    }

    public var isRunning: Bool { self.exitStatus == nil }

    /// Sends `signal` unless the child has been reaped; true if it was sent.
    @discardableResult
    public func signal(_ signal: Int32) -> Bool {
        self.state.withLock { status in
            guard status == nil else { return false }
            return kill(self.pid, signal) == 0
        }
    }

    /// Blocks until the child ends.
    @discardableResult
    public func wait() -> ExitStatus {
        if let status = self.state.withLock({ $0 }) { return status }
        // Wait without reaping, outside the lock, so signal() and exitStatus stay responsive meanwhile.
        while CSpawn_exited_noreap(self.pid, 0) == -1, errno == EINTR {}
        return self.state.withLock { status in
            if status == nil { status = self.reap(blocking: true) }
            return status!
        }
    }

    /// Waits up to `timeout` for the child to end by itself; nil if it is still running.
    public func wait(timeout: Duration) -> ExitStatus? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = self.exitStatus { return status }
            if ContinuousClock.now >= deadline { return nil }
            usleep(5_000)
        }
    }

    /// SIGTERM, then SIGKILL if it has not ended after `timeout`; returns once it is gone. Idempotent.
    @discardableResult
    public func stop(timeout: Duration = .seconds(5)) -> ExitStatus {
        if let status = self.exitStatus { return status }
        self.signal(SIGTERM)
        if let status = self.wait(timeout: timeout) { return status }
        self.signal(SIGKILL)
        return self.wait()
    }

    /// Waits for the child's end on a thread of its own, off the cooperative pool.
    public func exited() async -> ExitStatus {
        if let status = self.exitStatus { return status }
        return await withCheckedContinuation { continuation in
            DetachedThread.start { continuation.resume(returning: self.wait()) }
        }
    }

    /// Reaps the child if it has ended; call with the lock held. Nil if it still runs (non-blocking only).
    private func reap(blocking: Bool) -> ExitStatus? {
        if !blocking {
            // Peek first, so beforeReap runs while the zombie still holds the PID.
            var exited = CSpawn_exited_noreap(self.pid, 1)
            while exited == -1, errno == EINTR { exited = CSpawn_exited_noreap(self.pid, 1) }
            // -1 (ECHILD) falls through to waitpid, which says the same and ends the wait.
            if exited == 0 { return nil }
        }
        self.beforeReap?(self.pid)
        var raw: Int32 = 0
        var usage = rusage()
        while true {
            // wait4 rather than waitpid: the same reap, and the child's own CPU time and peak RSS with it.
            let result = wait4(self.pid, &raw, blocking ? 0 : WNOHANG, &usage)
            if result == self.pid {
                self.usage.withLock { $0 = ResourceUsage(usage) }
                return ExitStatus(waitStatus: raw)
            }
            if result == -1, errno == EINTR { continue }
            // ECHILD: someone else reaped it (a waitpid(-1) elsewhere in the process); its status is lost.
            if result == -1 { return .exited(-1) }
            return nil
        }
    }
}
