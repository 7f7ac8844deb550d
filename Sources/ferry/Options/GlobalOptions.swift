import ArgumentParser
import Foundation
import Registry
import Transfer

/// Options every command that talks to a registry takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("tls-verify"), help: "Verify TLS certificates; false also allows plain HTTP.")
    var tlsVerify: Bool = true

    @Option(name: .customLong("ca-cert"), help: ArgumentHelp("A PEM CA certificate to trust besides the system's.", valueName: "file"))
    var caCert: String?

    @Option(help: ArgumentHelp("docker config.json with credentials (default: $REGISTRY_AUTH_FILE, then ~/.docker/config.json).", valueName: "file"))
    var authfile: String?

    @Option(help: ArgumentHelp("Credentials for the registry.", valueName: "user:pass"))
    var creds: String?

    @Option(help: "Attempts per request before giving up.")
    var retries: Int = 5

    @Option(help: "Progress display: auto, tty, plain, json or none.")
    var progress: ProgressMode = .auto

    @Flag(name: .shortAndLong, help: "No progress and no summary.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Show each HTTP request and response head on stderr (credentials redacted).")
    var verbose = false

    func validate() throws {
        guard self.retries >= 0 else { throw ValidationError("--retries must be 0 (one attempt) or more") }
    }

    /// The transfer engine for this command, tracing HTTP with `--verbose`.
    func engine() -> CurlEngine {
        guard self.verbose else { return CurlEngine() }
        return CurlEngine(trace: { line in FileHandle.standardError.write(Data((line + "\n").utf8)) })
    }

    func registryOptions() throws -> RegistryOptions {
        var tls = TLSConfiguration(verify: self.tlsVerify)
        if let ca = self.caCert {
            tls = try TLSConfiguration.trusting(caCertFile: ca, verify: self.tlsVerify)
        }
        let explicit = try self.creds.map { try Credential(userColonPassword: $0) }
        return RegistryOptions(
            tls: tls,
            credentials: CredentialStore(explicit: explicit, authFile: self.authfile),
            retry: RetryPolicy(attempts: max(1, self.retries + 1))
        )
    }
}

enum ProgressMode: String, ExpressibleByArgument, CaseIterable {
    case auto, tty, plain, json, none
}
