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
    /// Runs the command to completion like `run()`, with the child's own CPU time and peak RSS (from `wait4`, see
    /// `Child.resourceUsage`) and the wall time from start to reap. Cancelling the calling task sends the child
    /// SIGTERM (SIGKILL five seconds later).
    public func runMeasured() async throws -> MeasuredOutput {
        try Task.checkCancellation()
        let started = ContinuousClock.now
        let launched = try Launch.start(self)
        let child = Child(pid: launched.pid, beforeReap: nil)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<MeasuredOutput, Never>) in
                DetachedThread.start {
                    let (stdout, stderr) = Pump.run(launched.pipes)
                    let status = child.wait()
                    let wall = ContinuousClock.now - started
                    continuation.resume(returning: MeasuredOutput(
                        output: CommandOutput(status: status, stdout: stdout, stderr: stderr),
                        usage: child.resourceUsage ?? ResourceUsage(userSeconds: 0, systemSeconds: 0, peakRSSBytes: 0),
                        wallSeconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18))
                }
            }
        } onCancel: {
            DetachedThread.start { child.stop(timeout: .seconds(5)) }
        }
    }
}
