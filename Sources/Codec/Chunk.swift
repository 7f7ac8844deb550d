/// A piece of a byte stream, as sources yield it and sinks take it.
///
/// `endsFrame` asks an encoder to end its gzip member or zstd frame after these bytes (for bundles written as
/// independent frames, so that a reader can start at any frame); on the compressed side it marks the chunk that
/// ends such a frame. Decoders and hashers ignore it.
public struct Chunk: Sendable, Equatable {
    public var bytes: [UInt8]
    public var endsFrame: Bool

    public init(_ bytes: [UInt8], endsFrame: Bool = false) {
        self.bytes = bytes
        self.endsFrame = endsFrame
    }
}
