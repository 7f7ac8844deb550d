import OCI

/// The layout of a bundle tar, fixed before any data arrives: every member's header and data offset.
///
/// Blob sizes come from descriptors, so chunks can be written straight to their final place and resume needs only
/// the journals. Small members (metadata, manifests) carry their bytes; blob members are filled by downloads.
public struct BundlePlan: Sendable {
    public struct Member: Sendable {
        public var header: TarHeader
        /// Where the header starts.
        public var offset: Int64
        /// Where the data starts.
        public var dataOffset: Int64 { self.offset + self.header.headerLength }
        /// The bytes, for members known now; `nil` for blobs still to fetch.
        public var content: [UInt8]?
        public var digest: Digest?
    }

    public private(set) var members: [Member] = []
    /// Total tar size, including the two zero blocks at the end.
    public private(set) var size: Int64 = 0

    public init() {}

    public mutating func addDirectory(_ name: String) {
        self.append(Member(header: TarHeader(name: name, size: 0, kind: .directory), offset: self.size))
    }

    public mutating func addFile(_ name: String, content: [UInt8], digest: Digest? = nil) {
        self.append(Member(header: TarHeader(name: name, size: Int64(content.count)), offset: self.size, content: content, digest: digest))
    }

    /// A blob member whose bytes will be downloaded into place.
    public mutating func addBlob(_ descriptor: Descriptor) {
        self.append(Member(
            header: TarHeader(name: "blobs/\(descriptor.digest.algorithm)/\(descriptor.digest.hex)", size: descriptor.size),
            offset: self.size, content: nil, digest: descriptor.digest))
    }

    private mutating func append(_ member: Member) {
        self.members.append(member)
        self.size = member.dataOffset + member.header.paddedSize
    }

    /// The finished tar's size: members plus the two zero blocks that end an archive.
    public var archiveSize: Int64 { self.size + 1024 }

    /// A fingerprint of the plan: a save resumes only into a partial file laid out identically.
    public var fingerprint: String {
        self.members.map { "\($0.header.name) \($0.header.size) \($0.offset) \($0.digest?.description ?? "-")" }.joined(separator: "\n")
    }
}
