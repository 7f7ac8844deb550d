import Codec

/// Where a file's bytes lie: the whole of a layout's blob file, or a member inside a bundle tar. Uploads stream
/// straight from it, so a bundle is pushed without being extracted or copied.
public struct BlobRegion: Sendable, Hashable {
    public var path: String
    public var offset: Int64
    public var size: Int64
    /// True when these bytes were hashed against the blob's digest on their way here (a download just verified), so a
    /// reader need not hash them again; false for bytes read from a file, whose content is checked as it is read.
    public var verified: Bool

    public init(path: String, offset: Int64, size: Int64, verified: Bool = false) {
        self.path = path
        self.offset = offset
        self.size = size
        self.verified = verified
    }
}

/// An archive that can say where a member's bytes are, for reading them in place.
protocol RegionArchive: ImageArchive {
    /// The bytes of the regular file `name`, or nil when there is none.
    func region(_ name: String) -> BlobRegion?
}

extension TarArchive: RegionArchive {
    func region(_ name: String) -> BlobRegion? {
        self.members[name].map { BlobRegion(path: self.path, offset: $0.offset, size: $0.size) }
    }
}

extension DirectoryArchive: RegionArchive {
    func region(_ name: String) -> BlobRegion? {
        self.size(name).map { BlobRegion(path: self.root + "/" + name, offset: 0, size: $0) }
    }
}

extension FileSource {
    /// Reads a blob where it lies; a file shorter than the region fails the pipeline rather than ending it early.
    convenience init(region: BlobRegion) throws {
        try self.init(path: region.path, offset: region.offset, length: region.size)
    }
}
