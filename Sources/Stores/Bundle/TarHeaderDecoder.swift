/// What tar header blocks say, one 512-byte block at a time, with the PAX and GNU long-name records that come before
/// a member: the one interpretation shared by the reader that seeks (`TarReader`) and the one that streams
/// (`TarStreamParser`). Understands ustar, PAX (`path`, `size`, `linkpath`) and GNU long names.
struct TarHeaderDecoder {
    enum Block {
        /// A zero block: the end of the archive.
        case end
        /// A PAX (`x`, global `g`) or GNU long-name (`L`, `K`) record: its `size` bytes of data go to `absorb`.
        case extended(typeflag: UInt8, size: Int64)
        case member(TarReader.Entry)
    }

    let path: String
    private var pax: [String: String] = [:]
    private var longName: String?
    private var longLink: String?

    init(path: String) {
        self.path = path
    }

    /// Decodes the header block at `offset`; its data starts right after it.
    mutating func decode(_ block: [UInt8], at offset: Int64) throws(StoreError) -> Block {
        if block.allSatisfy({ $0 == 0 }) { return .end }
        guard TarReader.checksumOK(block) else {
            throw StoreError(.corrupt, "\(self.path): bad tar header checksum at byte \(offset); the file is damaged or not a tar archive")
        }
        var size = try TarReader.number(block[124..<136], path: self.path)
        if let s = self.pax["size"] {
            guard let v = Int64(s), v >= 0 else { throw StoreError(.corrupt, "\(self.path): bad PAX size \(s)") }
            size = v
        }
        guard size >= 0 else { throw StoreError(.corrupt, "\(self.path): a negative member size at byte \(offset)") }
        let typeflag = block[156]
        switch typeflag {
        case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
            // Held in memory whole: a hostile archive must not make them huge.
            let limit: Int64 = typeflag == UInt8(ascii: "x") || typeflag == UInt8(ascii: "g") ? 1 << 20 : 64 << 10
            guard size <= limit else {
                throw StoreError(.unsafe, "\(self.path): an extended header of \(size) bytes at byte \(offset) is too large")
            }
            return .extended(typeflag: typeflag, size: size)
        default:
            let entry = TarReader.Entry(
                name: self.pax["path"] ?? self.longName ?? TarReader.name(block), typeflag: typeflag, size: size,
                dataOffset: offset + 512, linkName: self.pax["linkpath"] ?? self.longLink ?? TarReader.string(block[157..<257]))
            self.pax = [:]
            self.longName = nil
            self.longLink = nil
            return .member(entry)
        }
    }

    /// The data of an `.extended` record; it applies to the next member (a global `g` record is ignored).
    mutating func absorb(_ typeflag: UInt8, _ bytes: [UInt8]) {
        switch typeflag {
        case UInt8(ascii: "x"): self.pax = TarReader.parsePAX(bytes)
        case UInt8(ascii: "L"): self.longName = TarReader.string(bytes[...])
        case UInt8(ascii: "K"): self.longLink = TarReader.string(bytes[...])
        default: break
        }
    }
}

extension TarHeaderDecoder.Block {
    /// Bytes of data after the header.
    var size: Int64 {
        switch self {
        case .end: 0
        case .extended(_, let size): size
        case .member(let entry): entry.size
        }
    }
}
