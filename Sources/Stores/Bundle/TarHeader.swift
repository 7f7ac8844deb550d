/// One tar member header (POSIX ustar), with a PAX extended header in front when the size does not fit the
/// 11-digit octal field (members of 8 GiB or more).
public struct TarHeader: Sendable, Hashable {
    public enum Kind: UInt8, Sendable {
        case file = 0x30  // '0'
        case hardLink = 0x31  // '1'
        case symbolicLink = 0x32  // '2'
        case directory = 0x35  // '5'
        case paxExtended = 0x78  // 'x'
        case paxGlobal = 0x67  // 'g'
        case gnuLongName = 0x4C  // 'L'
    }

    public var name: String
    public var size: Int64
    public var kind: Kind
    public var mode: Int
    public var linkName: String

    public init(name: String, size: Int64, kind: Kind = .file, mode: Int? = nil, linkName: String = "") {
        self.name = name
        self.size = size
        self.kind = kind
        self.mode = mode ?? (kind == .directory ? 0o755 : 0o644)
        self.linkName = linkName
    }

    static let block = 512
    /// Largest size the ustar field holds: 8 GiB − 1.
    static let maxUstarSize: Int64 = 0o77777777777

    /// Bytes this member takes before its data: 512, or 1536 with a PAX `size` record.
    public var headerLength: Int64 { self.size > Self.maxUstarSize ? 3 * Int64(Self.block) : Int64(Self.block) }

    /// Data rounded up to whole blocks.
    public var paddedSize: Int64 { (self.size + 511) / 512 * 512 }

    /// The header block(s) for this member.
    public func encode() -> [UInt8] {
        guard self.size > Self.maxUstarSize else { return self.ustar(size: self.size) }
        // PAX: "<len> size=<n>\n", where <len> counts itself.
        let body = " size=\(self.size)\n"
        var length = body.utf8.count + 1
        while String(length).utf8.count + body.utf8.count != length { length = String(length).utf8.count + body.utf8.count }
        var record = Array("\(length)\(body)".utf8)
        let pax = TarHeader(name: "PaxHeaders/" + String(self.name.suffix(80)), size: Int64(record.count), kind: .paxExtended)
        record += [UInt8](repeating: 0, count: Int(pax.paddedSize) - record.count)
        return pax.ustar(size: pax.size) + record + self.ustar(size: 0)
    }

    private func ustar(size: Int64) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: Self.block)
        func put(_ s: String, _ offset: Int, _ length: Int) {
            for (i, b) in s.utf8.prefix(length).enumerated() { h[offset + i] = b }
        }
        func octal(_ v: Int64, _ offset: Int, _ length: Int) {
            put(String(String(v, radix: 8).suffix(length - 1)).leftPadded(to: length - 1), offset, length - 1)
        }
        let (prefix, name) = Self.split(self.name)
        put(name, 0, 100)
        octal(Int64(self.mode), 100, 8)
        octal(0, 108, 8)
        octal(0, 116, 8)
        octal(size, 124, 12)
        octal(0, 136, 12)  // mtime 0: bundles of the same images are byte-identical
        put("        ", 148, 8)
        h[156] = self.kind.rawValue
        put(self.linkName, 157, 100)
        put("ustar", 257, 6)
        put("00", 263, 2)
        put(prefix, 345, 155)
        let sum = h.reduce(0) { $0 + Int($1) }
        put(String(String(sum, radix: 8)).leftPadded(to: 6), 148, 6)
        h[154] = 0
        h[155] = 0x20
        return h
    }

    /// ustar keeps names over 100 bytes as prefix/name split at a slash.
    static func split(_ path: String) -> (String, String) {
        let bytes = Array(path.utf8)
        guard bytes.count > 100 else { return ("", path) }
        for i in stride(from: min(bytes.count - 1, 155), to: 0, by: -1) where bytes[i] == UInt8(ascii: "/") && bytes.count - i - 1 <= 100 {
            return (String(decoding: bytes[..<i], as: UTF8.self), String(decoding: bytes[(i + 1)...], as: UTF8.self))
        }
        return ("", path)
    }
}

extension String {
    func leftPadded(to length: Int) -> String {
        self.count >= length ? self : String(repeating: "0", count: length - self.count) + self
    }
}
