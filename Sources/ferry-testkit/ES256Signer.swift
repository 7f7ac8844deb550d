internal import CCrypto
import Foundation

/// An ECDSA P-256 private key and its certificate chain, loaded from PEM with libcrypto, signing
/// JWTs the way registry 2.8 (libtrust) checks them.
///
/// All the unsafe pointer work of the testkit is in this file.
/// `@unchecked Sendable`: the EVP_PKEY is never changed after loading, and OpenSSL 3 allows one key
/// to be used by many threads at once as long as each has its own EVP_MD_CTX (made per call here).
final class ES256Signer: @unchecked Sendable {
    private let key: OpaquePointer  // EVP_PKEY*
    /// DER of the signing certificate, then of each chain certificate, as the JWS `x5c` header wants them.
    let certificateChainDER: [[UInt8]]

    /// - Parameters:
    ///   - keyPEM: the private key (PKCS#8 or SEC1 "EC PRIVATE KEY").
    ///   - certificatePEM: the signing certificate first; more certificates may follow it.
    ///   - chainPEM: further chain certificates (intermediates, optionally the root).
    init(keyPEM: [UInt8], certificatePEM: [UInt8], chainPEM: [UInt8]) throws {
        ERR_clear_error()
        guard let key = Self.withBIO(keyPEM, { PEM_read_bio_PrivateKey($0, nil, nil, nil) }) else {
            throw StartupError("cannot read the private key: \(Self.lastError())")
        }
        var keptKey = false
        defer { if !keptKey { EVP_PKEY_free(key) } }
        var groupName = [CChar](repeating: 0, count: 64)
        var groupLength = 0
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_EC,
            EVP_PKEY_get_group_name(key, &groupName, groupName.count, &groupLength) == 1,
            ["prime256v1", "P-256", "secp256r1"].contains(Self.string(groupName))
        else {
            throw StartupError("the signing key must be ECDSA P-256 (ES256 is what registry 2.8 verifies)")
        }

        let certificates = Self.readCertificates(certificatePEM)
        let chain = Self.readCertificates(chainPEM)
        defer { (certificates + chain).forEach { X509_free($0) } }
        guard let leaf = certificates.first else { throw StartupError("no PEM certificate in --cert") }
        guard X509_check_private_key(leaf, key) == 1 else {
            throw StartupError("--cert does not belong to --key")
        }
        self.key = key
        self.certificateChainDER = (certificates + chain).map(Self.der)
        keptKey = true
        ERR_clear_error()
    }

    deinit { EVP_PKEY_free(self.key) }

    /// ES256 over `message`: SHA-256, ECDSA, and the signature as raw r‖s (32 bytes each, big endian),
    /// which is what JWS (RFC 7518 §3.4) and libtrust expect; OpenSSL produces DER, converted here.
    func sign(_ message: [UInt8]) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new: out of memory") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, self.key) == 1 else {
            preconditionFailure("EVP_DigestSignInit: \(Self.lastError())")
        }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, message, message.count) == 1 else {
            preconditionFailure("EVP_DigestSign (length): \(Self.lastError())")
        }
        var der = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &der, &length, message, message.count) == 1 else {
            preconditionFailure("EVP_DigestSign: \(Self.lastError())")
        }
        return der.withUnsafeBufferPointer { buffer -> [UInt8] in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let signature = d2i_ECDSA_SIG(nil, &cursor, length) else {
                preconditionFailure("d2i_ECDSA_SIG: \(Self.lastError())")
            }
            defer { ECDSA_SIG_free(signature) }
            var r: OpaquePointer?
            var s: OpaquePointer?
            ECDSA_SIG_get0(signature, &r, &s)
            var raw = [UInt8](repeating: 0, count: 64)
            raw.withUnsafeMutableBufferPointer { out in
                // Left-padded to the curve size: r and s are often 31 bytes, and JWS wants exactly 32 each.
                guard BN_bn2binpad(r, out.baseAddress!, 32) == 32,
                    BN_bn2binpad(s, out.baseAddress! + 32, 32) == 32
                else { preconditionFailure("BN_bn2binpad: r or s longer than 32 bytes") }
            }
            return raw
        }
    }

    private static func withBIO<T>(_ bytes: [UInt8], _ body: (OpaquePointer) -> T?) -> T? {
        bytes.withUnsafeBytes { raw -> T? in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return body(bio)
        }
    }

    /// Every certificate in a PEM file, in order (X509* each, to be freed by the caller).
    private static func readCertificates(_ pem: [UInt8]) -> [OpaquePointer] {
        guard !pem.isEmpty else { return [] }
        let certificates =
            withBIO(pem) { bio -> [OpaquePointer] in
                var all: [OpaquePointer] = []
                while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) { all.append(certificate) }
                return all
            } ?? []
        ERR_clear_error()  // the loop ends on a "no start line" error, which is just end of file
        return certificates
    }

    private static func der(_ certificate: OpaquePointer) -> [UInt8] {
        let length = i2d_X509(certificate, nil)
        precondition(length > 0, "i2d_X509: \(lastError())")
        var bytes = [UInt8](repeating: 0, count: Int(length))
        bytes.withUnsafeMutableBufferPointer { buffer in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            _ = i2d_X509(certificate, &cursor)
        }
        return bytes
    }

    private static func lastError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "no OpenSSL error queued" }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        return Self.string(text)
    }

    /// A NUL-terminated C buffer as a String.
    private static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
