import Foundation
import Spawn

/// The executables a benchmark runs: Ferry itself (the running binary, so the figures are this build's) and
/// `ferry-testkit` beside it (registry, synthetic images, the throttling proxy, codec drivers).
public struct Tools: Sendable {
    public var ferry: String
    public var testkit: String
    /// The compared peers' paths, looked up in PATH once before the first run (`BenchRunner.run`).
    var peers: [Peer: String] = [:]

    public init(ferry: String, testkit: String) {
        self.ferry = ferry
        self.testkit = testkit
    }

    /// `ferry` is this process's executable; `ferry-testkit` must sit next to it.
    public static func locate() throws -> Tools {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let directory = (exe as NSString).deletingLastPathComponent
        let testkit = (directory as NSString).appendingPathComponent("ferry-testkit")
        guard FileManager.default.isExecutableFile(atPath: testkit) else {
            throw BenchError(.usage, "ferry-testkit not found next to ferry (\(directory)): it starts the registry, makes the images and throttles the link. Build it with `swift build --product ferry-testkit` (add -c release for a release ferry), the same way as ferry")
        }
        return Tools(ferry: exe, testkit: testkit)
    }

    /// A peer's path: the one found before the runs, else (skopeo deleting what was pushed, when not compared)
    /// looked up now.
    func path(of peer: Peer) throws -> String {
        if let path = self.peers[peer] { return path }
        return try Self.resolve(peer)
    }

    /// A peer's path in PATH, or an error saying how to get it.
    static func resolve(_ peer: Peer) throws -> String {
        do {
            return try Executable.resolve(peer.executable)
        } catch {
            throw BenchError(.usage, "\(peer.executable) not found in PATH: install it (make deps does) or leave it out of --compare")
        }
    }
}

/// Runs one child to completion, measured; a failure becomes an error quoting its command and stderr's end.
func measured(_ argv: [String], environment: [String: String]?, stdoutToNull: Bool = false) async throws -> MeasuredOutput {
    let command = Command(
        argv, environment: environment, standardOutput: stdoutToNull ? .null : .capture, standardError: .capture)
    let result: MeasuredOutput
    do {
        result = try await command.runMeasured()
    } catch let error as SpawnError {
        throw BenchError(.failed, "cannot run \(argv[0]): \(error)")
    }
    try Task.checkCancellation()
    guard result.output.status.succeeded else {
        let tail = String(result.output.stderrString.suffix(2000)).trimmingCharacters(in: .whitespacesAndNewlines)
        throw BenchError(.failed, "\(argv.joined(separator: " ")) failed (\(result.output.status)):\n\(tail)")
    }
    return result
}

/// A long-running helper (a registry, a proxy) known by PID, with its output in files; stopped by PID.
final class Service: Sendable {
    let name: String
    let address: String
    private let child: Child

    private init(name: String, address: String, child: Child) {
        self.name = name
        self.address = address
        self.child = child
    }

    /// Starts `argv` and waits for the `listening HOST:PORT` line every ferry-testkit server prints once bound.
    static func start(_ name: String, _ argv: [String], logs: String) async throws -> Service {
        let out = "\(logs)/\(name).out", err = "\(logs)/\(name).err"
        // Its own process group: a Ctrl-C reaches only ferry bench, which then stops it by PID.
        let command = Command(argv, standardOutput: .file(out), standardError: .file(err), newProcessGroup: true)
        let child: Child
        do { child = try Child(command) } catch { throw BenchError(.failed, "cannot start \(name): \(error)") }
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            // Complete lines only: a read may catch the line half written, with half a port number.
            if let text = try? String(contentsOfFile: out, encoding: .utf8),
                let line = text.split(separator: "\n").dropLast(text.hasSuffix("\n") ? 0 : 1).first(where: { $0.hasPrefix("listening ") })
            {
                return Service(name: name, address: String(line.dropFirst("listening ".count)), child: child)
            }
            let log = { (try? String(contentsOfFile: err, encoding: .utf8)).map { String($0.suffix(1500)) } ?? "" }
            if let status = child.exitStatus {
                throw BenchError(.failed, "\(name) exited (\(status)) before it listened: \(log())")
            }
            if ContinuousClock.now > deadline || Task.isCancelled {
                child.stop()
                if Task.isCancelled { throw CancellationError() }
                throw BenchError(.failed, "\(name) did not start within 60 s: \(log())")
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// SIGTERM (a registry then stops its own children), SIGKILL after 10 s. Idempotent.
    func stop() { self.child.stop(timeout: .seconds(10)) }
}
