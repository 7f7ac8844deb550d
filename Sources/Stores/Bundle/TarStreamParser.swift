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
    private var decoder: TarHeaderDecoder
    /// Gets the data of the members it accepts.
    public var visitor: (any TarMemberVisitor)?
    private var visiting = false

    /// - Parameters:
    ///   - hashing: sha256 every regular member.
    ///   - captureLimit: keep the bytes of regular members up to this size, `captureBudget` bytes in all.
    public init(path: String, hashing: Bool, captureLimit: Int = 1 << 20, captureBudget: Int = 64 << 20) {
        self.path = path
        self.decoder = TarHeaderDecoder(path: path)
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
        switch try self.decoder.decode(self.header, at: self.offset - 512) {
        case .end:
            self.state = .end
            return
        case .extended(let typeflag, let size):
            self.special = (typeflag, [])
            self.state = .data(size)
        case .member(let entry):
            let regular = entry.typeflag == UInt8(ascii: "0") || entry.typeflag == 0 || entry.typeflag == UInt8(ascii: "7")
            var content: [UInt8]?
            if regular && entry.size <= Int64(self.captureLimit) && entry.size <= Int64(self.captureBudget) {
                content = []
                self.captureBudget -= Int(entry.size)
            }
            self.current = Member(entry: entry, sha256: nil, content: content)
            self.hasher = regular && self.hashing ? SHA256() : nil
            self.visiting = regular ? try self.visitor?.begin(entry) ?? false : false
            self.state = .data(entry.size)
        }
        if case .data(0) = self.state { try self.finishMember() }
    }

    private mutating func finishMember() throws {
        let size: Int64
        if let (typeflag, bytes) = self.special {
            size = Int64(bytes.count)
            try self.decoder.absorb(typeflag, bytes)
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
