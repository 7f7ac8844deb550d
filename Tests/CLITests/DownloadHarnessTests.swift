import Codec
import Foundation
import OCI
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// Shared parts of the Download*Tests: the fault proxy in front of a real registry, a seeded single-layer image,
// `ferry copy` runs with JSON progress, the partial file's journal, and /proc/net/tcp sampling.

extension DL {
    /// The fault proxy between `ferry` and a registry.
    typealias Proxy = FaultProxy
}

extension DL {
    /// A registry holding one image with one big random layer, and the parts a download test looks at.
    struct SeededImage: Sendable {
        let registry: TestRegistry
        let image: BuiltImage
        let repository: String
        let tag: String
        let work: TemporaryDirectory

        /// The big layer (the blob that is segmented).
        var layer: BuiltImage.Blob { self.image.manifests[0].layers[0].blob }
        var config: BuiltImage.Blob { self.image.manifests[0].config }

        /// `docker://HOST:PORT/repo:tag` through `host` (a proxy address), or straight to the registry.
        func source(via host: String? = nil) -> String {
            "docker://\(host ?? self.registry.address)/\(self.repository):\(self.tag)"
        }

        /// Launches a registry of `variant` and pushes an image whose one layer holds `layerBytes` random bytes.
        static func launch(
            _ variant: RegistryVariant = .http, layerBytes: Int, seed: UInt64, repository: String = "dl/app", tag: String = "1",
            logLevel: String = "warn"
        ) async throws -> DL.SeededImage {
            let registry = try await RegistryLauncher.launch(variant, logLevel: logLevel)
            do {
                let work = try TemporaryDirectory(prefix: "ferry-dl-")
                let image = try await DL.buildImage(ImageSpec(layers: [LayerSpec(size: layerBytes)], seed: seed), at: work.appending("src"), tag: tag)
                try await Seeder(registry).push(image, to: repository, tag: tag)
                try? FileManager.default.removeItem(at: work.appending("src"))
                return DL.SeededImage(registry: registry, image: image, repository: repository, tag: tag, work: work)
            } catch {
                registry.stop()
                throw error
            }
        }

        func stop() {
            self.registry.stop()
            self.work.remove()
        }
    }
}

extension DL {
    /// One `--progress json` line from ferry's stderr.
    struct ProgressLine: Sendable {
        var event: String
        var id: String
        var time: Double
        var reason: String?

        /// The JSON progress lines in `stderr` (other lines are skipped).
        static func parse(_ stderr: String) -> [DL.ProgressLine] {
            stderr.split(separator: "\n").compactMap { line in
                guard line.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let event = object["event"] as? String, let id = object["id"] as? String, let time = object["time"] as? Double
                else { return nil }
                return DL.ProgressLine(event: event, id: id, time: time, reason: object["reason"] as? String)
            }
        }

        /// Seconds from `started` to `finished` of blob `id`.
        static func duration(of id: String, in lines: [DL.ProgressLine]) -> Double? {
            guard let start = lines.first(where: { $0.id == id && $0.event == "started" })?.time,
                let end = lines.last(where: { $0.id == id && $0.event == "finished" })?.time
            else { return nil }
            return end - start
        }
    }
}

extension DL {
    /// Reads a download journal (`<partial>.journal`, format v1): which chunks are done.
    struct JournalFile {
        var size: Int64
        var chunkSize: Int64
        var digest: String
        var done: [Bool]

        var doneCount: Int { self.done.count { $0 } }
        /// Bytes in finished chunks.
        var doneBytes: Int64 {
            self.done.enumerated().reduce(Int64(0)) { sum, item in
                guard item.element else { return sum }
                let start = Int64(item.offset) * self.chunkSize
                return sum + min(self.chunkSize, self.size - start)
            }
        }

        init?(path: String) {
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            let bytes = [UInt8](data)
            func be(_ offset: Int, _ count: Int) -> UInt64 {
                bytes[offset..<offset + count].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            }
            guard bytes.count >= 28, Array(bytes[0..<8]) == Array("FERRYJNL".utf8), be(8, 2) == 1 else { return nil }
            let size = Int64(be(10, 8)), chunk = Int64(be(18, 8)), digestLength = Int(be(26, 2))
            guard chunk > 0, bytes.count >= 28 + digestLength else { return nil }
            let count = Int((size + chunk - 1) / chunk)
            let bitsStart = 28 + digestLength
            guard bytes.count == bitsStart + (count + 7) / 8 else { return nil }
            self.size = size
            self.chunkSize = chunk
            self.digest = String(decoding: bytes[28..<bitsStart], as: UTF8.self)
            self.done = (0..<count).map { bytes[bitsStart + $0 / 8] & (0x80 >> UInt8($0 % 8)) != 0 }
        }
    }
}

