import Foundation
import Spawn
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `Command.runMeasured()`: the child's own rusage from `wait4`, as `ferry bench` records it.
@Suite struct ResourceUsageTests {
    @Test("a child that allocates 200 MB and spins reports that peak RSS and CPU time, with its output")
    func measuresTheChild() async throws {
        let script = "x = bytearray(200_000_000); [i for i in range(0, len(x), 4096) if x.__setitem__(i, 1)]; print(sum(range(3_000_000)))"
        let result = try await Command(["python3", "-c", script]).runMeasured()
        #expect(result.output.status == .exited(0), "\(result.output.stderrString)")
        #expect(result.output.stdoutString == "\(2_999_999 * 3_000_000 / 2)\n")
        #expect(result.usage.peakRSSBytes >= 200_000_000, "peak RSS \(result.usage.peakRSSBytes)")
        #expect(result.usage.peakRSSBytes < 2_000_000_000)
        #expect(result.usage.userSeconds > 0)
        #expect(result.wallSeconds > 0)
    }

    @Test("usage is the child's alone: a small child after a big one does not report the big one's peak")
    func perChild() async throws {
        let big = try await Command(["python3", "-c", "x = bytearray(300_000_000); x[::4096] = b'1' * len(x[::4096])"]).runMeasured()
        let small = try await Command(["true"]).runMeasured()
        #expect(small.output.status.succeeded)
        // On Linux a spawned child starts on its parent's memory (vfork) and keeps that high-water mark through exec,
        // so a child's peak is never below this process's own: compare with that, not with zero.
        let own = Self.ownPeakRSS()
        #expect(big.usage.peakRSSBytes >= 300_000_000)
        #expect(small.usage.peakRSSBytes <= max(own, 50_000_000) + 20_000_000, "peak RSS \(small.usage.peakRSSBytes), this process \(own)")
        #expect(small.usage.peakRSSBytes < big.usage.peakRSSBytes || own >= 300_000_000)
    }

    /// This process's peak resident set (`VmHWM`), in bytes.
    static func ownPeakRSS() -> Int64 {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap({ Int64($0) })
        else { return 0 }
        return kib * 1024
    }

    @Test("a failing child's status comes back; cancelling the task stops the child")
    func statusAndCancel() async throws {
        let failed = try await Command(["sh", "-c", "exit 3"]).runMeasured()
        #expect(failed.output.status == .exited(3))

        let task = Task { try await Command(["sleep", "60"]).runMeasured() }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let stopped = try await task.value
        #expect(stopped.output.status == .signalled(SIGTERM))
        #expect(stopped.wallSeconds < 30)
    }
}
