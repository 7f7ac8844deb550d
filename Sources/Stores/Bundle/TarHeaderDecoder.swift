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
        guard Self.checksumOK(block) else {
            throw StoreError(.corrupt, "\(self.path): bad tar header checksum at byte \(offset); the file is damaged or not a tar archive")
        }
        var size = try Self.number(block[124..<136], path: self.path)
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
                name: self.pax["path"] ?? self.longName ?? Self.name(block), typeflag: typeflag, size: size,
                dataOffset: offset + 512, linkName: self.pax["linkpath"] ?? self.longLink ?? Self.string(block[157..<257]))
            self.pax = [:]
            self.longName = nil
            self.longLink = nil
            return .member(entry)
        }
    }

    /// The data of an `.extended` record; it applies to the next member (a global `g` record is ignored).
    mutating func absorb(_ typeflag: UInt8, _ bytes: [UInt8]) throws(StoreError) {
        switch typeflag {
        case UInt8(ascii: "x"):
            guard let records = Self.parsePAX(bytes) else {
                throw StoreError(.corrupt, "\(self.path): a PAX extended header is malformed (a record's length does not match its text); the archive is damaged or crafted")
            }
            self.pax = records
        case UInt8(ascii: "L"): self.longName = Self.string(bytes[...])
        case UInt8(ascii: "K"): self.longLink = Self.string(bytes[...])
        default: break
        }
    }
}

/// The fields of a header block.
extension TarHeaderDecoder {
    private static func checksumOK(_ block: [UInt8]) -> Bool {
        var sum = 0
        for (i, b) in block.enumerated() { sum += (148..<156).contains(i) ? 0x20 : Int(b) }
        let stored = Self.string(block[148..<156]).trimmingCharacters(in: " ")
        return Int(stored, radix: 8) == sum
    }

    private static func number(_ field: ArraySlice<UInt8>, path: String) throws(StoreError) -> Int64 {
        if let first = field.first, first & 0x80 != 0 {
            // GNU base-256 for large sizes.
            var v: Int64 = Int64(first & 0x7f)
            for b in field.dropFirst() {
                guard v < Int64.max >> 8 else { throw StoreError(.corrupt, "\(path): a tar size field overflows") }
                v = v << 8 | Int64(b)
            }
            return v
        }
        let text = Self.string(field).trimmingCharacters(in: " ")
        if text.isEmpty { return 0 }
        guard let v = Int64(text, radix: 8) else { throw StoreError(.corrupt, "\(path): bad tar number \"\(text)\"") }
        return v
    }

    private static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    private static func name(_ block: [UInt8]) -> String {
        let name = Self.string(block[0..<100])
        let prefix = Self.string(block[345..<500])
        return prefix.isEmpty || Self.string(block[257..<263]) != "ustar" ? name : prefix + "/" + name
    }

    /// PAX records, `"<length> <key>=<value>\n"` each, the length counting the whole record; nil when one is
    /// malformed (as Go's archive/tar, which docker load uses, refuses it). Trailing NULs are padding.
    private static func parsePAX(_ bytes: [UInt8]) -> [String: String]? {
        var out: [String: String] = [:]
        var i = 0
        while i < bytes.count, bytes[i] != 0 {
            guard let space = bytes[i...].firstIndex(of: 0x20), let length = Int(String(decoding: bytes[i..<space], as: UTF8.self)),
                space + 1 < i + length, i + length <= bytes.count, bytes[i + length - 1] == 0x0A
            else { return nil }
            let record = bytes[(space + 1)..<(i + length - 1)]
            guard let eq = record.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            out[String(decoding: record[..<eq], as: UTF8.self)] = String(decoding: record[(eq + 1)...], as: UTF8.self)
            i += length
        }
        return out
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

extension String {
    /// Header number fields are padded with spaces on either side.
    fileprivate func trimmingCharacters(in c: Character) -> String {
        var s = Substring(self)
        while s.first == c { s.removeFirst() }
        while s.last == c { s.removeLast() }
        return String(s)
    }
}
