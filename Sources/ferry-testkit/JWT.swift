import Foundation

/// One entry of the token's `access` claim: what the bearer may do to one resource.
struct AccessEntry: Codable, Hashable, Sendable {
    let type: String
    let name: String
    let actions: [String]
}

/// The claim set registry 2.8 checks (distribution `registry/auth/token/token.go`):
/// `iss` must equal its `issuer`, `aud` its `service`, `exp`/`nbf` bound the time (with 60 s leeway).
struct TokenClaims: Encodable {
    let iss: String
    let sub: String
    let aud: String
    let exp: Int
    let nbf: Int
    let iat: Int
    let jti: String
    let access: [AccessEntry]
}

/// Compact JWS serialisation of a token signed with ES256.
enum JWT {
    private struct Header: Encodable {
        let typ = "JWT"
        let alg = "ES256"
        /// Standard (not URL) base64 DER certificates, signing certificate first (RFC 7515 §4.1.6).
        /// Registry 2.8 verifies this chain against its `rootcertbundle` and takes the key from the first.
        let x5c: [String]
    }

    static func sign(_ claims: TokenClaims, with signer: ES256Signer) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let header = Header(x5c: signer.certificateChainDER.map { Data($0).base64EncodedString() })
        // Encoding these plain structs cannot fail: no floats, no custom encode(to:).
        let headerJSON = try! encoder.encode(header)
        let claimsJSON = try! encoder.encode(claims)
        let signingInput = base64URL(headerJSON) + "." + base64URL(claimsJSON)
        let signature = signer.sign(Array(signingInput.utf8))
        return signingInput + "." + base64URL(signature)
    }

    /// base64url without padding (RFC 7515 §2).
    static func base64URL<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
