import Foundation
import TestSupport
import Testing

/// `ferry bench` end to end, small: the report's schema, the table and plot, the gate against real runs (a
/// registry slowed far beyond the limit by a per-connection cap), and clean-up. Speed itself is not asserted here
/// beyond the gate's huge margins; the full run is `make bench`.
@Suite struct BenchCommandTests {
    @Test("a smoke run of every phase and peer writes a report with the documented schema, a table, a plot, and cleans up")
    func smoke() async throws {
        let work = try TemporaryDirectory(prefix: "ferry-bench-test-")
        let json = work.appending("out.json").path, svg = work.appending("out.svg").path
        let data = work.appending("data").path
        let result = try await CLI().run([
            "bench", "--size", "8MiB", "--images", "1", "--layers", "2", "--runs", "1", "--codec-size", "4MiB",
            "--throttle-size", "4MiB", "--throttle-rate", "20MB", "--throttle-connections", "4",
            "--compare", "all", "--json", json, "--plot", svg, "--work-dir", data,
        ])
        #expect(result.status == 0, "\(result.stderrString)")
        let stderr = result.stderrString
        #expect(stderr.contains("median MB/s (min–max)"), "no table: \(stderr)")

        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        #expect(report["schema_version"] as? Int == 1)
        #expect((report["ferry_version"] as? String)?.isEmpty == false)
        let machine = try #require(report["machine"] as? [String: Any])
        #expect((machine["cores"] as? Int ?? 0) >= 1)
        #expect((machine["memory_bytes"] as? Int ?? 0) > 0)
        #expect((machine["kernel"] as? String)?.contains("Linux") == true)
        let parameters = try #require(report["parameters"] as? [String: Any])
        #expect(parameters["image_bytes"] as? Int == 8 << 20)
        #expect(parameters["runs"] as? Int == 1)
        #expect(parameters["registry"] as? String == "local")

        let phases = try #require(report["phases"] as? [[String: Any]])
        #expect(phases.map { $0["phase"] as? String } == ["push", "pull", "save", "load", "sync", "hash", "gzip", "zstd", "throttled"])
        for phase in phases {
            let name = phase["phase"] as? String ?? "?"
            #expect((phase["bytes"] as? Int ?? 0) > 0, "\(name)")
            let runs = try #require(phase["runs"] as? [[String: Any]])
            #expect(runs.count == 1, "\(name)")
            for key in ["wall_s", "cpu_user_s", "cpu_sys_s", "peak_rss_bytes", "retries", "mb_per_s"] {
                #expect(runs[0][key] is NSNumber, "\(name): \(key) missing")
            }
            #expect((runs[0]["mb_per_s"] as? Double ?? 0) > 0, "\(name)")
            #expect((runs[0]["peak_rss_bytes"] as? Int ?? 0) > 1_000_000, "\(name)")
            let spread = try #require(phase["mb_per_s"] as? [String: Any])
            #expect(spread["median"] as? Double == runs[0]["mb_per_s"] as? Double, "\(name)")
            let peers = try #require(phase["peers"] as? [[String: Any]])
            #expect(!peers.isEmpty, "\(name): no peer ran")
            for peer in peers {
                #expect((peer["ratio"] as? Double ?? 0) > 0, "\(name): \(peer["name"] ?? "?")")
            }
        }
        let throttled = try #require(phases.last?["peers"] as? [[String: Any]])
        #expect(throttled.map { $0["name"] as? String } == ["ferry --connections 1", "aria2c -x4"])

        let picture = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(picture.hasPrefix("<svg"))
        #expect(picture.contains("throttled") && picture.contains("skopeo") && picture.hasSuffix("</svg>\n"))
        // The work directory made inside --work-dir is gone, and with it every registry's storage.
        #expect(try FileManager.default.contentsOfDirectory(atPath: data).isEmpty)

        // The gate on files: a report against itself passes, a copy at a third of the speed fails naming phases.
        let same = try await CLI().run(["bench", "--from", json, "--baseline", json, "--max-regression", "0"])
        #expect(same.status == 0, "\(same.stderrString)")
        #expect(same.stderrString.contains("no phase fell"))
        let slow = work.appending("slow.json").path
        try Self.scaled(json, to: slow, phases: ["pull", "hash"], factor: 1.0 / 3)
        let gated = try await CLI().run([
            "bench", "--from", slow, "--baseline", json, "--max-regression", "50", "--plot", work.appending("two.svg").path,
        ])
        #expect(gated.status == 1, "\(gated.stderrString)")
        let error = gated.stderrString.split(separator: "\n").last.map(String.init) ?? ""
        #expect(error.hasPrefix("ferry: error: 2 phase(s) slower"), "\(error)")
        #expect(error.contains("pull: ") && error.contains("hash: ") && !error.contains("push: "), "\(error)")
    }

    @Test("the gate end to end: passes against its own baseline, fails naming the phase when the registry is slowed far beyond 3×")
    func gateThroughSlowedRegistry() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let work = try TemporaryDirectory(prefix: "ferry-bench-gate-")
        let baseline = work.appending("baseline.json").path
        // 4 MiB in two 2 MiB layers: unthrottled about a second on a busy machine; capped at 250 kB/s a connection,
        // about 8 s a phase (≤ 0.5 MB/s). Tiny runs on two cores shared with the rest of the suite can be several
        // times slower than their baseline without anything being wrong, so the rerun against its own baseline
        // allows 90 % (10× slower); the capped run is held to 50 % (2× slower): a full run under an extra busy
        // core measured a baseline slow enough that the capped run stayed within 10×.
        let common = ["bench", "pull", "push", "--size", "4MiB", "--images", "1", "--layers", "2", "--tls-verify=false"]

