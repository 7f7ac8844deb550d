import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A long-running child (a registry, a token service, a file server) whose output goes to files, stopped by PID.
///
/// `stop()` sends SIGTERM, waits, then SIGKILLs; it runs from `deinit` too, so a test that throws half way
/// still stops what it started. Children still alive at a normal exit of the test runner are killed by an
/// `atexit` hook, so no registry outlives `swift test`.
public final class ChildProcess: Sendable {
    public let argv: [String]
    public let pid: Int32
    /// Where the child's stdout and stderr go; read them to see why it died.
    public let stdoutFile: URL
    public let stderrFile: URL

    private let process: ProcessHandle

    /// Starts `argv` with stdout and stderr written to `stdoutFile` and `stderrFile` (truncated first).
    public init(
        _ argv: [String],
        stdoutFile: URL,
        stderrFile: URL,
        environment: [String: String] = [:],
        removingEnvironmentPrefix: String? = nil
    ) throws {
        let process = try ProcessRunner.makeProcess(argv, environment: environment, currentDirectory: nil)
        if let prefix = removingEnvironmentPrefix {
            // The registry reads REGISTRY_* variables as config overrides; an inherited one would change our config.
            process.environment = process.environment?.filter { !$0.key.hasPrefix(prefix) }
        }
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        let stdout = try FileHandle(forWritingTo: stdoutFile)
        let stderr = try FileHandle(forWritingTo: stderrFile)
        defer {
            // The child has its own copies of the descriptors once it runs.
            try? stdout.close()
            try? stderr.close()
        }
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw TestSupportError("could not start \(argv[0]): \(error)")
        }
        self.argv = argv
        self.pid = process.processIdentifier
        self.stdoutFile = stdoutFile
        self.stderrFile = stderrFile
        self.process = ProcessHandle(process)
        LiveChildren.shared.add(self.pid)
    }

    deinit { self.stop() }

    public var isRunning: Bool { self.process.isRunning }

    /// The exit status once the child has ended.
    public var terminationStatus: Int32? { self.process.isRunning ? nil : self.process.terminationStatus }

    /// The child's stdout so far.
    public func stdout() -> String {
        (try? String(contentsOf: self.stdoutFile, encoding: .utf8)) ?? ""
    }

    /// The child's stderr so far (where the registry logs).
    public func stderr() -> String {
        (try? String(contentsOf: self.stderrFile, encoding: .utf8)) ?? ""
    }

    /// SIGTERM, then SIGKILL if it has not exited after `timeout`; returns once it is gone. Idempotent.
    public func stop(timeout: Duration = .seconds(5)) {
        defer { LiveChildren.shared.remove(self.pid) }
        // Signal only while Foundation has not reaped it: after that the PID may belong to someone else.
        guard self.process.isRunning else { return }
        kill(self.pid, SIGTERM)
        if self.waitForExit(timeout) { return }
        if self.process.isRunning {
            kill(self.pid, SIGKILL)
        }
        _ = self.waitForExit(.seconds(5))
    }

    /// Waits until the child has exited by itself (without signalling it); false on timeout.
    public func waitForExit(_ timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning {
            if ContinuousClock.now >= deadline { return false }
            usleep(10_000)
        }
        return true
    }
}

/// `Process` is not `Sendable`; after `run()` we only read its state, which Foundation guards itself.
private final class ProcessHandle: @unchecked Sendable {
    private let process: Process
    init(_ process: Process) { self.process = process }
    var isRunning: Bool { self.process.isRunning }
    var terminationStatus: Int32 { self.process.terminationStatus }
}

/// PIDs of children not yet stopped, killed at a normal exit of this process (tests that forget `stop()`).
private final class LiveChildren: Sendable {
    static let shared: LiveChildren = {
        let children = LiveChildren()
        atexit {
            for pid in LiveChildren.shared.pids.withLock({ $0 }) {
                kill(pid, SIGKILL)
            }
        }
        return children
    }()

    private let pids = Mutex<Set<Int32>>([])

    func add(_ pid: Int32) { _ = self.pids.withLock { $0.insert(pid) } }
    func remove(_ pid: Int32) { _ = self.pids.withLock { $0.remove(pid) } }
}
