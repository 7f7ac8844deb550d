import Foundation
import Spawn
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ChildTests {
    @Test func stopSendsTermAndCachesTheStatus() throws {
        let child = try Child(Command(["sleep", "60"], standardOutput: .null, standardError: .null))
        #expect(child.isRunning)
        #expect(child.exitStatus == nil)
        #expect(child.stop(timeout: .seconds(5)) == .signalled(SIGTERM))
        #expect(!child.isRunning)
        #expect(child.exitStatus == .signalled(SIGTERM))
        // Reaped: its PID is no longer ours to signal.
        #expect(!child.signal(SIGKILL))
        #expect(child.stop() == .signalled(SIGTERM))
    }

    @Test func stopEscalatesToKill() throws {
        let command = Command(
            ["sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"],
            standardOutput: .null, standardError: .null)
        let child = try Child(command)
        // Give sh time to install its trap.
        try #require(child.wait(timeout: .milliseconds(300)) == nil)
        #expect(child.stop(timeout: .milliseconds(300)) == .signalled(SIGKILL))
    }

    @Test func outputGoesToFilesAndExitIsAwaited() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("spawn-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out").path
        let err = directory.appendingPathComponent("err").path
        let child = try Child(
            Command(
                ["sh", "-c", "echo to-out; echo to-err >&2; exit 9"],
                standardOutput: .file(out), standardError: .file(err)))
        #expect(await child.exited() == .exited(9))
        #expect(child.wait() == .exited(9))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "to-out\n")
        #expect(try String(contentsOfFile: err, encoding: .utf8) == "to-err\n")
    }

    @Test func ownProcessGroupWhenAsked() throws {
        let leader = try Child(
            Command(["sleep", "60"], standardOutput: .null, standardError: .null, newProcessGroup: true))
        defer { leader.stop() }
        #expect(getpgid(leader.pid) == leader.pid)
        let member = try Child(Command(["sleep", "60"], standardOutput: .null, standardError: .null))
        defer { member.stop() }
        #expect(getpgid(member.pid) == getpgrp())
    }

    @Test func beforeReapSeesThePIDOnce() throws {
        let seen = Mutex<[pid_t]>([])
        let child = try Child(Command(["true"], standardOutput: .null, standardError: .null)) { pid in
            seen.withLock { $0.append(pid) }
        }
        #expect(child.wait() == .exited(0))
        _ = child.isRunning
        _ = child.stop()
        #expect(seen.withLock { $0 } == [child.pid])
    }

    @Test func captureIsForRunOnly() {
        #expect(throws: SpawnError.self) { try Child(Command(["true"])) }
    }
}
