import CSpawn
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What one child cost: CPU time and its peak resident set, as `wait4` reports them for that child alone
/// (plus any children it waited for itself), so measurements of different tools are comparable.
/// The corresponding C structure is `struct rusage`.
public struct ResourceUsage: Sendable, Hashable {
    /// `ru_utime`, in seconds.
    public var userSeconds: Double
    /// `ru_stime`, in seconds.
    public var systemSeconds: Double
    /// `ru_maxrss`, in bytes (Linux reports KiB). On Linux it is never below the spawning process's own peak: the
    /// child starts as a vfork sharing the parent's memory, and exec keeps that high-water mark. `ferry bench` is
    /// small (tens of MB), so only phases smaller than that read high.
    public var peakRSSBytes: Int64

    public init(userSeconds: Double, systemSeconds: Double, peakRSSBytes: Int64) {
        self.userSeconds = userSeconds
        self.systemSeconds = systemSeconds
        self.peakRSSBytes = peakRSSBytes
    }

    init(_ usage: rusage) {
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        self.userSeconds = seconds(usage.ru_utime)
        self.systemSeconds = seconds(usage.ru_stime)
        #if canImport(Darwin)
            self.peakRSSBytes = Int64(usage.ru_maxrss)  // bytes on Darwin
        #else
            self.peakRSSBytes = Int64(usage.ru_maxrss) * 1024
        #endif
    }
}

/// A finished child measured: its output, exit status, resource usage and wall time (start to reap).
public struct MeasuredOutput: Sendable {
    public let output: CommandOutput
    public let usage: ResourceUsage
    public let wallSeconds: Double
}

extension Command {
    /// Runs the command to completion like `run()`, and reaps it with `wait4` so its own CPU time and peak RSS
    /// come back with the output. Cancelling the calling task sends the child SIGTERM (SIGKILL five seconds later).
    public func runMeasured() async throws -> MeasuredOutput {
        try Task.checkCancellation()
        let started = ContinuousClock.now
        let launched = try Launch.start(self)
        let child = MeasuredChild(pid: launched.pid)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<MeasuredOutput, Never>) in
                DetachedThread.start {
                    let (stdout, stderr) = Pump.run(launched.pipes)
                    let (status, usage) = child.wait()
                    let wall = ContinuousClock.now - started
                    continuation.resume(returning: MeasuredOutput(
                        output: CommandOutput(status: status, stdout: stdout, stderr: stderr), usage: usage,
                        wallSeconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18))
                }
            }
        } onCancel: {
            DetachedThread.start { child.stop() }
        }
    }
}

/// A child reaped with `wait4` rather than `waitpid`, for its rusage. Same PID-reuse rule as `Child`: signals go
/// out only under the lock and only before the reap.
private final class MeasuredChild: Sendable {
    let pid: pid_t
    private let state = Mutex<(ExitStatus, ResourceUsage)?>(nil)

    init(pid: pid_t) { self.pid = pid }

    func wait() -> (ExitStatus, ResourceUsage) {
        // Wait without reaping, outside the lock, so stop() can still signal meanwhile.
        while CSpawn_exited_noreap(self.pid, 0) == -1, errno == EINTR {}
        return self.state.withLock { state in
            if let done = state { return done }
            var raw: Int32 = 0
            var usage = rusage()
            var result: pid_t
            repeat { result = wait4(self.pid, &raw, 0, &usage) } while result == -1 && errno == EINTR
            // ECHILD: someone else reaped it (a waitpid(-1) elsewhere); its status and usage are lost.
            let done = result == self.pid
                ? (ExitStatus(waitStatus: raw), ResourceUsage(usage))
                : (ExitStatus.exited(-1), ResourceUsage(userSeconds: 0, systemSeconds: 0, peakRSSBytes: 0))
            state = done
            return done
        }
    }

    private func signal(_ signal: Int32) {
        self.state.withLock { state in if state == nil { _ = kill(self.pid, signal) } }
    }

    private var ended: Bool {
        self.state.withLock { $0 != nil } || CSpawn_exited_noreap(self.pid, 1) == 1
    }

    /// SIGTERM, then SIGKILL if it is still there after five seconds. The waiting thread reaps it.
    func stop() {
        self.signal(SIGTERM)
        let deadline = ContinuousClock.now + .seconds(5)
        while !self.ended, ContinuousClock.now < deadline { usleep(10_000) }
        if !self.ended { self.signal(SIGKILL) }
    }
}