        // Medians of 3 against the registry itself (cheap: no proxy), so one slow run on a busy machine does not count.
        let first = try await CLI().run(common + ["--runs", "3", "--registry", registry.address, "--json", baseline])
        #expect(first.status == 0, "\(first.stderrString)")
        // The rerun against its own baseline may land on the suite's busiest seconds (a full run measured it 10×
        // slower at a load of 25 on two cores): up to three tries. A gate that misfires on real runs fails all three.
        var again = try await CLI().run(common + ["--runs", "3", "--registry", registry.address, "--baseline", baseline, "--max-regression", "90"])
        for _ in 1..<3 where again.status != 0 {
            again = try await CLI().run(common + ["--runs", "3", "--registry", registry.address, "--baseline", baseline, "--max-regression", "90"])
        }
        #expect(again.status == 0, "\(again.stderrString)")

        let proxy = try await DL.Proxy.start(upstream: registry.address, faults: ["throttle=250000"])
        defer { proxy.stop() }
        let slowed = try await CLI().run(common + ["--runs", "1", "--registry", proxy.address, "--baseline", baseline, "--max-regression", "50"])
        #expect(slowed.status == 1, "\(slowed.stderrString)")
        let error = slowed.stderrString.split(separator: "\n").last.map(String.init) ?? ""
        #expect(error.hasPrefix("ferry: error: "), "\(error)")
        #expect(error.contains("pull: ") || error.contains("push: "), "no slowed phase is named: \(error)")
        #expect(error.contains("baseline ") && error.contains("now "), "no spread: \(error)")
    }

    @Test("retries Ferry reports in its --progress json summary land in the run's record")
    func retriesRecorded() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        // The first two blob GETs are cut after 256 KiB (seeding only pushes, so it is not cut). The config blob is
        // smaller than that and may take one of them, so the first pull retries once or twice, the second never.
        let proxy = try await DL.Proxy.start(upstream: registry.address, faults: ["cut=262144,path=/blobs/,method=GET,count=2"])
        defer { proxy.stop() }
        let work = try TemporaryDirectory(prefix: "ferry-bench-retries-")
        let json = work.appending("r.json").path
        let result = try await CLI().run([
            "bench", "pull", "--size", "4MiB", "--images", "1", "--layers", "1", "--runs", "2", "--tls-verify=false",
            "--registry", proxy.address, "--json", json,
        ])
        #expect(result.status == 0, "\(result.stderrString)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let runs = try #require((report["phases"] as? [[String: Any]])?.first?["runs"] as? [[String: Any]])
        let retries = runs.map { $0["retries"] as? Int ?? -1 }
        #expect(retries.count == 2 && (1...2).contains(retries[0]) && retries[1] == 0, "\(runs)")
        #expect(try await proxy.stats().faultsApplied["cut"] == 2)
    }

    @Test("help lists every phase and peer, with examples; ferry --help lists bench")
    func help() async throws {
        let help = try await CLI().run(["bench", "--help"])
        #expect(help.status == 0)
        for phase in ["push", "pull", "save", "load", "sync", "hash", "gzip", "zstd", "throttled"] {
            #expect(help.stdoutString.contains("\n  \(phase) "), "\(phase)")
        }
        #expect(help.stdoutString.contains("Examples:"))
        #expect(help.stdoutString.contains("ferry bench --compare skopeo --json bench.json --plot bench.svg"))
        #expect(help.stdoutString.contains("--max-regression"))
        let top = try await CLI().run(["--help"])
        #expect(top.stdoutString.contains("  bench "))
    }

    @Test("without ferry-testkit next to it, bench says how to build it (exit 2)")
    func missingTestkit() async throws {
        let lonely = try TemporaryDirectory(prefix: "ferry-bench-lonely-")
        let copy = lonely.appending("ferry").path
        // A hard link where it can be: a copy is open for writing while it is made, and a child that another test
        // spawns just then inherits the descriptor and keeps the file busy (ETXTBSY) for as long as it runs.
        if link(try Binaries.ferry.path, copy) != 0 {
            try FileManager.default.copyItem(atPath: try Binaries.ferry.path, toPath: copy)
        }
        let result = try await ProcessRunner.run([copy, "bench", "hash", "--runs", "1"], environment: ["HOME": lonely.path])
        #expect(result.status == 2, "\(result.stderrString)")
        #expect(result.stderrString.contains("ferry-testkit not found next to ferry"))
        #expect(result.stderrString.contains("swift build --product ferry-testkit"))
    }

    /// Copies a report with the named phases' MB/s (runs and spread) multiplied by `factor`.
    static func scaled(_ path: String, to out: String, phases: Set<String>, factor: Double) throws {
        var report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        var list = try #require(report["phases"] as? [[String: Any]])
        for index in list.indices where phases.contains(list[index]["phase"] as? String ?? "") {
            var spread = try #require(list[index]["mb_per_s"] as? [String: Double])
            for key in spread.keys { spread[key]! *= factor }
            list[index]["mb_per_s"] = spread
            list[index]["runs"] = (list[index]["runs"] as? [[String: Any]] ?? []).map { run in
                var run = run
                run["mb_per_s"] = (run["mb_per_s"] as? Double ?? 0) * factor
                return run
            }
        }
        report["phases"] = list
        report["ferry_version"] = "slowed"
        try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]).write(to: URL(fileURLWithPath: out))
    }
}
