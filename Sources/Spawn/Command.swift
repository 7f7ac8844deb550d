/// A program to start: argv (never through a shell, so no value needs quoting), its environment, directory and
/// standard streams. Start it with `run()` (async), `runBlocking()`, or `Child(command)` for a long-running one.
///
/// Built on `posix_spawn` rather than Foundation's `Process`, whose Linux `run()` can crash reading
/// `/proc/self/fd` (swift-corelibs-foundation PR #5472).
public struct Command: Sendable {
    /// The program (a path, or a name looked up in this process's `PATH`) and its arguments.
    public var argv: [String]
    /// The child's whole environment; nil inherits ours.
    public var environment: [String: String]?
    /// The child's working directory; nil keeps ours.
    public var currentDirectory: String?
    public var standardInput: Input
    public var standardOutput: Output
    public var standardError: Output
    /// Starts the child as the leader of a new process group (`POSIX_SPAWN_SETPGROUP`), so a Ctrl-C sent to
    /// our terminal's group does not reach it.
    public var newProcessGroup: Bool

    public init(
        _ argv: [String],
        environment: [String: String]? = nil,
        currentDirectory: String? = nil,
        standardInput: Input = .null,
        standardOutput: Output = .capture,
        standardError: Output = .capture,
        newProcessGroup: Bool = false
    ) {
        precondition(!argv.isEmpty, "argv needs at least the program")
        self.argv = argv
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.standardInput = standardInput
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.newProcessGroup = newProcessGroup
    }

    /// Where the child's standard input comes from.
    public enum Input: Sendable {
        /// `/dev/null`.
        case null
        /// These bytes, then end of file; a child that exits without reading them all is not an error.
        case bytes([UInt8])
        /// A file, opened for reading.
        case file(String)
        /// Our own standard input.
        case inherit
    }

    /// Where the child's standard output or error goes.
    public enum Output: Sendable {
        /// `/dev/null`.
        case null
        /// Collected into `CommandOutput` (only with `run()` and `runBlocking()`).
        case capture
        /// A file, created or truncated.
        case file(String)
        /// Our own stream.
        case inherit
    }

    /// This process's environment, to start from when a child needs a few more or fewer variables.
    public static var currentEnvironment: [String: String] { Environment.current() }
}

/// What a finished child left behind.
public struct CommandOutput: Sendable {
    public let status: ExitStatus
    /// Captured standard output; empty unless `.capture` was asked for.
    public let stdout: [UInt8]
    public let stderr: [UInt8]

    public var stdoutString: String { String(decoding: self.stdout, as: UTF8.self) }
    public var stderrString: String { String(decoding: self.stderr, as: UTF8.self) }
}

extension Command {
    /// Runs the command to completion without blocking the cooperative pool: the child's pipes are pumped and
    /// its exit awaited on a thread of its own. Cancelling the calling task sends the child SIGTERM (SIGKILL
    /// if it is still alive five seconds later); the child's status then tells it was signalled.
    public func run() async throws -> CommandOutput {
        try await self.runMeasured().output
    }

    /// Runs the command to completion on the calling thread (for synchronous callers; async code uses `run()`).
    public func runBlocking() throws(SpawnError) -> CommandOutput {
        let launched = try Launch.start(self)
        let (stdout, stderr) = Pump.run(launched.pipes)
        return CommandOutput(status: Child(pid: launched.pid, beforeReap: nil).wait(), stdout: stdout, stderr: stderr)
    }
}
