import Bench
import Foundation
import Testing

/// The report's JSON keys (docs/bench-json.md), its medians, the table and the plot.
@Suite struct ReportTests {
    @Test("the JSON uses the documented snake_case keys")
    func keys() throws {
        let files = try ReportFiles()
        let path = "\(files.directory)/r.json"
        try Reports.make(["push": [100, 300, 200]]).write(path)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        #expect(Set(object.keys) == ["schema_version", "ferry_version", "date", "machine", "parameters", "phases"])
        let machine = try #require(object["machine"] as? [String: Any])
        #expect(Set(machine.keys) == ["cores", "memory_bytes", "kernel", "os", "load_average_start", "load_average_end"])
        let phase = try #require((object["phases"] as? [[String: Any]])?.first)
        #expect(Set(phase.keys) == ["phase", "bytes", "command", "runs", "mb_per_s", "peers"])
        let run = try #require((phase["runs"] as? [[String: Any]])?.first)
        #expect(Set(run.keys) == ["wall_s", "cpu_user_s", "cpu_sys_s", "peak_rss_bytes", "retries", "mb_per_s"])
        let spread = try #require(phase["mb_per_s"] as? [String: Double])
        #expect(abs(spread["median"]! - 200) < 1e-6 && abs(spread["min"]! - 100) < 1e-6 && abs(spread["max"]! - 300) < 1e-6)
    }

    @Test("a report from a newer schema is refused with advice")
    func newerSchema() throws {
        let files = try ReportFiles()
        let path = "\(files.directory)/new.json"
        var report = Reports.make(["push": [100]])
        report.schemaVersion = BenchReport.currentSchemaVersion + 1
        try report.write(path)
        #expect { try BenchReport.read(path) } throws: { error in
            (error as? BenchError)?.message.contains("upgrade ferry") == true
        }
    }

    @Test("median of an even count is the mean of the middle two")
    func median() {
        #expect(Spread([4, 1, 3, 2]) == Spread(median: 2.5, min: 1, max: 4))
        #expect(Spread([7]) == Spread(median: 7, min: 7, max: 7))
    }

    @Test("peer ratio is Ferry's median over the peer's")
    func ratio() {
        let sample = RunSample(wallSeconds: 2, cpuUserSeconds: 0, cpuSystemSeconds: 0, peakRSSBytes: 0, retries: 0, bytes: 200_000_000)
        let peer = PeerResult(name: "skopeo", command: "skopeo copy", runs: [sample], ferryMedian: 250)
        #expect(abs(peer.mbPerSecond.median - 100) < 1e-9)
        #expect(abs(peer.ratio - 2.5) < 1e-9)
    }

    @Test("the table has a line per peer and the plot a bar per series, escaped")
    func tableAndPlot() {
        var report = Reports.make(["push": [400], "hash": [1500]])
        let sample = RunSample(wallSeconds: 1, cpuUserSeconds: 0, cpuSystemSeconds: 0, peakRSSBytes: 0, retries: 0, bytes: 100_000_000)
        report.phases[1].peers = [PeerResult(name: "skopeo <fast>", command: "", runs: [sample], ferryMedian: 400)]
        let table = Table.render(report)
        #expect(table.contains("median MB/s (min–max)"))
        #expect(table.split(separator: "\n").contains { $0.hasPrefix("push") && $0.contains("skopeo <fast>") && $0.contains("4.00×") })
        let one = SVGPlot.render([("ferry 0.1.0", report)])
        #expect(one.hasPrefix("<svg") && one.hasSuffix("</svg>\n"))
        #expect(one.contains("skopeo &lt;fast&gt;") && !one.contains("<fast>"))
        #expect(one.components(separatedBy: "<rect x=").count - 1 == 3)  // ferry push, skopeo push, ferry hash
        let two = SVGPlot.render([("ferry 0.1.0", report), ("ferry 0.2.0", Reports.make(["push": [500]], version: "0.2.0"))])
        #expect(two.contains(">ferry 0.2.0<") && two.contains(">ferry 0.1.0<"))
        #expect(two.components(separatedBy: "<rect x=").count - 1 == 3)  // push × 2 versions, hash × 1
    }
}
