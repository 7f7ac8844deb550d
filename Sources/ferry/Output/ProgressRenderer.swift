import Foundation
import Synchronization
import Transfer

/// Renders progress events on stderr, never stdout: on a terminal an overall line and one line per active
/// transfer, redrawn in place a few times a second; without one (CI, pipes) a plain line every few seconds and one
/// per finished image; with `--progress json` the JSON lines documented in docs/progress-json.md.
final class ProgressRenderer: Sendable {
    struct Transfer {
        var total: Int64
        var done: Int64 = 0
        var shownDone: Int64 = 0
        var rate: Double = 0
        var retries = 0
    }

    struct State {
        var transfers: [String: Transfer] = [:]
        var total: Int64 = 0
        /// Announced by the job once planned; the shown total never drops below it.
        var planned: Int64 = 0
        var done: Int64 = 0
        var finished = 0
        var skipped = 0
        var mounted = 0
        var retries = 0
        var imagesDone = 0
        var imagesTotal: Int?
        var drawnLines = 0
        var samples: [(Date, Int64)] = []
        var pendingLines: [String] = []

        /// The total the progress lines show: never below what was planned.
        var shownTotal: Int64 { max(self.total, self.planned) }
    }

    let mode: ProgressMode
    /// `--quiet`: no progress and no summary; `--progress none` drops only the progress.
    let quiet: Bool
    let start = Date()
    private let state = Mutex(State())
    private let ticker = Mutex<Task<Void, Never>?>(nil)

