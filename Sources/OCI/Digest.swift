/// A content digest, `algorithm:hex`, validated when it is made.
///
/// Follows the digest grammar of the OCI image spec (`descriptor.md`): `algorithm` is lowercase
/// components joined by `+._-`; the registered algorithms `sha256` and `sha512` need exactly 64 and
/// 128 lowercase hex digits. Other algorithms are refused: Ferry could not verify their content.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The algorithm, `sha256` or `sha512`.
    public let algorithm: String
    /// The encoded hash: lowercase hex.
    public let hex: String

    /// Parses and validates `algorithm:hex`, e.g. `sha256:<64 lowercase hex digits>`.
    public init(_ string: String) throws(OCIError) {
        if let why = Self.problem(in: string) {
            throw .invalidDigest(string, why)
        }
        let colon = string.firstIndex(of: ":")!
        self.algorithm = String(string[..<colon])
        self.hex = String(string[string.index(after: colon)...])
    }

    /// Makes a sha256 digest from its 64 lowercase hex digits.
    public init(sha256Hex: String) throws(OCIError) {
        try self.init("sha256:" + sha256Hex)
    }

    /// `sha256:<hex>`, as written in descriptors and URLs.
    public var description: String { "\(self.algorithm):\(self.hex)" }

    /// The first 12 hex digits, as Docker shows image IDs.
    public var short: String { String(self.hex.prefix(12)) }

    public static func < (lhs: Digest, rhs: Digest) -> Bool {
        (lhs.algorithm, lhs.hex) < (rhs.algorithm, rhs.hex)
    }
}

extension Digest {
    /// Hex digits each registered algorithm needs.
    static let registered: [String: Int] = ["sha256": 64, "sha512": 128]

    /// Why `string` is not a valid digest, as a phrase to append to a message; nil when it is valid.
    static func problem(in string: String) -> String? {
        guard let colon = string.firstIndex(of: ":") else {
            return "expected ALGORITHM:HEX, e.g. sha256:<64 hex digits>"
        }
        let algorithm = string[..<colon]
        let encoded = string[string.index(after: colon)...].utf8
        // algorithm ::= component ([+._-] component)*, component ::= [a-z0-9]+
        var previousWasSeparator = true
        for byte in algorithm.utf8 {
            let isSeparator = byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            if isSeparator {
                if previousWasSeparator { return "the algorithm is malformed" }
            } else if !ASCII.isLowerAlphanumeric(byte) {
                return "the algorithm is malformed (lowercase letters and digits only)"
            }
            previousWasSeparator = isSeparator
        }
        if previousWasSeparator { return algorithm.isEmpty ? "the algorithm is missing" : "the algorithm is malformed" }
        // encoded ::= [a-zA-Z0-9=_-]+
        guard !encoded.isEmpty else { return "the hex part is missing" }
        guard let length = registered[String(algorithm)] else {
            return "unsupported algorithm \(quoted(algorithm)); Ferry handles sha256 and sha512"
        }
        if let bad = encoded.first(where: { !ASCII.isHexDigit($0) }) {
            if ASCII.isHexDigit(bad | 0x20) {
                return "hex digits must be lowercase"
            }
            return "\(algorithm) needs hex digits (0-9, a-f) only"
        }
        if encoded.count != length {
            return "\(algorithm) needs \(length) hex digits, found \(encoded.count)"
        }
        return nil
    }
}

extension Digest: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        do {
            try self.init(string)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.description)
    }
}
