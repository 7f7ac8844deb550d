import Foundation
import OCI
import Spawn
import Transfer

/// Finds the credential for a registry: `--creds` first, then the docker `config.json` (`--authfile`,
/// `$REGISTRY_AUTH_FILE`, `~/.docker/config.json`), including `credsStore`/`credHelpers` programs.
public struct CredentialStore: Sendable {
    public var explicit: Credential?
    /// The auth file to read; `nil` means the default search.
    public var authFile: String?
    var environment: [String: String]

    public init(explicit: Credential? = nil, authFile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.explicit = explicit
        self.authFile = authFile
        self.environment = environment
    }

    /// The file consulted when no `--authfile` is given.
    public var defaultAuthFile: String? {
        if let f = self.environment["REGISTRY_AUTH_FILE"], !f.isEmpty { return f }
        if let dir = self.environment["DOCKER_CONFIG"], !dir.isEmpty { return dir + "/config.json" }
        if let home = self.environment["HOME"], !home.isEmpty { return home + "/.docker/config.json" }
        return nil
    }

    /// The credential for `registry` (a host[:port]; `docker.io` for Docker Hub), or `nil` for anonymous.
    public func credential(for registry: String) throws(RegistryError) -> FoundCredential? {
        if let c = self.explicit { return FoundCredential(c, source: "--creds") }
        guard let path = self.authFile ?? self.defaultAuthFile else { return nil }
        guard FileManager.default.fileExists(atPath: path) else {
            if self.authFile != nil { throw RegistryError(.usage, "auth file \(path) does not exist: check --authfile") }
            return nil
        }
        let data: [UInt8]
        do {
            data = try readSmallFile(path)
        } catch {
            throw RegistryError(.usage, "cannot read auth file \(path): \(error.message); --authfile takes a docker config.json")
        }
        let config: DockerConfig
        do {
            config = try DockerConfig(Data(data))
        } catch let e as DecodingError {
            throw RegistryError(.usage, "auth file \(path): \(e.summary); fix or remove it, or pass --authfile")
        } catch {
            throw RegistryError(.usage, "auth file \(path): \(error); fix or remove it, or pass --authfile")
        }
        return try config.credential(for: registry, source: path, environment: self.environment)
    }
}

/// docker's `config.json`: `auths`, `credsStore`, `credHelpers`.
struct DockerConfig: Sendable {
    struct Entry: Decodable, Sendable {
        var auth: String?
        var username: String?
        var password: String?
        var identitytoken: String?
    }

    private struct File: Decodable {
        var auths: [String: Entry]?
        var credsStore: String?
        var credHelpers: [String: String]?
    }

    var auths: [String: Entry]
    var credsStore: String?
    var credHelpers: [String: String]

    init(_ data: Data) throws {
        let f = try JSONDecoder().decode(File.self, from: data)
        self.auths = f.auths ?? [:]
        self.credsStore = f.credsStore
        self.credHelpers = f.credHelpers ?? [:]
    }

    /// The keys docker itself may have written for `registry`.
    static func keys(for registry: String) -> [String] {
        if registry == "docker.io" || registry == "index.docker.io" || registry == "registry-1.docker.io" {
            return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io", "https://index.docker.io/v1"]
        }
        return [registry, "https://\(registry)", "http://\(registry)", "https://\(registry)/v1/", "https://\(registry)/v2/", "\(registry)/v2/"]
    }

    func credential(for registry: String, source: String, environment: [String: String]) throws(RegistryError) -> FoundCredential? {
        let keys = Self.keys(for: registry)
        for key in keys {
            if let helper = self.credHelpers[key] {
                return try Self.runHelper(helper, serverURL: key, environment: environment)
            }
        }
        for key in keys {
            guard let e = self.auths[key] else { continue }
            if let token = e.identitytoken, !token.isEmpty {
                return FoundCredential(.identityToken(token), source: source)
            }
            if let user = e.username, let pass = e.password, !user.isEmpty {
                return FoundCredential(.basic(username: user, password: pass), source: source)
            }
            if let auth = e.auth, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth), let text = String(data: decoded, encoding: .utf8),
                    let colon = text.firstIndex(of: ":")
                else {
                    throw RegistryError(.usage, "the \"auth\" entry for \(key) in \(source) is not base64 of USER:PASSWORD")
                }
                return FoundCredential(
                    .basic(username: String(text[..<colon]), password: String(text[text.index(after: colon)...])),
                    source: source
                )
            }
        }
        if let store = self.credsStore, !store.isEmpty {
            return try Self.runHelper(store, serverURL: keys[0], environment: environment)
        }
        return nil
    }

    /// Runs `docker-credential-<helper> get` with the server URL on stdin (docker's credential helper protocol).
    static func runHelper(_ helper: String, serverURL: String, environment: [String: String]) throws(RegistryError) -> FoundCredential? {
        let name = "docker-credential-\(helper)"
        // stderr is dropped, as before: the protocol answers on stdout, "credentials not found" included.
        let command = Command(
            ["/usr/bin/env", name, "get"], environment: environment,
            standardInput: .bytes(Array(serverURL.utf8)), standardOutput: .capture, standardError: .null)
        let result: CommandOutput
        do {
            result = try command.runBlocking()
        } catch {
            throw RegistryError(.usage, "cannot run credential helper \(name): \(error)")
        }
        let out = Data(result.stdout)
        if !result.status.succeeded {
            // The helper protocol answers "credentials not found in native keychain" with a failure: anonymous.
            if String(decoding: out, as: UTF8.self).lowercased().contains("credentials not found") { return nil }
            if result.status == .exited(127) {
                throw RegistryError(.usage, "credential helper \(name) is not installed (named in the auth file): install it or remove it")
            }
            return nil
        }
        struct Answer: Decodable { var Username: String?; var Secret: String? }
        guard let a = try? JSONDecoder().decode(Answer.self, from: out), let secret = a.Secret, !secret.isEmpty else {
            throw RegistryError(.usage, "credential helper \(name) gave an answer that is not {\"Username\",\"Secret\"} JSON")
        }
        let source = "credential helper \(name)"
        if a.Username == "<token>" { return FoundCredential(.identityToken(secret), source: source) }
        return FoundCredential(.basic(username: a.Username ?? "", password: secret), source: source)
    }
}
