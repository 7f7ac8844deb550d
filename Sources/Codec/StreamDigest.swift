/// The size and sha256 of one byte stream as it went through a pipeline stage.
public struct StreamDigest: Sendable, Hashable, CustomStringConvertible {
    /// Bytes seen.
    public var size: Int64
    /// Lowercase hex sha256 of those bytes, or `nil` when the pipeline was told not to hash this stream.
    public var sha256: String?

    public init(size: Int64, sha256: String?) {
        self.size = size
        self.sha256 = sha256
    }

    /// `sha256:<hex>`, the OCI digest form.
    public var digest: String? { self.sha256.map { "sha256:" + $0 } }

    public var description: String { "\(self.digest ?? "unhashed") (\(self.size) bytes)" }
}

/// Counts bytes and, optionally, hashes them: one per stream in a pipeline.
struct DigestCounter: Sendable {
    private var hasher: SHA256?
    private(set) var size: Int64 = 0

    init(hashing: Bool) {
        self.hasher = hashing ? SHA256() : nil
    }

    mutating func update(_ bytes: [UInt8]) {
        self.size += Int64(bytes.count)
        if self.hasher != nil {
            bytes.withUnsafeBytes { self.hasher!.update($0) }
        }
    }

    var result: StreamDigest {
        StreamDigest(size: self.size, sha256: self.hasher?.hexDigest())
    }
}
