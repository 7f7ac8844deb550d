import Foundation

/// How a request checks the server's certificate.
public struct TLSConfiguration: Sendable, Hashable {
    /// `false` is `--tls-verify=false`: no certificate checks.
    public var verify: Bool
    /// PEM bundle trusted in addition to the system's CAs (`--ca-cert`).
    public var extraCAPEM: [UInt8]?

    public init(verify: Bool = true, extraCAPEM: [UInt8]? = nil) {
        self.verify = verify
        self.extraCAPEM = extraCAPEM
    }

    public static let `default` = TLSConfiguration()

    /// Reads a `--ca-cert FILE`, failing with a message that names the file.
    public static func trusting(caCertFile path: String, verify: Bool = true) throws -> TLSConfiguration {
        let data: Data
        do {
            data = Data(try readSmallFile(path))
        } catch {
            throw TransferError(.io, "cannot read CA certificate \(path): \(error.message); check the --ca-cert path")
        }
        guard data.range(of: Data("-----BEGIN CERTIFICATE-----".utf8)) != nil || data.range(of: Data("-----BEGIN TRUSTED CERTIFICATE-----".utf8)) != nil else {
            throw TransferError(.io, "\(path) holds no PEM certificate (-----BEGIN CERTIFICATE-----): --ca-cert takes the registry's CA certificate in PEM form")
        }
        return TLSConfiguration(verify: verify, extraCAPEM: [UInt8](data))
    }

    /// CAINFO replaces curl's default bundle, so an extra CA is sent together with the system bundle.
    var caBundle: [UInt8]? {
        guard let extra = self.extraCAPEM else { return nil }
        return Self.systemBundle + [0x0a] + extra
    }

    static let systemBundle: [UInt8] = {
        for path in ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"] {
            if let d = FileManager.default.contents(atPath: path) { return [UInt8](d) }
        }
        return []
    }()
}
