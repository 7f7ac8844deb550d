import Codec
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real registry holding one image with one random layer: the blob the engine and the downloads fetch.
struct BlobFixture: Sendable {
    let registry: TestRegistry
    let image: BuiltImage
    let work: TemporaryDirectory
    static let repository = "transfer/blob"

    var blob: BuiltImage.Blob { self.image.manifests[0].layers[0].blob }

    /// `http://HOST:PORT/v2/transfer/blob/blobs/sha256:…` at the registry or through `host` (a proxy).
    func url(via host: String? = nil) -> String {
        "http://\(host ?? self.registry.address)/v2/\(Self.repository)/blobs/\(self.blob.digest)"
    }

    static func launch(layerBytes: Int, seed: UInt64) async throws -> BlobFixture {
        let registry = try await RegistryLauncher.launch(.http)
        do {
            let work = try TemporaryDirectory(prefix: "ferry-transfer-")
            let spec = ImageSpec(layers: [LayerSpec(size: layerBytes)], seed: seed)
            let image = try await withCheckedThrowingContinuation { continuation in
                // ImageBuilder blocks its thread while it writes: keep it off the cooperative pool.
                DispatchQueue.global().async {
                    continuation.resume(with: Result { try ImageBuilder.write(spec, to: work.appending("src"), tag: "1") })
                }
            }
            try await Seeder(registry).push(image, to: Self.repository, tag: "1")
            return BlobFixture(registry: registry, image: image, work: work)
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

/// The fault proxy in front of the registry, for faults (hold, throttle) and counters.
typealias TestProxy = FaultProxy

func sha256Hex(_ bytes: [UInt8]) -> String {
    var h = SHA256()
    bytes.withUnsafeBytes { h.update($0) }
    return h.hexDigest()
}

func sha256Hex(file path: String) throws -> String {
    let handle = try #require(FileHandle(forReadingAtPath: path))
    defer { try? handle.close() }
    var h = SHA256()
    while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
        data.withUnsafeBytes { h.update($0) }
    }
    return h.hexDigest()
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(_ timeout: Duration, every interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}

extension Duration {
    var seconds: Double { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
}

/// A /proc file, read until EOF (they report a size of 0).
func readProcFile(_ path: String) -> String? {
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

/// This process's resident set (VmRSS), in bytes.
func residentBytes() -> Int {
    guard let text = readProcFile("/proc/self/status"), let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
    let kib = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) } ?? 0
    return kib * 1024
}
