import Foundation

/// A throwaway certificate authority made with the `openssl` CLI at test time, as the CKF guide has users do:
/// it signs the registry's TLS certificate and the token service's signing certificate.
///
/// All keys are EC P-256 (ES256 is what registry 2.8 accepts for tokens; TLS is fine with it too).
public struct PrivateCA: Sendable {
    /// The CA certificate (PEM): what clients pass as `--cacert`/`--ca-cert` and the registry as `rootcertbundle`.
    public let certificate: URL
    public let key: URL
    public let directory: URL

    /// A certificate issued by this CA.
    public struct Issued: Sendable {
        public let certificate: URL
        public let key: URL
    }

    /// Makes a new CA in `directory` (created if needed).
    public static func create(in directory: URL, commonName: String = "Ferry Test CA") async throws -> PrivateCA {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let key = directory.appendingPathComponent("ca.key")
        let certificate = directory.appendingPathComponent("ca.pem")
        // Our own config, so Debian's /etc/ssl/openssl.cnf defaults cannot add or clash with extensions.
        let config = directory.appendingPathComponent("ca.cnf")
        try """
        [req]
        distinguished_name = dn
        prompt = no
        x509_extensions = ca
        [dn]
        CN = \(commonName)
        [ca]
        basicConstraints = critical,CA:TRUE
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash

        """.write(to: config, atomically: true, encoding: .utf8)
        try await self.generateKey(key)
        try await ProcessRunner.check([
            "openssl", "req", "-x509", "-new", "-config", config.path, "-key", key.path,
            "-days", "7", "-sha256", "-out", certificate.path,
        ])
        return PrivateCA(certificate: certificate, key: key, directory: directory)
    }

    /// Issues a certificate for a server (TLS) or a signer (JWT).
    /// - Parameters:
    ///   - name: file name stem for `<name>.pem` and `<name>.key` in the CA's directory.
    ///   - commonName: the subject CN.
    ///   - subjectAltNames: e.g. `["IP:127.0.0.1", "DNS:localhost"]`; Go (the registry) and curl check only these.
    ///   - serverAuth: adds `extendedKeyUsage = serverAuth`. Leave it off for a token-signing certificate: with no
    ///     EKU at all, Go's chain verification (which defaults to asking for serverAuth) accepts it either way.
    public func issue(
        name: String, commonName: String, subjectAltNames: [String] = [], serverAuth: Bool = false
    ) async throws -> Issued {
        let key = self.directory.appendingPathComponent("\(name).key")
        let request = self.directory.appendingPathComponent("\(name).csr")
        let certificate = self.directory.appendingPathComponent("\(name).pem")
        let requestConfig = self.directory.appendingPathComponent("\(name)-req.cnf")
        let extensions = self.directory.appendingPathComponent("\(name)-ext.cnf")
        try """
        [req]
        distinguished_name = dn
        prompt = no
        [dn]
        CN = \(commonName)

        """.write(to: requestConfig, atomically: true, encoding: .utf8)
        var lines = [
            "basicConstraints = critical,CA:FALSE",
            "keyUsage = critical,digitalSignature",
            "subjectKeyIdentifier = hash",
            "authorityKeyIdentifier = keyid",
        ]
        if serverAuth { lines.append("extendedKeyUsage = serverAuth") }
        if !subjectAltNames.isEmpty { lines.append("subjectAltName = " + subjectAltNames.joined(separator: ",")) }
        try (lines.joined(separator: "\n") + "\n").write(to: extensions, atomically: true, encoding: .utf8)

        try await Self.generateKey(key)
        try await ProcessRunner.check([
            "openssl", "req", "-new", "-config", requestConfig.path, "-key", key.path, "-out", request.path,
        ])
        try await ProcessRunner.check([
            "openssl", "x509", "-req", "-in", request.path, "-CA", self.certificate.path, "-CAkey", self.key.path,
            "-set_serial", "0x" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16),
            "-days", "7", "-sha256", "-extfile", extensions.path, "-out", certificate.path,
        ])
        return Issued(certificate: certificate, key: key)
    }

    /// An EC P-256 private key in PKCS#8 PEM (read by Go's TLS stack and by libcrypto alike).
    private static func generateKey(_ url: URL) async throws {
        try await ProcessRunner.check([
            "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", url.path,
        ])
    }
}