    init(mode: ProgressMode, quiet: Bool) {
        self.quiet = quiet
        if quiet {
            self.mode = .none
        } else if mode == .auto {
            self.mode = isatty(STDERR_FILENO) != 0 ? .tty : .plain
        } else {
            self.mode = mode
        }
        guard self.mode != .none else { return }
        let interval: UInt64 = self.mode == .tty ? 250_000_000 : self.mode == .json ? 1_000_000_000 : 5_000_000_000
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: interval)
                guard let self, !Task.isCancelled else { return }
                self.tick()
            }
        }
        self.ticker.withLock { $0 = task }
    }

    deinit { self.ticker.withLock { $0?.cancel() } }

    /// How many images the job moves, for the overall line.
    func expect(images: Int) {
        self.state.withLock { $0.imagesTotal = images }
    }

    var handler: ProgressHandler? {
        if self.mode == .none { return nil }
        return { @Sendable [self] event in self.handle(event) }
    }

    private func handle(_ event: ProgressEvent) {
        let line: String? = self.state.withLock { s in
            switch event.kind {
            case .started(let total):
                if s.transfers[event.id] == nil {
                    s.transfers[event.id] = Transfer(total: total)
                    s.total += total
                }
            case .bytes(let n):
                s.transfers[event.id]?.done += n
                s.done += n
            case .retried:
                s.retries += 1
                s.transfers[event.id]?.retries += 1
            case .finished:
                if let t = s.transfers.removeValue(forKey: event.id) {
                    // A resumed blob reports only what it fetched: count it whole once done.
                    s.done += max(0, t.total - t.done)
                }
                s.finished += 1
            case .skipped(let total):
                s.skipped += 1
                s.total += total
                s.done += total
            case .mounted(let total):
                s.mounted += 1
                s.total += total
                s.done += total
            case .planned(let total):
                s.planned += total
            case .imageFinished(let reference):
                s.imagesDone += 1
                if self.mode == .plain { return "\(self.elapsed()) image done: \(reference)" }
            }
            return self.mode == .json ? Self.json(event) : nil
        }
        if let line { Self.write(line + "\n") }
    }

    private func tick() {
        let text: String? = self.state.withLock { s in
            let now = Date()
            s.samples.append((now, s.done))
            s.samples.removeAll { now.timeIntervalSince($0.0) > 5 }
            switch self.mode {
            case .tty: return self.drawTTY(&s)
            case .plain: return "\(self.elapsed()) " + Self.overall(s)
            case .json:
                let object: [String: Any] = ["event": "progress", "done": s.done, "total": s.shownTotal, "bytes_per_second": Int(Self.rate(s)), "time": now.timeIntervalSince1970]
                return Self.encode(object)
            default: return nil
            }
        }
        if let text { Self.write(self.mode == .tty ? text : text + "\n") }
    }

    /// The overall line and one line per active transfer, replacing what was drawn before.
    private func drawTTY(_ s: inout State) -> String {
        let width = max(40, Self.terminalWidth() - 1)
        var lines = [String(Self.overall(s).prefix(width))]
        let active = s.transfers.sorted { $0.value.total > $1.value.total }.prefix(8)
        for (id, t) in active {
            let rate = Double(t.done - t.shownDone) * 4
            s.transfers[id]?.rate = (t.rate * 3 + rate) / 4
            s.transfers[id]?.shownDone = t.done
            let fraction = t.total > 0 ? Double(t.done) / Double(t.total) : 1
            let bar = String(repeating: "█", count: Int(fraction * 20)) + String(repeating: "·", count: 20 - Int(fraction * 20))
            let short = id.hasPrefix("sha256:") ? String(id.dropFirst(7).prefix(12)) : String(id.prefix(12))
            var line = "  \(short) \(bar) \(ByteCount(t.done))/\(ByteCount(t.total)) \(ByteCount(Int64(s.transfers[id]?.rate ?? 0)))/s"
            if t.retries > 0 { line += " retries \(t.retries)" }
            lines.append(String(line.prefix(width)))
        }
        if s.transfers.count > active.count { lines.append("  … and \(s.transfers.count - active.count) more") }
        var out = s.drawnLines > 0 ? "\u{1B}[\(s.drawnLines)F" : ""
        for line in lines { out += "\u{1B}[2K" + line + "\n" }
        out += "\u{1B}[J"
        s.drawnLines = lines.count
        return out
    }

    static func overall(_ s: State) -> String {
        let rate = Self.rate(s)
        var parts: [String] = []
        if let total = s.imagesTotal { parts.append("images \(s.imagesDone)/\(total)") }
        let total = s.shownTotal
        let percent = total > 0 ? " (\(Int(Double(s.done) * 100 / Double(total)))%)" : ""
        parts.append("\(ByteCount(s.done)) / \(ByteCount(total))\(percent)")
        parts.append("\(ByteCount(Int64(rate)))/s")
        if rate > 0 && total > s.done { parts.append("ETA \(Self.duration(Double(total - s.done) / rate))") }
        var blobs = "blobs \(s.finished) done"
        if s.skipped > 0 { blobs += ", \(s.skipped) present" }
        if s.mounted > 0 { blobs += ", \(s.mounted) mounted" }
        blobs += ", \(s.transfers.count) active"
        parts.append(blobs)
        if s.retries > 0 { parts.append("retries \(s.retries)") }
        return parts.joined(separator: "  ")
    }

    static func rate(_ s: State) -> Double {
        guard let first = s.samples.first, let last = s.samples.last, last.0 > first.0 else { return 0 }
        return Double(last.1 - first.1) / last.0.timeIntervalSince(first.0)
    }

    /// Stops redrawing and clears the live lines, so the summary starts clean.
    func finish() {
        self.ticker.withLock { t in
            t?.cancel()
            t = nil
        }
        let clear: String? = self.state.withLock { s in
            guard self.mode == .tty, s.drawnLines > 0 else { return nil }
            defer { s.drawnLines = 0 }
            return "\u{1B}[\(s.drawnLines)F\u{1B}[J"
        }
        if let clear { Self.write(clear) }
    }

    /// The end-of-job summary: a human line, or one JSON object with `--progress json`. Not shown with `--quiet`.
    func summary(_ line: String, fields: [String: Any]) {
        self.finish()
        guard !self.quiet else { return }
        switch self.mode {
        case .json:
            var object = fields
            object["event"] = "summary"
            object["seconds"] = Date().timeIntervalSince(self.start)
            object["retries"] = self.state.withLock { $0.retries }
            if let text = Self.encode(object) { Self.write(text + "\n") }
        default:
            Self.write(line + "\n")
        }
    }

    var retries: Int { self.state.withLock { $0.retries } }

    private func elapsed() -> String { "[\(Self.duration(Date().timeIntervalSince(self.start)))]" }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }

    static func json(_ event: ProgressEvent) -> String? {
        var object: [String: Any] = ["id": event.id, "time": Date().timeIntervalSince1970]
        switch event.kind {
        case .started(let total): object["event"] = "started"; object["total"] = total
        case .bytes: return nil
        case .finished: object["event"] = "finished"
        case .skipped(let total): object["event"] = "skipped"; object["total"] = total
        case .mounted(let total): object["event"] = "mounted"; object["total"] = total
        case .retried(let attempt, let reason): object["event"] = "retried"; object["attempt"] = attempt; object["reason"] = reason
        case .imageFinished(let reference): object["event"] = "image_finished"; object["reference"] = reference; object["id"] = nil
        case .planned: return nil
        }
        return Self.encode(object)
    }

    static func encode(_ object: [String: Any]) -> String? {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func terminalWidth() -> Int {
        var size = winsize()
        return ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }

    static func write(_ s: String) {
        FileHandle.standardError.write(Data(s.utf8))
    }
}

/// Bytes in IEC units, as people read them.
struct ByteCount: CustomStringConvertible {
    let value: Int64
    init(_ value: Int64) { self.value = value }
    var description: String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(self.value)
        var i = 0
        while abs(v) >= 1024 && i < units.count - 1 {
            v /= 1024
            i += 1
        }
        return i == 0 ? "\(self.value) B" : String(format: "%.1f %@", v, units[i])
    }
}
