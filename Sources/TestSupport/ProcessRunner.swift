import Foundation
import Spawn

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
/// Waiting is asynchronous: the exit and both pipes are collected off the Swift cooperative pool (by `Spawn`,
/// on a thread per child, never Foundation's `Process`), so many children (parallel `curl` uploads) can run at
/// once even on a two-core machine.
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
        var command = try self.makeCommand(argv, environment: environment, currentDirectory: currentDirectory)
        command.standardInput = stdin.map { .bytes([UInt8]($0)) } ?? .null
        let output: CommandOutput
        do {
            output = try await command.run()
        } catch let error as SpawnError {
            throw TestSupportError("could not start \(argv[0]): \(error)")
        }
        // A signalled child reports the signal number, as Foundation's terminationStatus did.
        return ProcessResult(
            status: output.status.codeOrSignal, stdout: Data(output.stdout), stderr: Data(output.stderr))
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
        do {
            return URL(fileURLWithPath: try Executable.resolve(name))
        } catch {
            throw TestSupportError("\(name) not found in PATH; install it (make deps)")
        }
    }

    /// `argv` with its program resolved, and our environment with `environment` on top; output captured.
    static func makeCommand(_ argv: [String], environment: [String: String], currentDirectory: URL?) throws -> Command {
        precondition(!argv.isEmpty, "argv needs at least the program")
        // The child sees the resolved path as argv[0], as it did under Foundation's Process.
        let resolved = [try self.executable(argv[0]).path] + argv.dropFirst()
        var merged = Command.currentEnvironment
        merged.merge(environment) { _, new in new }
        return Command(resolved, environment: merged, currentDirectory: currentDirectory?.path)
    }
}
