import Codec

/// A tar parsed as it streams by (a compressed archive read in order): members with their sha256 and, for small
/// ones, their bytes, so metadata needs no second pass.
public struct TarStreamParser {
    public struct Member: Sendable {
        public var entry: TarReader.Entry
        public var sha256: String?
        public var content: [UInt8]?
    }

    public private(set) var members: [Member] = []
    let path: String
    let hashing: Bool
    let captureLimit: Int
    var captureBudget: Int

    private enum State { case header, data(Int64), padding(Int64), end }
    private var state = State.header
    private var offset: Int64 = 0
    private var header: [UInt8] = []
    private var current: Member?
    private var hasher: SHA256?
    private var special: (UInt8, [UInt8])?
    private var pax: [String: String] = [:]
    private var longName: String?
    private var longLink: String?
    /// Gets the data of the members it accepts.
    public var visitor: (any TarMemberVisitor)?
    private var visiting = false

    /// - Parameters:
    ///   - hashing: sha256 every regular member.
    ///   - captureLimit: keep the bytes of regular members up to this size, `captureBudget` bytes in all.
    public init(path: String, hashing: Bool, captureLimit: Int = 1 << 20, captureBudget: Int = 64 << 20) {
        self.path = path
        self.hashing = hashing
        self.captureLimit = captureLimit
        self.captureBudget = captureBudget
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes[...]
        while !rest.isEmpty {
            switch self.state {
            case .end:
                return
            case .header:
                let take = min(512 - self.header.count, rest.count)
                self.header += rest.prefix(take)
                rest = rest.dropFirst(take)
                self.offset += Int64(take)
                if self.header.count == 512 {
                    try self.startMember()
                    self.header = []
                }
            case .data(let remaining):
                let take = Int(min(remaining, Int64(rest.count)))
                let piece = UnsafeRawBufferPointer(rebasing: rest.prefix(take))
                self.hasher?.update(piece)
                if self.visiting { try self.visitor?.data(piece) }
                if self.special != nil { self.special!.1 += piece } else if self.current?.content != nil { self.current!.content! += piece }
                rest = rest.dropFirst(take)
                self.offset += Int64(take)
                if remaining == Int64(take) { try self.finishMember() } else { self.state = .data(remaining - Int64(take)) }
            case .padding(let remaining):
                let take = Int(min(remaining, Int64(rest.count)))
                rest = rest.dropFirst(take)
                self.offset += Int64(take)
                self.state = remaining == Int64(take) ? .header : .padding(remaining - Int64(take))
            }
        }
    }

    /// The stream ended: it must have ended the archive.
    public func finish() throws(StoreError) {
        guard case .end = self.state else {
            throw StoreError(.corrupt, "\(self.path) is truncated: the tar inside ends at byte \(self.offset) without its end-of-archive blocks")
        }
    }

    private mutating func startMember() throws {
        let block = self.header
        if block.allSatisfy({ $0 == 0 }) {
            self.state = .end
            return
        }
        let at = self.offset - 512
        guard TarReader.checksumOK(block) else {
            throw StoreError(.corrupt, "\(self.path): bad tar header checksum at byte \(at); the file is damaged or not a tar archive")
        }
        var size = try TarReader.number(block[124..<136], path: self.path)
        if let s = self.pax["size"] {
            guard let v = Int64(s), v >= 0 else { throw StoreError(.corrupt, "\(self.path): bad PAX size \(s)") }
            size = v
        }
        guard size >= 0 else { throw StoreError(.corrupt, "\(self.path): a negative member size at byte \(at)") }
        let typeflag = block[156]
        switch typeflag {
        case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
            guard size <= (typeflag == UInt8(ascii: "x") || typeflag == UInt8(ascii: "g") ? 1 << 20 : 64 << 10) else {
                throw StoreError(.unsafe, "\(self.path): an extended header of \(size) bytes at byte \(at) is too large")
            }
            self.special = (typeflag, [])
        default:
            let entry = TarReader.Entry(
                name: self.pax["path"] ?? self.longName ?? TarReader.name(block), typeflag: typeflag, size: size,
                dataOffset: self.offset, linkName: self.pax["linkpath"] ?? self.longLink ?? TarReader.string(block[157..<257]))
            self.pax = [:]
            self.longName = nil
            self.longLink = nil
            let regular = typeflag == UInt8(ascii: "0") || typeflag == 0 || typeflag == UInt8(ascii: "7")
            var content: [UInt8]?
            if regular && size <= Int64(self.captureLimit) && size <= Int64(self.captureBudget) {
                content = []
                self.captureBudget -= Int(size)
            }
            self.current = Member(entry: entry, sha256: nil, content: content)
            self.hasher = regular && self.hashing ? SHA256() : nil
            self.visiting = regular ? try self.visitor?.begin(entry) ?? false : false
        }
        self.state = .data(size)
        if size == 0 { try self.finishMember() }
    }

    private mutating func finishMember() throws {
        let size: Int64
        if let (typeflag, bytes) = self.special {
            size = Int64(bytes.count)
            switch typeflag {
            case UInt8(ascii: "x"): self.pax = TarReader.parsePAX(bytes)
            case UInt8(ascii: "L"): self.longName = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            case UInt8(ascii: "K"): self.longLink = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            default: break
            }
            self.special = nil
        } else if var member = self.current {
            size = member.entry.size
            member.sha256 = self.hasher?.hexDigest()
            if self.visiting {
                self.visiting = false
                try self.visitor?.end()
            }
            self.members.append(member)
            self.current = nil
            self.hasher = nil
        } else {
            size = 0
        }
        let pad = (size + 511) / 512 * 512 - size
        self.state = pad > 0 ? .padding(pad) : .header
    }
}
