import ArgumentParser
import Mirror
import Transfer

/// Options of commands that move images.
struct TransferOptions: ParsableArguments {
    @Option(help: ArgumentHelp("OS/ARCH[/VARIANT] to keep, or all (the whole index).", valueName: "platform"))
    var platform: String = "all"

    @Option(help: "Blobs in flight at once.")
    var jobs: Int = 8

    @Option(help: "Parallel Range connections for one large blob.")
    var connections: Int = 4

    @Option(name: .customLong("split-after"), help: ArgumentHelp(
        "Extra connections join a blob when its connection would need more than this for what is left (a capped or distant link) and fewer than --jobs connections are in flight; 0: all at once.",
        valueName: "seconds"))
    var splitAfter: Double = 1

    @Option(name: .customLong("chunk-size"), help: ArgumentHelp("Chunk size: the unit of resume (e.g. 16MiB).", valueName: "size"))
    var chunkSize: ByteSize = ByteSize(16 << 20)

    @Option(name: .customLong("stall-timeout"), help: ArgumentHelp("Seconds without data before a connection is retried.", valueName: "seconds"))
    var stallTimeout: Double = 30

    func validate() throws {
        try Self.check(jobs: self.jobs, stallTimeout: self.stallTimeout)
        guard self.connections >= 1 else { throw ValidationError("--connections must be at least 1") }
        guard self.splitAfter >= 0 else { throw ValidationError("--split-after must be 0 (all at once) or more seconds") }
    }

    /// Also for `load`, which has these two options of its own.
    static func check(jobs: Int, stallTimeout: Double) throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard stallTimeout > 0 else { throw ValidationError("--stall-timeout must be more than 0 seconds") }
    }

    func platformChoice() throws -> PlatformChoice {
        try PlatformChoice(parsing: self.platform)
    }

    func downloadOptions(retries: Int) -> DownloadOptions {
        var options = DownloadOptions(connections: self.connections, chunkSize: self.chunkSize.bytes, attempts: retries + 1, stallTimeout: self.stallTimeout)
        options.splitThreshold = self.splitAfter
        return options
    }
}

/// A size on the command line: `1048576`, `64KiB`, `16MiB`, `1GiB`, `10MB`.
struct ByteSize: ExpressibleByArgument {
    let bytes: Int64

    init(_ bytes: Int64) { self.bytes = bytes }

    init?(argument: String) {
        let units: [(String, Int64)] = [
            ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1000),
            ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10), ("B", 1),
        ]
        for (suffix, factor) in units where argument.hasSuffix(suffix) {
            guard let n = Double(argument.dropLast(suffix.count)), n > 0 else { return nil }
            self.bytes = Int64(n * Double(factor))
            return
        }
        guard let n = Int64(argument), n > 0 else { return nil }
        self.bytes = n
    }

    var defaultValueDescription: String { "\(self.bytes)" }
}
