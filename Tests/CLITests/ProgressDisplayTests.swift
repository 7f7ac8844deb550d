import Foundation
import TestSupport
import Testing

/// What users see while a long copy runs: redraws in a terminal, plain lines in CI, JSON events for tools.
@Suite struct ProgressDisplayTests {
    /// A 24 MiB layer through a 4 MB/s-per-connection proxy: a few seconds, long enough to be drawn several times.
    static func slowCopy(_ body: (DL.SeededImage, DL.Proxy) async throws -> Void) async throws {
        let seeded = try await DL.SeededImage.launch(layerBytes: 24 << 20, seed: 901, repository: "progress/app")
        defer { seeded.stop() }
        let proxy = try await DL.Proxy.start(upstream: seeded.registry.address, faults: ["throttle=4000000,path=/blobs/"])
        defer { proxy.stop() }
        try await body(seeded, proxy)
    }

    @Test("in a pseudo-terminal: an overall line and a line per transfer, redrawn in place, cleared before the summary")
    func terminalRedraws() async throws {
        try await Self.slowCopy { seeded, proxy in
            let work = try TemporaryDirectory()
            let home = try TemporaryDirectory()
            let typescript = work.appending("typescript").path
            // script(1) gives ferry a real pty on stdin/stdout/stderr and records everything written to it.
            let command = [try Binaries.ferry.path, "copy", "--connections", "2", seeded.source(via: proxy.address), "oci:\(work.path)/out"]
                .map { "'\($0)'" }.joined(separator: " ")
            let r = try await ProcessRunner.run(["script", "-qec", command, typescript], environment: ["HOME": home.path, "COLUMNS": "100", "TERM": "xterm"])
            #expect(r.status == 0, "\(r.stderrString)")
            let screen = try String(contentsOfFile: typescript, encoding: .utf8)
            let redraws = screen.components(separatedBy: "\u{1B}[2K").count - 1
            #expect(redraws >= 4, "redrawn \(redraws) times")
            #expect(screen.contains("\u{1B}[2F") || screen.contains("\u{1B}[1F"), "moves up over its own lines")
            #expect(screen.contains("MiB/s"))
            #expect(screen.contains(String(seeded.layer.hex.prefix(12))), "a line for the transfer, by short digest")
            // The last redraw is erased, then the summary and the digest follow on clean lines.
            let tail = screen.components(separatedBy: "\u{1B}[J").last ?? ""
            #expect(tail.contains("copied docker://"))
            #expect(!tail.contains("\u{1B}[2K"))
        }
    }

    @Test("without a terminal: plain lines, no escape codes; --quiet prints nothing on stderr")
    func plainAndQuiet() async throws {
        try await Self.slowCopy { seeded, proxy in
            let work = try TemporaryDirectory()
            let cli = try CLI()
            let plain = try await cli.run(["copy", seeded.source(via: proxy.address), "oci:\(work.path)/a"])
            #expect(plain.status == 0, "\(plain.stderrString)")
            #expect(!plain.stderrString.contains("\u{1B}"))
            #expect(plain.stderrString.contains("image done:"))
            #expect(plain.stderrString.contains("copied docker://"))
            let quiet = try await cli.run(["copy", "--quiet", seeded.source(via: proxy.address), "oci:\(work.path)/b"])
            #expect(quiet.status == 0)
            #expect(quiet.stderrString.isEmpty, "\(quiet.stderrString)")
            #expect(quiet.stdoutString.hasPrefix("sha256:"))
        }
    }

    @Test("--progress json: every line is an event of docs/progress-json.md with its fields, ending in a summary")
    func jsonEventsFollowTheSchema() async throws {
        try await Self.slowCopy { seeded, proxy in
            let work = try TemporaryDirectory()
            let r = try await CLI().run(["copy", "--progress", "json", seeded.source(via: proxy.address), "oci:\(work.path)/j"])
            #expect(r.status == 0, "\(r.stderrString)")
            let required: [String: [String]] = [
                "started": ["id", "total"], "finished": ["id"], "retried": ["id", "attempt", "reason"],
                "skipped": ["id", "total"], "mounted": ["id", "total"], "image_finished": ["reference"],
                "progress": ["done", "total", "bytes_per_second"],
                "summary": ["command", "seconds", "retries", "source", "destination", "digest", "blobs_fetched", "blobs_skipped", "bytes"],
            ]
            var seen: [String: Int] = [:]
            for line in r.stderrString.split(separator: "\n") {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
                let event = try #require(object["event"] as? String)
                #expect(object["time"] is Double || event == "summary", "\(line)")
                let fields = try #require(required[event], "undocumented event \(event)")
                for field in fields { #expect(object[field] != nil, "\(event) lacks \(field)") }
                seen[event, default: 0] += 1
            }
            #expect(seen["started"] == 2 && seen["finished"] == 2)
            #expect((seen["progress"] ?? 0) >= 2)
            #expect(seen["image_finished"] == 1 && seen["summary"] == 1)
            #expect(r.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines) == seeded.image.digest)
        }
    }
}
