import Foundation
import Synchronization
import Transfer

/// Turns progress events into a line on stderr: redrawn in place on a terminal, every few seconds otherwise,
/// or JSON lines with `--progress json`.
final class ProgressRenderer: Sendable {
    struct Counters {
        var total: Int64 = 0
        var done: Int64 = 0
        var started = 0
        var finished = 0
        var skipped = 0
        var retries = 0
        /// The first line waits one interval too: a job that ends quickly prints only its summary.
        var lastDraw = Date()
        var drew = false
    }

    let mode: ProgressMode
    let start = Date()
    private let counters = Mutex(Counters())

    init(mode: ProgressMode, quiet: Bool) {
        if quiet {
            self.mode = .none
        } else if mode == .auto {
            self.mode = isatty(STDERR_FILENO) != 0 ? .tty : .plain
        } else {
            self.mode = mode
        }
    }

    var handler: ProgressHandler? {
        if self.mode == .none { return nil }
        return { @Sendable [self] event in self.handle(event) }
    }

    private func handle(_ event: ProgressEvent) {
        var jsonLine: String?
        let line: String? = self.counters.withLock { c in
            switch event.kind {
            case .started(let total):
                c.total += total
                c.started += 1
            case .bytes(let n): c.done += n
            case .finished: c.finished += 1
            case .skipped(let total), .mounted(let total):
                c.skipped += 1
                c.total += total
                c.done += total
            case .retried: c.retries += 1
            case .imageFinished: break
            }
            if self.mode == .json {
                jsonLine = Self.json(event)
                return nil
            }
            let now = Date()
            let interval = self.mode == .tty ? 0.25 : 3.0
            guard now.timeIntervalSince(c.lastDraw) >= interval else { return nil }
            c.lastDraw = now
            c.drew = true
            return Self.format(c, elapsed: now.timeIntervalSince(self.start))
        }
        if let j = jsonLine { Self.write(j + "\n") }
        if let l = line { Self.write(self.mode == .tty ? "\r\u{1B}[2K" + l : l + "\n") }
    }

    /// Clears the live line so the summary starts on a clean one.
    func finish() {
        let drew = self.counters.withLock { $0.drew }
        if self.mode == .tty && drew { Self.write("\r\u{1B}[2K") }
    }

    static func format(_ c: Counters, elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(c.done) / elapsed : 0
        var s = "\(ByteCount(c.done)) / \(ByteCount(c.total))  \(ByteCount(Int64(rate)))/s  blobs \(c.finished + c.skipped)/\(c.started + c.skipped)"
        if c.retries > 0 { s += "  retries \(c.retries)" }
        return s
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
        case .imageFinished(let reference): object["event"] = "image_finished"; object["reference"] = reference
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return nil }
        return String(decoding: data, as: UTF8.self)
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
