import Dispatch
import Foundation
import TestSupport

/// Subcommands that give scripts (`make demo`, `perf/`, `ferry bench`) the same real test parts the Swift tests
/// use: a launched registry, synthetic images, and seeding.
enum FixtureCommands {
    /// `registry --variant http|https|https-basic|http-basic|token|redirect [--user U:P] [--root DIR] [--info FILE]`:
    /// starts a real registry, prints `listening HOST:PORT`, writes its details as JSON to `--info`, and
    /// stops it (and its helpers) on SIGTERM/SIGINT.
    static func registry(_ argv: ArraySlice<String>) throws {
        let args = try Arguments(argv, options: ["variant", "user", "root", "info", "log-level"])
        let user = try args.optional("user").map { text -> Credentials in
            guard let colon = text.firstIndex(of: ":") else { throw UsageError("--user must be NAME:PASSWORD") }
            return Credentials(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
        }
        let variant: RegistryVariant
        switch args.optional("variant") ?? "http" {
        case "http": variant = .http
        case "http-basic": variant = .httpBasicAuth(try user ?? { throw UsageError("http-basic needs --user") }())
        case "https": variant = .https(basicAuth: user)
        case "https-basic": variant = .https(basicAuth: try user ?? { throw UsageError("https-basic needs --user") }())
        case "token": variant = .token(users: user.map { [$0] } ?? [], anonymousPull: user == nil)
        case "redirect": variant = .redirect
        case let other: throw UsageError("unknown --variant \(other)")
        }
        let root = args.optional("root").map { URL(fileURLWithPath: $0) }
        let level = args.optional("log-level") ?? "error"
        let registry = try blocking { try await RegistryLauncher.launch(variant, storageRoot: root, logLevel: level) }
        if let info = args.optional("info") {
            var object: [String: Any] = [
                "address": registry.address, "url": registry.url.absoluteString, "pid": registry.pid,
                "rootDirectory": registry.rootDirectory.path, "logFile": registry.logFile.path,
            ]
            if let ca = registry.caCertPath { object["caCert"] = ca.path }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            try data.write(to: URL(fileURLWithPath: info))
        }
        Log.stdout("listening \(registry.address)")
        waitForTermination()
        registry.stop()
        exit(0)
    }

    /// `image --out DIR [--tag T] [--size BYTES] [--layers N] [--platforms a,b] [--docker] [--compressible]
    /// [--attestation] [--seed N]`: writes a synthetic image as an OCI layout; prints its digest.
    static func image(_ argv: ArraySlice<String>) throws {
        let args = try Arguments(
            argv, options: ["out", "tag", "size", "layers", "platforms", "seed"],
            flags: ["docker", "compressible", "attestation"])
        let out = URL(fileURLWithPath: try args.required("out"))
        let size = try parseSize(args.optional("size") ?? "8MiB")
        let layers = Int(args.optional("layers") ?? "3") ?? 3
        let seed = UInt64(args.optional("seed") ?? "1") ?? 1
        var spec = ImageSpec.big(totalBytes: size, layers: max(1, layers), mediaTypes: args.flag("docker") ? .docker : .oci, seed: seed)
        if args.flag("compressible") {
            spec.layers = spec.layers.map { LayerSpec(size: $0.size, compressible: true) }
        }
        spec.platforms = args.optional("platforms").map { $0.split(separator: ",").map(String.init) } ?? []
        spec.attestation = args.flag("attestation")
        let image = try ImageBuilder.write(spec, to: out, tag: args.optional("tag") ?? "latest")
        let data = try JSONEncoder().encode(image)
        try data.write(to: out.appendingPathComponent("built-image.json"))
        Log.stdout(image.digest)
    }

    /// `seed --layout DIR --to URL/REPO[:TAG] [--user U:P] [--ca-cert FILE] [--jobs N]`: pushes an image made by
    /// `image` into a registry, by plain HTTP(S) requests; prints the manifest digest.
    static func seed(_ argv: ArraySlice<String>) throws {
        let args = try Arguments(argv, options: ["layout", "to", "user", "ca-cert", "jobs"])
        let layout = URL(fileURLWithPath: try args.required("layout"))
        let image = try JSONDecoder().decode(BuiltImage.self, from: Data(contentsOf: layout.appendingPathComponent("built-image.json")))
        let target = try args.required("to")
        guard let schemeEnd = target.range(of: "://"),
            let slash = target[schemeEnd.upperBound...].firstIndex(of: "/")
        else { throw UsageError("--to must be http(s)://HOST:PORT/REPO[:TAG]") }
        let base = URL(string: String(target[..<slash]))!
        var repository = String(target[target.index(after: slash)...])
        var tag = image.tag
        if let colon = repository.lastIndex(of: ":") {
            tag = String(repository[repository.index(after: colon)...])
            repository = String(repository[..<colon])
        }
        let user = args.optional("user").flatMap { text -> Credentials? in
            guard let colon = text.firstIndex(of: ":") else { return nil }
            return Credentials(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
        }
        let seeder = Seeder(
            baseURL: base, credentials: user, caCertPath: args.optional("ca-cert").map { URL(fileURLWithPath: $0) },
            parallelism: Int(args.optional("jobs") ?? "4") ?? 4)
        let (repo, finalTag) = (repository, tag)
        let report = try blocking { try await seeder.push(image, to: repo, tag: finalTag) }
        Log.stdout(report.digest)
    }

    /// `12345`, `64KiB`, `512MiB`, `2GiB`, `1GB`.
    static func parseSize(_ text: String) throws -> Int {
        let units: [(String, Int)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1000), ("B", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let n = Double(text.dropLast(suffix.count)) else { break }
            return Int(n * Double(factor))
        }
        guard let n = Int(text) else { throw UsageError("bad size '\(text)': use e.g. 512MiB") }
        return n
    }
}

/// Runs async work from the synchronous top level and returns its result.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

/// Blocks until SIGTERM or SIGINT.
func waitForTermination() {
    let done = DispatchSemaphore(value: 0)
    var sources: [any DispatchSourceSignal] = []
    for sig in [SIGTERM, SIGINT] {
        signal(sig, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        s.setEventHandler { done.signal() }
        s.resume()
        sources.append(s)
    }
    done.wait()
    _ = sources
}
