import Glibc
import Synchronization

/// A piece of a response body, in page-aligned memory of its own.
///
/// curl's write callback copies into it, and a reader that asked for placement (`ResponseBody.place`) finds byte 0
/// at the same offset within an aligned block as the file offset it is bound for: whole blocks can then go to an
/// `O_DIRECT` file straight from here, with no second copy.
///
/// Filled by the engine thread under its easy handle's lock, then handed to one reader and never written again
/// until the reader gives it back (`ResponseBody` recycles a chunk only when nothing else holds it).
/// Safe to share on those terms: one writer at a time, and readers only after the hand-off.
public final class BodyChunk: @unchecked Sendable {
    /// Memory alignment of every chunk; enough for `O_DIRECT` on any Linux file system here.
    static let alignment = 4096

    private let memory: UnsafeMutableRawPointer
    let capacity: Int
    /// Byte 0 sits this far into `memory`.
    private(set) var lead: Int
    public private(set) var count = 0

    /// Room for `bytes` after `lead` bytes of padding.
    init(lead: Int, room bytes: Int) {
        self.capacity = (lead + bytes + Self.alignment - 1) / Self.alignment * Self.alignment
        // A mapping of its own, not the heap: chunks are allocated on the engine thread and freed on the reader's,
        // and glibc's arenas kept tens of MiB of such aligned megabyte blocks after a slow reader had let them go.
        guard let pointer = mmap(nil, self.capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            pointer != MAP_FAILED
        else {
            fatalError("out of memory for a \(self.capacity)-byte response buffer")
        }
        self.memory = pointer
        self.lead = lead
    }

    deinit { munmap(self.memory, self.capacity) }

    /// Bytes that still fit.
    var room: Int { self.capacity - self.lead - self.count }

    func append(_ bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count <= self.room)
        (self.memory + self.lead + self.count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        self.count += bytes.count
    }

    /// Chunks readers gave back, filled again instead of mapping (and faulting in) new memory: a save of 2 GiB
    /// had mapped some 650 chunks, one request after another. Kept few, so idle memory stays small.
    private static let pool = Mutex<[BodyChunk]>([])
    private static let pooled = 16

    /// An empty chunk with byte 0 at `lead` and room for `bytes` after it: a pooled one if one is large enough.
    static func take(lead: Int, room bytes: Int) -> BodyChunk {
        let reused = Self.pool.withLock { pool -> BodyChunk? in
            guard let i = pool.lastIndex(where: { lead + bytes <= $0.capacity }) else { return nil }
            return pool.remove(at: i)
        }
        guard let reused else { return BodyChunk(lead: lead, room: bytes) }
        reused.lead = lead
        reused.count = 0
        return reused
    }

    /// A chunk nothing else refers to any more, for `take` to hand out again.
    static func giveBack(_ chunk: BodyChunk) {
        Self.pool.withLock { pool in
            if pool.count < Self.pooled { pool.append(chunk) }
        }
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: self.memory + self.lead, count: self.count))
    }

    /// A copy of the bytes.
    public var bytes: [UInt8] { self.withUnsafeBytes { Array($0) } }
}
