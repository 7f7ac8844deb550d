/// The compressed formats Ferry reads, told apart by their first bytes.
public enum CompressionFormat: Sendable, Hashable {
    case gzip
    case zstd

    /// Bytes `detect` needs to decide (fewer are fine at the end of a stream).
    public static let magicLength = 4

    /// The format whose magic `prefix` starts with, or `nil` (the bytes are not compressed, or not in a format
    /// Ferry knows). Gzip: `1f 8b` (RFC 1952). Zstd: `28 b5 2f fd`, or a skippable frame `5? 2a 4d 18` (RFC 8878).
    public static func detect(_ prefix: some Collection<UInt8>) -> CompressionFormat? {
        let bytes = Array(prefix.prefix(magicLength))
        if bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b { return .gzip }
        if bytes.count >= 4 {
            if bytes == [0x28, 0xb5, 0x2f, 0xfd] { return .zstd }
            if bytes[0] & 0xf0 == 0x50 && bytes[1] == 0x2a && bytes[2] == 0x4d && bytes[3] == 0x18 { return .zstd }
        }
        return nil
    }
}
