import Foundation

/// The registry's configuration file, written as JSON (a subset of YAML, so `docker-registry serve` reads it)
/// to get quoting right for free.
struct RegistryConfig {
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
            // A fixed secret: without one, the registry makes a random one per start and warns; ours is per launch.
            "secret": UUID().uuidString,
            "headers": ["X-Content-Type-Options": ["nosniff"]],
        ]
        if let tls = self.tls {
            http["tls"] = ["certificate": tls.certificate.path, "key": tls.key.path]
        }
        var storage: [String: Any] = [
            "filesystem": ["rootdirectory": self.rootDirectory.path],
            "delete": ["enabled": true],
            // Purging would delete uploads that a resume test left half done on purpose.
            "maintenance": ["uploadpurging": ["enabled": false]],
        ]
        if self.redirectBaseURL == nil {
            // Blob descriptors cached in memory, as the Debian default config has it.
            storage["cache"] = ["blobdescriptor": "inmemory"]
        }
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
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try data.write(to: url, options: .atomic)
    }
}
