import Codec
import Glibc
import Stores

/// Sends the tar's bytes into the encoder's channel from content offset `position` on (bytes before it are already
/// in durable frames), marking where frames end: at every member's end and every `Saver.frameContent` bytes.
struct TarProducer {
    let plan: BundlePlan
    let channel: ByteChannel
    /// The next content byte to send.
    var position: Int64
    private var sinceFrameEnd: Int64 = 0

    init(plan: BundlePlan, channel: ByteChannel, position: Int64) {
        self.plan = plan
        self.channel = channel
        self.position = position
    }

    /// `bytes` are the tar's bytes at content offset `offset`.
    mutating func send(_ bytes: [UInt8], at offset: Int64, endsMember: Bool) async throws {
        let skip = Int(max(0, min(Int64(bytes.count), self.position - offset)))
        var rest = bytes[skip...]
        while !rest.isEmpty {
            let take = Int(min(Int64(rest.count), Saver.frameContent - self.sinceFrameEnd))
            // The common case, all of `bytes` inside the current frame, goes on without a copy.
            let piece = take == bytes.count ? bytes : Array(rest.prefix(take))
            rest = rest.dropFirst(take)
            try await self.emit(piece, endsFrame: self.sinceFrameEnd + Int64(take) >= Saver.frameContent || (rest.isEmpty && endsMember))
        }
        if bytes.count == skip && endsMember && self.sinceFrameEnd > 0 && offset + Int64(bytes.count) >= self.position {
            try await self.emit([], endsFrame: true)
        }
    }

    /// The staged blob at `path`, as member data at content offset `offset`.
    mutating func sendFile(_ path: String, at offset: Int64, size: Int64) async throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MirrorError(.failed, "cannot open staged blob \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        // Read in pieces and sent as any other bytes of the tar: `send` skips what is already in durable frames and
        // ends frames; a piece's buffer is not zero-filled first, since pread overwrites all of it.
        var done = max(0, min(size, self.position - offset))
        while done < size {
            let want = Int(min(size - done, 1 << 20))
            let buffer = try [UInt8](unsafeUninitializedCapacity: want) { bytes, filled in
                let n = pread(fd, bytes.baseAddress, want, off_t(done))
                guard n > 0 else { throw MirrorError(.failed, "staged blob \(path) is shorter than \(size) bytes; run the same command again") }
                filled = n
            }
            try await self.send(buffer, at: offset + done, endsMember: false)
            done += Int64(buffer.count)
        }
    }

    private mutating func emit(_ bytes: [UInt8], endsFrame: Bool) async throws {
        self.position += Int64(bytes.count)
        self.sinceFrameEnd += Int64(bytes.count)
        if endsFrame { self.sinceFrameEnd = 0 }
        try await self.channel.send(bytes, endsFrame: endsFrame)
    }
}
