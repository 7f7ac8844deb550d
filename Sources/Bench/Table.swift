/// The readable table `ferry bench` prints on stderr:
/// `phase  bytes  median MB/s (min–max)  cpu s  peak RSS  retries  peer  ratio`, one line per peer.
public enum Table {
    public static func render(_ report: BenchReport) -> String {
        let header = ["phase", "bytes", "median MB/s (min–max)", "cpu s", "peak RSS", "retries", "peer", "peer MB/s", "ratio"]
        var rows: [[String]] = []
        for phase in report.phases {
            let spread = phase.mbPerSecond
            var first = [
                phase.phase.rawValue, Format.bytes(phase.bytes),
                "\(Format.rate(spread.median)) (\(Format.rate(spread.min))–\(Format.rate(spread.max)))",
                String(format: "%.2f", phase.runs.medianCPUSeconds), Format.megabytes(phase.runs.maxPeakRSS),
                "\(phase.runs.totalRetries)",
            ]
            if phase.peers.isEmpty {
                rows.append(first + ["", "", ""])
                continue
            }
            for (index, peer) in phase.peers.enumerated() {
                if index > 0 { first = Array(repeating: "", count: first.count) }
                rows.append(first + [peer.name, Format.rate(peer.mbPerSecond.median), Format.ratio(peer.ratio)])
            }
        }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        // Numbers right-aligned, names left-aligned.
        let leftAligned: Set<Int> = [0, 6]
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return leftAligned.contains(column) ? cell + pad : pad + cell
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        var out = [line(header)]
        out += rows.map(line)
        let m = report.machine
        out.append(
            "ferry \(report.ferryVersion), \(report.parameters.runs) run\(report.parameters.runs == 1 ? "" : "s") each; "
                + "\(m.cores) cores, \(m.os), load \(String(format: "%.2f", m.loadAverageStart))→\(String(format: "%.2f", m.loadAverageEnd)); "
                + "ratio = ferry MB/s ÷ peer MB/s (above 1: ferry faster)")
        return out.joined(separator: "\n")
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
