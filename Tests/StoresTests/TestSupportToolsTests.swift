import Codec
import Foundation
import Testing

@testable import TestSupport

/// The small parts under the builders and launchers: gzip, tar framing, process running.
@Suite("TestSupport: tools")
struct TestSupportToolsTests {
    @Test("GzipEncoder output is what gzip -dc expects, at every level", arguments: [0, 1, 6, 9])
    func gzipRoundTrip(level: Int) async throws {
        var input = [UInt8]()
        for line in 0..<20_000 { input += Array("line \(line) of some text, \(line * 7919 % 1000)\n".utf8) }
        let encoder = GzipEncoder(level: level)
        var output: [UInt8] = []
        // Fed in uneven pieces, as a stream is.
        var offset = 0
        var piece = 1
        while offset < input.count {
            let end = min(input.count, offset + piece)
            input[offset..<end].withUnsafeBytes { encoder.compress($0, into: &output) }
            offset = end
            piece = piece * 3 + 1
        }
        encoder.finish(into: &output)
        let decoded = try await ProcessRunner.check(["gzip", "-dc"], stdin: Data(output)).stdout
        #expect(decoded == Data(input))
        if level == 0 {
            // Stored blocks: the input plus 5 bytes per 64 KiB block and the 18-byte gzip framing.
            #expect(output.count > input.count && output.count < input.count + input.count / 1000 + 64)
        } else {
            #expect(output.count * 4 < input.count)
        }
    }

    @Test("GzipEncoder with no input makes a valid empty member")
    func gzipEmpty() async throws {
        let encoder = GzipEncoder(level: 6)
        var output: [UInt8] = []
        encoder.finish(into: &output)
        #expect(output.starts(with: [0x1f, 0x8b]))
        #expect(try await ProcessRunner.check(["gzip", "-dc"], stdin: Data(output)).stdout.isEmpty)
    }

    @Test("members of 8 GiB or more get a PAX size record that GNU tar reads")
    func paxSize() async throws {
        let size = (8 << 30) + 12_345
        let header = TarHeader.regularFile(name: "huge.bin", size: size)
        #expect(header.count == 3 * 512, "PAX header, its record, the ustar header")
        // A sparse file with the framing in place: tar -t seeks over the data instead of reading it.
        let dir = try TemporaryDirectory()
        let path = dir.appending("huge.tar")
        #expect(FileManager.default.createFile(atPath: path.path, contents: nil))
        let handle = try FileHandle(forWritingTo: path)
        try handle.write(contentsOf: header)
        try handle.seek(toOffset: UInt64(header.count + size + TarHeader.padding(size)))
        try handle.write(contentsOf: TarHeader.trailer)
        try handle.close()
        let listing = try await ProcessRunner.check(["tar", "-tvf", path.path]).stdoutString
        #expect(listing.contains(" \(size) "), "\(listing)")
        #expect(listing.hasSuffix("huge.bin\n"))
        #expect(TarHeader.regularFile(name: "small", size: TarHeader.maxOctalSize).count == 512)
    }

    @Test("ProcessRunner passes stdin, environment and exit status; check() throws on failure")
    func processRunner() async throws {
        let echoed = try await ProcessRunner.run(["cat"], stdin: Data("hello\n".utf8))
        #expect(echoed.status == 0 && echoed.stdoutString == "hello\n")
        let env = try await ProcessRunner.run(
            ["sh", "-c", "echo \"$FERRY_PROBE\" >&2; exit 3"], environment: ["FERRY_PROBE": "a b;c"])
        #expect(env.status == 3)
        #expect(env.stderrString == "a b;c\n")
        // An argument with shell metacharacters arrives as one argument.
        let literal = try await ProcessRunner.check(["printf", "%s", "$(rm -rf /);`x` 'q'"])
        #expect(literal.stdoutString == "$(rm -rf /);`x` 'q'")
        await #expect(throws: TestSupportError.self) { try await ProcessRunner.check(["false"]) }
        #expect(throws: TestSupportError.self) { try ProcessRunner.executable("no-such-tool-ferry") }
        // Large output on both pipes at once does not deadlock.
        let big = try await ProcessRunner.check([
            "sh", "-c", "head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2",
        ])
        #expect(big.stdout.count == 3_000_000 && big.stderr.count == 3_000_000)
    }

    @Test("ChildProcess.stop ends a child that ignores SIGTERM")
    func childStop() throws {
        let dir = try TemporaryDirectory()
        let child = try ChildProcess(
            ["sh", "-c", "trap '' TERM; echo started; while :; do sleep 0.05; done"],
            stdoutFile: dir.appending("out"), stderrFile: dir.appending("err"))
        while !child.stdout().contains("started") { usleep(10_000) }
        let begin = ContinuousClock.now
        child.stop(timeout: .milliseconds(300))
        #expect(!child.isRunning)
        #expect(ContinuousClock.now - begin >= .milliseconds(300))
        #expect(kill(child.pid, 0) != 0)
    }

    @Test("free ports are loopback-only, never 5000, below the ephemeral range, and not handed out twice")
    func freePort() throws {
        let port = try FreePort.pick()
        #expect(port > 0 && port != 5000)
        let ephemeralLow = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
            .split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) }
        #expect(port < (ephemeralLow ?? 32_768))
        let many = try (0..<50).map { _ in try FreePort.pick() }
        #expect(Set(many + [port]).count == 51)
        #expect(try FreePort.pick(host: "127.0.0.2") > 0)
        #expect(throws: TestSupportError.self) { try FreePort.pick(host: "0.0.0.0") }
    }

    @Test("Binaries finds the directory of the running tests")
    func binaries() throws {
        let directory = Binaries.runningExecutableDirectory
        #expect(FileManager.default.fileExists(atPath: directory.path))
        #expect(!directory.path.contains(".xctest"))
        #expect(throws: TestSupportError.self) { try Binaries.product("no-such-product") }
    }
}
