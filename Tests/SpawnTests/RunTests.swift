import Foundation
import Spawn
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct RunTests {
    @Test func exitCodes() async throws {
        #expect(try await Command(["true"]).run().status == .exited(0))
        #expect(try await Command(["sh", "-c", "exit 3"]).run().status == .exited(3))
        let blocking = try Command(["sh", "-c", "exit 255"]).runBlocking()
        #expect(blocking.status == .exited(255))
        #expect(blocking.status.code == 255 && blocking.status.signal == nil && !blocking.status.succeeded)
    }

    @Test func signals() async throws {
        let killed = try await Command(["sh", "-c", "kill -KILL $$"]).run()
        #expect(killed.status == .signalled(SIGKILL))
        #expect(killed.status.codeOrSignal == SIGKILL)
        #expect(try await Command(["sh", "-c", "kill -TERM $$"]).run().status == .signalled(SIGTERM))
    }

    @Test func childrenStartWithNoBlockedSignals() throws {
        // The spawning thread blocks SIGUSR1; the child must not inherit that mask.
        var usr1 = sigset_t()
        sigemptyset(&usr1)
        sigaddset(&usr1, SIGUSR1)
        var old = sigset_t()
        pthread_sigmask(SIG_BLOCK, &usr1, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        let result = try Command(["sh", "-c", "kill -USR1 $$; exit 0"]).runBlocking()
        #expect(result.status == .signalled(SIGUSR1))
    }

    @Test func largeStdoutAndStderrAtOnce() async throws {
        // stderr first and far past a pipe's 64 KiB: a reader that drained stdout first would hang.
        let size = 6 * 1024 * 1024
        let script = "head -c \(size) /dev/zero | tr '\\0' e >&2; head -c \(size) /dev/zero | tr '\\0' o; "
            + "head -c \(size) /dev/zero | tr '\\0' E >&2"
        let result = try await Command(["sh", "-c", script]).run()
        #expect(result.status.succeeded)
        #expect(result.stdout.count == size && result.stdout.allSatisfy { $0 == UInt8(ascii: "o") })
        #expect(result.stderr.count == 2 * size)
        #expect(result.stderr.prefix(size).allSatisfy { $0 == UInt8(ascii: "e") })
        #expect(result.stderr.suffix(size).allSatisfy { $0 == UInt8(ascii: "E") })
    }

    @Test func stdinIsFedWhileOutputIsDrained() async throws {
        // Varied bytes without a getrandom call per byte (5 million of them held a test thread for seconds).
        let input = (0..<(5 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
        let echoed = try await Command(["cat"], standardInput: .bytes(input)).run()
        #expect(echoed.status.succeeded)
        #expect(echoed.stdout == input)
        let blocking = try Command(["wc", "-c"], standardInput: .bytes(input)).runBlocking()
        #expect(blocking.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines) == "\(input.count)")
        #expect(try await Command(["cat"], standardInput: .bytes([])).run().stdout.isEmpty)
        #expect(try await Command(["cat"]).run().stdout.isEmpty)
    }

    @Test func childThatIgnoresStdinIsNotAnError() async throws {
        // Its pipe closes with megabytes unwritten: EPIPE for us, no SIGPIPE death.
        let input = [UInt8](repeating: 7, count: 4 * 1024 * 1024)
        let result = try await Command(["sh", "-c", "exit 4"], standardInput: .bytes(input)).run()
        #expect(result.status == .exited(4))
        let blocking = try Command(["true"], standardInput: .bytes(input)).runBlocking()
        #expect(blocking.status.succeeded)
    }

    @Test func environmentIsExactlyWhatWasGiven() async throws {
        let result = try await Command(["/usr/bin/env"], environment: ["FERRY_SPAWN": "a b=c", "LANG": "C"]).run()
        #expect(Set(result.stdoutString.split(separator: "\n")) == ["FERRY_SPAWN=a b=c", "LANG=C"])
        let inherited = try await Command(["/usr/bin/env"]).run().stdoutString
        #expect(inherited.contains("PATH="))
        #expect(Command.currentEnvironment["PATH"] != nil)
    }

    @Test func workingDirectory() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spawn-cwd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let real = directory.resolvingSymlinksInPath().path
        let result = try await Command(["pwd", "-P"], currentDirectory: directory.path).run()
        #expect(result.stdoutString == real + "\n")
        #expect(throws: SpawnError.self) {
            try Command(["pwd"], currentDirectory: directory.path + "/missing").runBlocking()
        }
    }

    @Test func missingProgramIsAnErrorNamingIt() async throws {
        let error = try #require(throws: SpawnError.self) {
            try Command(["ferry-no-such-tool-\(getpid())"]).runBlocking()
        }
        #expect(error.message.contains("ferry-no-such-tool"))
        await #expect(throws: SpawnError.self) { try await Command(["/nonexistent/tool"]).run() }
    }

    @Test func filesAsStreams() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("spawn-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in").path
        let output = directory.appendingPathComponent("out").path
        try Data("from a file\n".utf8).write(to: URL(fileURLWithPath: input))
        try Data("old content that must go\n".utf8).write(to: URL(fileURLWithPath: output))
        let result = try Command(["cat"], standardInput: .file(input), standardOutput: .file(output)).runBlocking()
        #expect(result.status.succeeded && result.stdout.isEmpty)
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "from a file\n")
        #expect(throws: SpawnError.self) {
            try Command(["cat"], standardInput: .file(input + ".missing")).runBlocking()
        }
    }

    @Test func cancellationKillsTheChild() async throws {
        let started = ContinuousClock.now
        let task = Task { try await Command(["sleep", "600"]).run() }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let result = try await task.value
        #expect(result.status == .signalled(SIGTERM))
        // Far less than the sleep; not tight: a full test run on 2 cores has kept this waiting 25 s.
        #expect(ContinuousClock.now - started < .seconds(200))
    }

    @Test func cancelledBeforeStartRunsNothing() async throws {
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await Command(["sleep", "60"]).run()
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
