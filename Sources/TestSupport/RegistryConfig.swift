import Foundation

/// The registry's configuration file, written as JSON (a subset of YAML, so `docker-registry serve` reads it)
/// to get quoting right for free.
struct RegistryConfig {
    /// Signs upload state (`_state`). One secret for every registry this process starts, so an upload begun on
    /// one registry can go on through another sharing its storage; without one, each registry invents its own.
    static let secret = UUID().uuidString

    var address: String
    var rootDirectory: URL
    var logLevel: String
    var tls: (certificate: URL, key: URL)?
    var htpasswd: URL?
    var token: (realm: String, service: String, issuer: String, rootCertBundle: URL)?
    var redirectBaseURL: String?

    func write(to url: URL) throws {
        var http: [String: Any] = [
            "addr": self.address,
            "secret": Self.secret,
            "headers": ["X-Content-Type-Options": ["nosniff"]],
        ]
        if let tls = self.tls {
            http["tls"] = ["certificate": tls.certificate.path, "key": tls.key.path]
        }
        // No blob descriptor cache: registries sharing a storage root must see each other's deletes at once.
        let storage: [String: Any] = [
            "filesystem": ["rootdirectory": self.rootDirectory.path],
            "delete": ["enabled": true],
            // Purging would delete uploads that a resume test left half done on purpose.
            "maintenance": ["uploadpurging": ["enabled": false]],
        ]
        var config: [String: Any] = [
            "version": "0.1",
            "log": ["level": self.logLevel, "accesslog": ["disabled": self.logLevel != "debug"]],
            "storage": storage,
            "http": http,
        ]
        if let htpasswd = self.htpasswd {
            config["auth"] = ["htpasswd": ["realm": "ferry-test", "path": htpasswd.path]]
        }
        if let token = self.token {
            config["auth"] = [
                "token": [
                    "realm": token.realm, "service": token.service, "issuer": token.issuer,
                    "rootcertbundle": token.rootCertBundle.path,
                ]
            ]
        }
        if let base = self.redirectBaseURL {
            config["middleware"] = ["storage": [["name": "redirect", "options": ["baseurl": base]]]]
        }
        let data = try JSONSerialization.data(
            withJSONObject: config, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try data.write(to: url, options: .atomic)
    }
}
