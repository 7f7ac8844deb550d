import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Cleans up after launchers that died without stopping their registries (SIGKILL, a crash, Ctrl-C between
/// signal handlers): the next launch removes their work directories, whose storage can hold gigabytes after a
/// perf run, and kills registries and helpers those launchers left running.
///
/// Each work directory records its owner's PID and its children's PIDs with their exact argv. A directory is
/// abandoned only when its owner is gone, and a child is killed only if `/proc/PID/cmdline` still matches its
/// argv, so a reused PID is never hit. Directories without an owner record are never touched.
enum RegistryJanitor {
    static let prefix = "ferry-registry-"
    private static let ownerFile = "owner.pid"
    private static let childrenFile = "children"

    /// Marks `work` as owned by this process.
    static func claim(_ work: TemporaryDirectory) throws {
        try "\(getpid())\n".write(to: work.appending(self.ownerFile), atomically: true, encoding: .utf8)
    }

    /// Notes a child started for the registry in `work`.
    static func record(_ child: ChildProcess, in work: TemporaryDirectory) {
        // One line a child: PID, tab, argv joined with NUL written as \u{1} (argv never holds either).
        let line = "\(child.pid)\t" + child.argv.joined(separator: "\u{1}") + "\n"
        let url = work.appending(self.childrenFile)
        if let handle = try? FileHandle(forWritingTo: url) {
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: Data(line.utf8))
            try? handle.close()
        } else {
            try? line.write(to: url, atomically: true, encoding: .utf8)
        }
    }

    /// Removes work directories of dead launchers, killing what they left running.
    static func sweep() {
        let temporary = URL(fileURLWithPath: NSTemporaryDirectory(), isDirectory: true)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: temporary.path) else { return }
        for entry in entries where entry.hasPrefix(self.prefix) {
            let directory = temporary.appendingPathComponent(entry, isDirectory: true)
            let ownerURL = directory.appendingPathComponent(self.ownerFile)
            guard let owner = try? String(contentsOf: ownerURL, encoding: .utf8),
                let ownerPID = Int32(owner.trimmingCharacters(in: .whitespacesAndNewlines)),
                !self.isAlive(ownerPID)
            else { continue }
            let childrenURL = directory.appendingPathComponent(self.childrenFile)
            let children = (try? String(contentsOf: childrenURL, encoding: .utf8)) ?? ""
            for line in children.split(separator: "\n") {
                let parts = line.split(separator: "\t", maxSplits: 1)
                guard parts.count == 2, let pid = Int32(parts[0]) else { continue }
                let argv = parts[1].split(separator: "\u{1}", omittingEmptySubsequences: false).map(String.init)
                // argv[0] is the name we gave, the kernel has the path ProcessRunner resolved it to.
                if let running = self.commandLine(of: pid), running.count == argv.count,
                    running.dropFirst() == argv.dropFirst(),
                    running.first?.split(separator: "/").last == argv.first?.split(separator: "/").last
                {
                    kill(pid, SIGKILL)
                }
            }
            try? FileManager.default.removeItem(at: directory)
        }
    }

    private static func isAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// The argv of a running process, from `/proc/PID/cmdline`; nil if there is no such process.
    private static func commandLine(of pid: Int32) -> [String]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        return data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0, as: UTF8.self)
        }
    }
}
