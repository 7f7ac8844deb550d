/// Draws MB/s per phase as an SVG, by hand (no dependencies): one block per phase, one horizontal bar per series
/// with a min–max whisker and its median written at the end. One report: Ferry and each peer. Several reports
/// (e.g. one per version): Ferry of each, in the order given. Each phase has its own scale (MB/s of a codec
/// and of a throttled link differ a hundredfold), so bars compare within a phase, not across phases.
public enum SVGPlot {
    struct Bar {
        var label: String
        var spread: Spread
        var color: String
        var note: String?
    }

    static let ferryColor = "#2b6cb0"
    /// One colour per tool across the whole picture; Ferry in another configuration is a lighter blue.
    static func color(forPeer name: String) -> String {
        if name.hasPrefix("ferry") { return "#90cdf4" }
        if name.hasPrefix("skopeo") { return "#dd6b20" }
        if name.hasPrefix("aria2") { return "#38a169" }
        if name.hasPrefix("pigz") { return "#805ad5" }
        if name.hasPrefix("zstd") { return "#d53f8c" }
        return "#718096"
    }
    static let earlierColors = ["#a0aec0", "#90cdf4", "#cbd5e0", "#63b3ed"]

    /// - Parameters:
    ///   - reports: the reports with a label each (a version, or a file name when versions repeat).
    public static func render(_ reports: [(label: String, report: BenchReport)]) -> String {
        let phases = Phase.allCases.filter { phase in reports.contains { $0.report.phase(phase) != nil } }
        var blocks: [(title: String, bars: [Bar])] = []
        for phase in phases {
            var bars: [Bar] = []
            if reports.count == 1, let result = reports[0].report.phase(phase) {
                bars.append(Bar(label: "ferry", spread: result.mbPerSecond, color: Self.ferryColor))
                for peer in result.peers {
                    bars.append(Bar(
                        label: peer.name, spread: peer.mbPerSecond, color: Self.color(forPeer: peer.name),
                        note: "ferry \(Format.ratio(peer.ratio))"))
                }
                blocks.append(("\(phase.rawValue) — \(Format.bytes(result.bytes))", bars))
            } else {
                for (index, entry) in reports.enumerated() {
                    guard let result = entry.report.phase(phase) else { continue }
                    // The last report (usually the newest) in Ferry's blue, earlier ones in lighter shades.
                    let color = index == reports.count - 1 ? Self.ferryColor : Self.earlierColors[index % Self.earlierColors.count]
                    bars.append(Bar(label: entry.label, spread: result.mbPerSecond, color: color))
                }
                blocks.append((phase.rawValue, bars))
            }
        }

        let width = 900, labelWidth = 190, barArea = 470, barHeight = 18, gap = 6, titleHeight = 24, blockGap = 14
        let top = 64
        var y = top
        var body: [String] = []
        for block in blocks {
            body.append(#"<text x="16" y="\#(y + 16)" class="phase">\#(Self.escape(block.title))</text>"#)
            y += titleHeight
            let scale = block.bars.map { max($0.spread.max, $0.spread.median) }.max() ?? 1
            for bar in block.bars {
                let length = scale > 0 ? Double(barArea) * bar.spread.median / scale : 0
                let x0 = labelWidth
                body.append(#"<text x="\#(x0 - 8)" y="\#(y + 13)" class="label" text-anchor="end">\#(Self.escape(bar.label))</text>"#)
                body.append(#"<rect x="\#(x0)" y="\#(y)" width="\#(Self.n(max(length, 1)))" height="\#(barHeight)" fill="\#(bar.color)" rx="2"/>"#)
                if scale > 0, bar.spread.max > bar.spread.min {
                    let a = Double(x0) + Double(barArea) * bar.spread.min / scale
                    let b = Double(x0) + Double(barArea) * bar.spread.max / scale
                    let mid = Double(y) + Double(barHeight) / 2
                    body.append(#"<path d="M\#(Self.n(a)) \#(Self.n(mid))H\#(Self.n(b))M\#(Self.n(a)) \#(Self.n(mid - 4))V\#(Self.n(mid + 4))M\#(Self.n(b)) \#(Self.n(mid - 4))V\#(Self.n(mid + 4))" class="whisker"/>"#)
                }
                var value = "\(Format.rate(bar.spread.median)) MB/s"
                if let note = bar.note { value += "  (\(note))" }
                let textX = Double(x0) + max(length, Double(barArea) * bar.spread.max / max(scale, 1e-9)) + 8
                body.append(#"<text x="\#(Self.n(textX))" y="\#(y + 13)" class="value">\#(Self.escape(value))</text>"#)
                y += barHeight + gap
            }
            y += blockGap
        }
        let height = y + 24
        let first = reports.first?.report
        let subtitle: String
        if reports.count == 1, let r = first {
            subtitle = "ferry \(r.ferryVersion), \(r.date), median of \(r.parameters.runs) run(s), whiskers min–max; \(r.machine.cores) cores, load \(String(format: "%.1f", r.machine.loadAverageStart))"
        } else {
            subtitle = "median MB/s per version, whiskers min–max: " + reports.map(\.label).joined(separator: ", ")
        }
        var svg = [
            #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(width)" height="\#(height)" viewBox="0 0 \#(width) \#(height)" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">"#,
            "<style>.title{font-size:18px;font-weight:bold;fill:#1a202c}.sub{font-size:12px;fill:#4a5568}.phase{font-size:14px;font-weight:bold;fill:#2d3748}.label{font-size:12px;fill:#2d3748}.value{font-size:12px;fill:#1a202c}.whisker{stroke:#1a202c;stroke-width:1.2;fill:none}</style>",
            ##"<rect width="100%" height="100%" fill="#ffffff"/>"##,
            #"<text x="16" y="26" class="title">ferry bench: throughput per phase (MB/s, higher is better)</text>"#,
            #"<text x="16" y="46" class="sub">\#(Self.escape(subtitle)); each phase on its own scale</text>"#,
        ]
        svg += body
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    static func n(_ x: Double) -> String {
        let rounded = (x * 10).rounded() / 10
        return rounded == rounded.rounded() ? "\(Int(rounded))" : "\(rounded)"
    }
}
