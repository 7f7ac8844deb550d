import Foundation
import Synchronization

/// What a finished child process left behind.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: Data
    public let stderr: Data

    public var stdoutString: String { String(decoding: self.stdout, as: UTF8.self) }
    public var stderrString: String { String(decoding: self.stderr, as: UTF8.self) }
    public var succeeded: Bool { self.status == 0 }
}

/// Runs a tool to completion with an argv vector (never through a shell, so no value needs quoting).
///
/// Waiting is asynchronous: the exit and both pipes are collected off the Swift cooperative pool, so many
/// children (parallel `curl` uploads) can run at once even on a two-core machine.
public enum ProcessRunner {
    /// Runs `argv` and collects its exit status and output.
    /// - Parameters:
    ///   - argv: the program (a path, or a name looked up in `PATH`) and its arguments.
    ///   - stdin: bytes fed to the child's standard input; `nil` gives it `/dev/null`.
    ///   - environment: variables set on top of this process's environment.
    ///   - currentDirectory: the child's working directory, if not ours.
    /// Cancelling the calling task terminates the child.
    public static func run(
        _ argv: [String],
        stdin: Data? = nil,
        environment: [String: String] = [:],
        currentDirectory: URL? = nil
    ) async throws -> ProcessResult {
        let process = try self.makeProcess(argv, environment: environment, currentDirectory: currentDirectory)
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        let stdinPipe = stdin.map { _ in Pipe() }
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = stdinPipe ?? FileHandle.nullDevice

        let box = ProcessBox(process)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ProcessResult, any Error>) in
                let collector = Collector(continuation)
                process.terminationHandler = { finished in collector.exited(finished.terminationStatus) }
                do {
                    try process.run()
                } catch {
                    collector.failed(TestSupportError("could not start \(argv[0]): \(error)"))
                    return
                }
                let stdoutReader = stdoutPipe.fileHandleForReading
                let stderrReader = stderrPipe.fileHandleForReading
                // Both pipes are drained at once: a child that fills one while we block on the other would hang.
                DispatchQueue.global().async { collector.stdout(stdoutReader.readDataToEndOfFile()) }
                DispatchQueue.global().async { collector.stderr(stderrReader.readDataToEndOfFile()) }
                if let stdinPipe, let stdin {
                    let writer = stdinPipe.fileHandleForWriting
                    DispatchQueue.global().async {
                        // A child that exits without reading gives EPIPE; its exit status tells the story.
                        try? writer.write(contentsOf: stdin)
                        try? writer.close()
                    }
                }
            }
        } onCancel: {
            box.terminate()
        }
    }

    /// Like `run`, but a non-zero exit becomes an error quoting the command and its stderr.
    @discardableResult
    public static func check(
        _ argv: [String],
        stdin: Data? = nil,
        environment: [String: String] = [:],
        currentDirectory: URL? = nil
    ) async throws -> ProcessResult {
        let result = try await self.run(
            argv, stdin: stdin, environment: environment, currentDirectory: currentDirectory)
        guard result.succeeded else {
            throw TestSupportError(
                "\(argv.joined(separator: " ")) exited with \(result.status): "
                    + result.stderrString.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return result
    }

    /// Resolves a program name the way a shell would: a path is used as is, a bare name is looked up in `PATH`.
    public static func executable(_ name: String) throws -> URL {
        if name.contains("/") {
            return URL(fileURLWithPath: name)
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
        }
        throw TestSupportError("\(name) not found in PATH; install it (make deps)")
    }

    static func makeProcess(_ argv: [String], environment: [String: String], currentDirectory: URL?) throws -> Process {
        precondition(!argv.isEmpty, "argv needs at least the program")
        let process = Process()
        process.executableURL = try self.executable(argv[0])
        process.arguments = Array(argv.dropFirst())
        var merged = ProcessInfo.processInfo.environment
        merged.merge(environment) { _, new in new }
        process.environment = merged
        if let currentDirectory {
            process.currentDirectoryURL = currentDirectory
        }
        return process
    }
}

/// Lets the cancellation handler reach the process; `Process` itself is not `Sendable`.
private final class ProcessBox: @unchecked Sendable {
    private let process: Process
    init(_ process: Process) { self.process = process }
    func terminate() {
        if self.process.isRunning { self.process.terminate() }
    }
}

/// Resumes the continuation once the exit status and both outputs are in, whichever comes last.
private final class Collector: Sendable {
    private struct State {
        var continuation: CheckedContinuation<ProcessResult, any Error>?
        var status: Int32?
        var stdout: Data?
        var stderr: Data?
    }
    private let state: Mutex<State>

    init(_ continuation: CheckedContinuation<ProcessResult, any Error>) {
        self.state = Mutex(State(continuation: continuation))
    }

    func exited(_ status: Int32) { self.update { $0.status = status } }
    func stdout(_ data: Data) { self.update { $0.stdout = data } }
    func stderr(_ data: Data) { self.update { $0.stderr = data } }

    func failed(_ error: any Error) {
        let continuation = self.state.withLock { state in
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(throwing: error)
    }

    private func update(_ body: (inout State) -> Void) {
        let ready: (CheckedContinuation<ProcessResult, any Error>, ProcessResult)? = self.state.withLock { state in
            body(&state)
            guard let continuation = state.continuation, let status = state.status,
                let stdout = state.stdout, let stderr = state.stderr
            else { return nil }
            state.continuation = nil
            return (continuation, ProcessResult(status: status, stdout: stdout, stderr: stderr))
        }
        if let (continuation, result) = ready {
            continuation.resume(returning: result)
        }
    }
}