/// Helpers of the Download*Tests, in one namespace so they cannot clash with other suites' helpers.
enum DL {
    /// `ImageBuilder.write` blocks its thread for as long as it writes: keep it off the cooperative pool.
    static func buildImage(_ spec: ImageSpec, at url: URL, tag: String) async throws -> BuiltImage {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try ImageBuilder.write(spec, to: url, tag: tag) })
            }
        }
    }

    /// Where `ferry copy … oci:DIR` keeps a blob while it downloads.
    static func partialPath(_ layout: String, _ blob: BuiltImage.Blob) -> String {
        "\(layout)/.ferry/tmp/\(blob.hex).partial"
    }

    /// The sha256 of a file, read in pieces (the test process shares its memory with every other test).
    static func fileSHA256(_ path: String) throws -> String {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var hasher = SHA256()
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
            data.withUnsafeBytes { hasher.update($0) }
        }
        return hasher.hexDigest()
    }

    /// Every file under `blobs/sha256` hashes to its name: nothing unverified reached a final path.
    static func expectOnlyVerifiedBlobs(_ layout: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dir = "\(layout)/blobs/sha256"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            #expect(try DL.fileSHA256("\(dir)/\(name)") == name, "unverified content at blobs/sha256/\(name)", sourceLocation: sourceLocation)
        }
    }

    /// `LayoutCheck.verify` with blobs hashed in pieces: every blob verifies, everything the index reaches is there with
    /// its size. Returns the reachable digests.
    @discardableResult
    static func verifyLayout(_ layout: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Set<String> {
        try DL.expectOnlyVerifiedBlobs(layout, sourceLocation: sourceLocation)
        let blobDir = layout + "/blobs/sha256"
        var reachable = Set<String>()
        let index = try JSONDecoder().decode(ImageIndex.self, from: Data(contentsOf: URL(fileURLWithPath: layout + "/index.json")))
        var queue = index.manifests
        while let d = queue.popLast() {
            guard reachable.insert(d.digest.description).inserted else { continue }
            let path = blobDir + "/" + d.digest.hex
            let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
            #expect(size.map(Int64.init) == d.size, "size of \(d.digest)", sourceLocation: sourceLocation)
            if d.mediaType.isManifest {
                let bytes = try #require(FileManager.default.contents(atPath: path), "missing \(d.digest)", sourceLocation: sourceLocation)
                switch try RawManifest(bytes: [UInt8](bytes), mediaType: d.mediaType).parse() {
                case .index(let i): queue += i.manifests
                case .image(let m): queue += m.blobs
                }
            }
        }
        return reachable
    }

    /// `ferry` started as a child process (for tests that signal it), with the CLI harness's private HOME.
    static func startFerry(_ arguments: [String], home: TemporaryDirectory, output: TemporaryDirectory, name: String) throws -> ChildProcess {
        try ChildProcess(
            [try Binaries.ferry.path] + arguments,
            stdoutFile: output.appending("\(name).stdout"), stderrFile: output.appending("\(name).stderr"),
            environment: ["HOME": home.path, "REGISTRY_AUTH_FILE": "", "DOCKER_CONFIG": ""])
    }

    /// Polls until `condition` holds or `timeout` passes.
    static func waitUntil(_ timeout: Duration, every interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: interval)
        }
        return try await condition()
    }

    /// Waits for a child to exit without blocking a cooperative thread for long.
    static func waitForExit(_ child: ChildProcess, timeout: Duration) async throws -> Bool {
        try await DL.waitUntil(timeout, every: .milliseconds(25)) { !child.isRunning }
    }

    /// Reads a /proc file whole (they report size 0, so read until EOF).
    static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// VmRSS of process `pid` in bytes (0 once it is gone).
    static func residentBytes(of pid: Int32) -> Int {
        guard let text = DL.readProcFile("/proc/\(pid)/status"),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return (line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) } ?? 0) * 1024
    }

    /// A duration in seconds, as a Double.
    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
}

@Suite struct DownloadHarnessTests {
    @Test("the journal reader and the proxy counters agree with a real download (sanity of the harness)")
    func harness() async throws {
        let seeded = try await DL.SeededImage.launch(layerBytes: 3 << 20, seed: 301)
        defer { seeded.stop() }
        let proxy = try await DL.Proxy.start(upstream: seeded.registry.address)
        defer { proxy.stop() }
        let layout = seeded.work.appending("out").path
        let result = try await CLI().run(["copy", "--progress", "json", "--chunk-size", "1MiB", seeded.source(via: proxy.address), "oci:\(layout)"])
        #expect(result.status == 0, "\(result.stderrString)")
        #expect(try DL.verifyLayout(layout) == Set(seeded.image.blobs.map(\.digest)))
        let stats = try await proxy.stats()
        // Each blob's bytes went through exactly once; manifests are counted apart.
        #expect(stats.blobBytes == seeded.layer.size + seeded.config.size)
        let lines = DL.ProgressLine.parse(result.stderrString)
        #expect(DL.ProgressLine.duration(of: seeded.layer.digest, in: lines) != nil)
        #expect(!FileManager.default.fileExists(atPath: DL.partialPath(layout, seeded.layer) + ".journal"), "partial state is removed on success")
    }
}
