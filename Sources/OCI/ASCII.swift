/// Byte classes for the grammars in this module.
///
/// The grammars (Docker references, OCI digests) are ASCII-only, so checking UTF-8 bytes is both
/// exact and faster than Character classification, which would accept non-ASCII digits and letters.
enum ASCII {
    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    static func isLower(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
    }

    static func isUpper(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")
    }

    static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        isLower(byte) || isDigit(byte)
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLower(byte) || isUpper(byte) || isDigit(byte)
    }

    /// Lowercase hex only: OCI digests are written in lowercase.
    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }

    /// `\w` in Go's regexp: `[A-Za-z0-9_]`.
    static func isWord(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "_")
    }
}
