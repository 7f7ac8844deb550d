import Foundation
import Spawn
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

    private let child: Child

    /// Starts `argv` with stdout and stderr written to `stdoutFile` and `stderrFile` (truncated first).
    public init(
        _ argv: [String],
        stdoutFile: URL,
        stderrFile: URL,
        environment: [String: String] = [:],
        removingEnvironmentPrefix: String? = nil
    ) throws {
        var command = try ProcessRunner.makeCommand(argv, environment: environment, currentDirectory: nil)
        if let prefix = removingEnvironmentPrefix {
            // The registry reads REGISTRY_* variables as config overrides; an inherited one would change our config.
            command.environment = command.environment?.filter { !$0.key.hasPrefix(prefix) }
        }
        command.standardInput = .null
        command.standardOutput = .file(stdoutFile.path)
        command.standardError = .file(stderrFile.path)
        // Its own process group, so a Ctrl-C on the terminal reaches only us; LiveChildren then kills it.
        command.newProcessGroup = true
        do {
            self.child = try LiveChildren.shared.start(command)
        } catch {
            throw TestSupportError("could not start \(argv[0]): \(error)")
        }
        self.pid = self.child.pid
        self.argv = argv
        self.stdoutFile = stdoutFile
        self.stderrFile = stderrFile
    }

    deinit { self.stop() }

    public var isRunning: Bool { self.child.isRunning }

    /// The exit status once the child has ended (the signal number if a signal ended it).
    public var terminationStatus: Int32? { self.child.exitStatus?.codeOrSignal }

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
        // Child signals only until it has reaped the PID, after which the PID may belong to someone else.
        self.child.stop(timeout: timeout)
    }

    /// Waits until the child has exited by itself (without signalling it); false on timeout.
    public func waitForExit(_ timeout: Duration) -> Bool {
        self.child.wait(timeout: timeout) != nil
    }
}

/// PIDs of children not yet stopped, killed when this process ends without stopping them: at a normal exit
/// (`atexit`) and on SIGINT, SIGTERM or SIGHUP. Children start in their own process group, so a
/// Ctrl-C on `swift test` or a demo reaches only us; without this, their registries would live on.
///
/// The table is a fixed array of PID slots because the signal handler may only read memory and call `kill`
/// (no locks, no allocation); writers serialise on a mutex.
private final class LiveChildren: Sendable {
    static let shared: LiveChildren = {
        let children = LiveChildren()
        atexit { LiveChildren.killAll() }
        for number in [SIGINT, SIGTERM, SIGHUP] {
            installHandler(number)
        }
        return children
    }()

    private static let capacity = 1024
    private nonisolated(unsafe) static let slots: UnsafeMutablePointer<Int32> = {
        let slots = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
        return slots
    }()
    private let writers = Mutex<Void>(())

    /// Starts `command` and records its PID, under the lock so that a child ending at once cannot be
    /// removed (when it is reaped) before it was added. The PID is forgotten just before the child is reaped,
    /// while it is still ours. More live children than slots are not tracked (and then not killed on exit).
    func start(_ command: Command) throws -> Child {
        try self.writers.withLock { _ in
            let child = try Child(command, beforeReap: { LiveChildren.shared.remove($0) })
            if let free = (0..<Self.capacity).first(where: { Self.slots[$0] == 0 }) { Self.slots[free] = child.pid }
            return child
        }
    }

    func remove(_ pid: Int32) {
        self.writers.withLock { _ in
            if let slot = (0..<Self.capacity).first(where: { Self.slots[$0] == pid }) { Self.slots[slot] = 0 }
        }
    }

    /// Async-signal-safe: reads the slots and calls kill(2), nothing else.
    static func killAll() {
        for slot in 0..<self.capacity where self.slots[slot] > 0 {
            kill(self.slots[slot], SIGKILL)
        }
    }

    /// Takes over signal `number` only if nobody handles it (default action, which would end us without
    /// cleanup); a program with its own handler, or ignoring the signal, keeps it.
    private static func installHandler(_ number: Int32) {
        let previous = signal(number, liveChildrenSignalHandler)
        if previous != nil {  // nil is SIG_DFL
            _ = signal(number, previous)
        }
    }
}

/// Kills live children, then dies of the same signal as we would have without the handler.
private func liveChildrenSignalHandler(_ number: Int32) {
    LiveChildren.killAll()
    _ = signal(number, nil)
    raise(number)
}
