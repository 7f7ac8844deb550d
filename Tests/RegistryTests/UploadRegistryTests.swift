import Codec
import Foundation
import OCI
import TestSupport
import Testing
import Transfer
@testable import Registry

#if canImport(Glibc)
    import Glibc
#endif

/// `BlobUpload` against the real Distribution registry: monolithic and chunked, skip, mount, resume from the
/// journal, and a session the registry no longer honours.
@Suite struct UploadRegistryTests {
    /// A file of random bytes and its digest.
    struct BlobFixture {
        let path: String
        let size: Int64
        let digest: Digest

        init(in dir: TemporaryDirectory, name: String, size: Int, seed: UInt8) throws {
            let bytes = randomBytes(size, seed: UInt64(seed))
            self.path = dir.appending(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: self.path))
            self.size = Int64(size)
            self.digest = try Digest(sha256Hex: SHA256.hexDigest(bytes))
        }
    }

    static func client(_ address: String) throws -> RegistryClient {
        try RegistryClient(registry: address, engine: CurlEngine(), options: RegistryOptions(retry: RetryPolicy(attempts: 4, baseDelay: 0.05)))
    }

    func upload(_ client: RegistryClient, _ repository: String, _ blob: BlobFixture, chunk: Int64, journal: UploadJournal? = nil, mountFrom: String? = nil) async throws -> BlobUpload.Outcome {
        try await BlobUpload(
            client: client, repository: repository, digest: blob.digest, size: blob.size, file: blob.path,
            options: UploadOptions(chunkSize: chunk, journal: journal)
        ).run(mountFrom: mountFrom)
    }

    @Test("monolithic and chunked uploads commit; the second time the blob is skipped; another repository mounts it")
    func uploadSkipMount() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let dir = try TemporaryDirectory()
        let big = try BlobFixture(in: dir, name: "big", size: 3_500_000, seed: 1)
        let small = try BlobFixture(in: dir, name: "small", size: 1000, seed: 2)
        let client = try Self.client(registry.address)

        #expect(try await self.upload(client, "up/a", big, chunk: 1 << 20) == .uploaded(sent: big.size, resumedAt: 0, restarts: 0))
        #expect(try await self.upload(client, "up/a", small, chunk: 1 << 20) == .uploaded(sent: small.size, resumedAt: 0, restarts: 0))
        #expect(try await client.hasBlob(repository: "up/a", digest: big.digest))
        #expect(try await self.upload(client, "up/a", big, chunk: 1 << 20) == .skipped)
        #expect(try await self.upload(client, "up/b", big, chunk: 1 << 20, mountFrom: "up/a") == .mounted(from: "up/a"))
        #expect(try await client.hasBlob(repository: "up/b", digest: big.digest))
        // A mount from a repository that lacks the blob falls back to an upload in the session it opened.
        #expect(try await self.upload(client, "up/c", small, chunk: 1 << 20, mountFrom: "up/nothing") == .uploaded(sent: small.size, resumedAt: 0, restarts: 0))
    }

    @Test("a journaled session goes on from the registry's offset, and the journal is gone once the blob is committed")
    func resumeFromJournal() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let dir = try TemporaryDirectory()
        let blob = try BlobFixture(in: dir, name: "blob", size: 3 << 20, seed: 3)
        let journal = UploadJournal(directory: dir.appending("state").path)
        let client = try Self.client(registry.address)

        // What a killed run leaves: one PATCH acknowledged and journaled.
        guard case .session(let opened, _) = try await client.startUpload(repository: "up/r") else { Issue.record("no session"); return }
        let (response, _) = try await client.patch(opened, repository: "up/r", body: .file(path: blob.path, offset: 0, length: 1 << 20), length: 1 << 20)
        #expect(response.status == 202)
        let after = try UploadSession.from(response, fallbackOffset: 1 << 20)
        try journal.record(registry: registry.address, repository: "up/r", digest: blob.digest, size: blob.size, session: after)

        let outcome = try await self.upload(client, "up/r", blob, chunk: 1 << 20, journal: journal)
        #expect(outcome == .uploaded(sent: blob.size - (1 << 20), resumedAt: 1 << 20, restarts: 0))
        #expect(journal.entry(registry: registry.address, repository: "up/r", digest: blob.digest, size: blob.size) == nil)
    }

    @Test("a journaled URL the registry has moved past (a PATCH cut half way) answers BLOB_UPLOAD_INVALID: the blob starts again")
    func staleSessionStartsAgain() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let dir = try TemporaryDirectory()
        let blob = try BlobFixture(in: dir, name: "blob", size: 2 << 20, seed: 4)
        let journal = UploadJournal(directory: dir.appending("state").path)
        let client = try Self.client(registry.address)

        guard case .session(let opened, _) = try await client.startUpload(repository: "up/s") else { Issue.record("no session"); return }
        // The journal holds the URL from before a PATCH the registry took (in part or whole).
        try journal.record(registry: registry.address, repository: "up/s", digest: blob.digest, size: blob.size, session: opened)
        let (response, _) = try await client.patch(opened, repository: "up/s", body: .file(path: blob.path, offset: 0, length: 500_000), length: 500_000)
        #expect(response.status == 202)
        #expect(try await client.uploadStatus(opened, repository: "up/s") == nil, "Distribution refuses the stale signed URL")

        let outcome = try await self.upload(client, "up/s", blob, chunk: 1 << 20, journal: journal)
        #expect(outcome == .uploaded(sent: blob.size, resumedAt: 0, restarts: 0))
        #expect(try await client.hasBlob(repository: "up/s", digest: blob.digest))
    }

    @Test("the link drops in the middle of a PATCH: the registry keeps half a chunk, so the blob starts again in the same run")
    func linkCutMidPatch() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let dir = try TemporaryDirectory()
        let blob = try BlobFixture(in: dir, name: "blob", size: 6 << 20, seed: 5)
        let port = try FreePort.pick()
        func proxy(_ faults: [String]) throws -> ChildProcess {
            var argv = [try Binaries.testkit.path, "proxy", "--listen", "127.0.0.1:\(port)", "--upstream", registry.address]
            for f in faults { argv += ["--fault", f] }
            let tag = UUID().uuidString.prefix(6)
            return try ChildProcess(argv, stdoutFile: dir.appending("\(tag).out"), stderrFile: dir.appending("\(tag).err"))
        }
        // 2 MiB PATCHes: the first quickly, the second at 1 MB/s (two seconds), so there is slack on a busy machine.
        let slow = try proxy(["throttle=100000000,method=PATCH,count=1", "throttle=1000000,method=PATCH"])
        defer { slow.stop() }
        try await Self.waitForListening(slow)
        let client = try Self.client("127.0.0.1:\(port)")
        let run = Task {
            try await BlobUpload(
                client: client, repository: "up/cut", digest: blob.digest, size: blob.size, file: blob.path,
                options: UploadOptions(chunkSize: 2 << 20, attempts: 8)
            ).run()
        }
        // Once the registry holds a quarter MiB of the second PATCH, the link goes; it comes back without the throttle.
        while Self.pendingUploadBytes(registry, repository: "up/cut") < (2 << 20) + (1 << 18) { try await Task.sleep(for: .milliseconds(10)) }
        kill(slow.pid, SIGKILL)
        _ = slow.waitForExit(.seconds(5))
        let fast = try proxy([])
        defer { fast.stop() }
        try await Self.waitForListening(fast)

        let outcome = try await run.value
        guard case .uploaded(_, let resumedAt, let restarts) = outcome else { Issue.record("\(outcome)"); return }
        #expect(resumedAt == 0)
        #expect(restarts >= 1, "the session the registry kept half a PATCH in can't be continued")
        #expect(try await client.hasBlob(repository: "up/cut", digest: blob.digest))
    }

    /// Bytes the registry holds in the unfinished uploads of `repository` (its `_uploads/*/data` files).
    static func pendingUploadBytes(_ registry: TestRegistry, repository: String) -> Int {
        let dir = registry.rootDirectory.path + "/docker/registry/v2/repositories/\(repository)/_uploads"
        let uploads = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return uploads.compactMap { (try? FileManager.default.attributesOfItem(atPath: "\(dir)/\($0)/data"))?[.size] as? Int }.max() ?? 0
    }

    static func waitForListening(_ process: ChildProcess) async throws {
        for _ in 0..<400 {
            if process.stdout().contains("listening ") { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestSupportError("proxy did not start: \(process.stderr())")
    }
}
