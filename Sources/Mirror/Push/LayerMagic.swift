import Glibc

/// The first bytes of a layer member: what it is compressed with, if anything.
enum LayerMagic {
    case gzip, zstd, none

    static func of(_ region: BlobRegion) throws -> LayerMagic {
        guard region.size >= 4 else { return .none }
        let fd = open(region.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MirrorError(.failed, "cannot open \(region.path)") }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 4)
        guard head.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, 4, off_t(region.offset)) }) == 4 else {
            throw MirrorError(.failed, "\(region.path) is truncated at byte \(region.offset)")
        }
        if head[0] == 0x1f && head[1] == 0x8b { return .gzip }
        if head == [0x28, 0xb5, 0x2f, 0xfd] { return .zstd }
        return .none
    }
}
