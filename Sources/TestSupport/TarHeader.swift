/// The tar framing of a one-file layer: a ustar header (plus a PAX `size` record when the file is 8 GiB or more,
/// beyond what the 11-digit octal field holds), then the data padded to 512 bytes, then two zero blocks.
///
/// Every field is fixed (mtime, owner, mode), so the same size and name always give the same bytes.
enum TarHeader {
    static let blockSize = 512
    /// Largest size the ustar octal field holds: 8 GiB - 1.
    static let maxOctalSize = 0o77777777777
    /// 2023-11-14T22:13:20Z: any fixed time keeps layers reproducible.
    static let modificationTime = 1_700_000_000

    /// The header blocks that precede a regular file of `size` bytes named `name` (at most 100 bytes).
    static func regularFile(name: String, size: Int) -> [UInt8] {
        precondition(name.utf8.count <= 100, "tar member name too long for a ustar header: \(name)")
        if size <= self.maxOctalSize {
            return self.block(name: name, size: size, type: UInt8(ascii: "0"))
        }
        // A PAX extended header carries the real size; the ustar field is left 0, which readers then ignore.
        var record = " size=\(size)\n"
        var length = record.utf8.count
        while "\(length)\(record)".utf8.count != length { length = "\(length)\(record)".utf8.count }
        record = "\(length)\(record)"
        var pax = self.block(name: "PaxHeaders/" + name, size: record.utf8.count, type: UInt8(ascii: "x"))
        pax += Array(record.utf8)
        pax += [UInt8](repeating: 0, count: self.padding(record.utf8.count))
        return pax + self.block(name: name, size: 0, type: UInt8(ascii: "0"))
    }

    /// Zero bytes that bring `size` up to a whole block.
    static func padding(_ size: Int) -> Int {
        (self.blockSize - size % self.blockSize) % self.blockSize
    }

    /// The end-of-archive marker.
    static let trailer = [UInt8](repeating: 0, count: 2 * 512)

    /// Total tar size for one file of `size` bytes.
    static func archiveSize(name: String, size: Int) -> Int {
        self.regularFile(name: name, size: size).count + size + self.padding(size) + self.trailer.count
    }

    private static func block(name: String, size: Int, type: UInt8) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: self.blockSize)
        func put(_ text: String, at offset: Int) {
            for (index, byte) in text.utf8.enumerated() { header[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, digits: Int) {
            let text = String(value, radix: 8)
            put(String(repeating: "0", count: digits - text.count) + text, at: offset)
        }
        put(name, at: 0)
        octal(0o644, at: 100, digits: 7)  // mode
        octal(0, at: 108, digits: 7)  // uid
        octal(0, at: 116, digits: 7)  // gid
        octal(size, at: 124, digits: 11)
        octal(self.modificationTime, at: 136, digits: 11)
        header[156] = type
        put("ustar\u{0}00", at: 257)  // magic "ustar\0" and version "00": POSIX ustar
        put("root", at: 265)  // uname
        put("root", at: 297)  // gname
        // The checksum is computed with its own field read as eight spaces.
        for index in 148..<156 { header[index] = UInt8(ascii: " ") }
        let sum = header.reduce(0) { $0 + Int($1) }
        octal(sum, at: 148, digits: 6)
        header[154] = 0
        header[155] = UInt8(ascii: " ")
        return header
    }
}
