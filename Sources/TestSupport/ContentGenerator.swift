/// Deterministic layer content: the same seed always gives the same bytes, on any machine.
protocol ContentGenerator {
    /// Fills the whole buffer with the next bytes of the stream.
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

/// wyrand (Wang Yi's PRNG): one multiply-xor per 8 bytes, so incompressible content costs less than hashing it.
struct WyRand: Sendable {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0xa076_1d64_78bd_642f
        let product = self.state.multipliedFullWidth(by: self.state ^ 0xe703_7ed1_a0b4_28db)
        return product.high ^ product.low
    }

    /// splitmix64 of a few values: independent seeds for each layer of each platform from one image seed.
    static func mix(_ values: UInt64...) -> UInt64 {
        var z: UInt64 = 0x9e37_79b9_7f4a_7c15
        for value in values {
            z = (z ^ value) &+ 0x9e37_79b9_7f4a_7c15
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            z = z ^ (z >> 31)
        }
        return z
    }
}

/// `count` incompressible bytes from `seed`, the same on every run. Tests use it instead of
/// `SystemRandomNumberGenerator`, which makes a system call for every value it returns.
public func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var content = RandomContent(seed: seed)
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { content.fill($0) }
    return bytes
}

/// Incompressible bytes (gzip cannot shrink them): stands in for binaries and already-compressed files.
struct RandomContent: ContentGenerator {
    private var random: WyRand

    init(seed: UInt64) { self.random = WyRand(seed: seed) }

    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        let words = buffer.count / 8
        // Written byte-wise through storeBytes so the buffer needs no particular alignment.
        for index in 0..<words {
            buffer.storeBytes(of: self.random.next().littleEndian, toByteOffset: index * 8, as: UInt64.self)
        }
        var tail = self.random.next()
        for index in (words * 8)..<buffer.count {
            buffer[index] = UInt8(truncatingIfNeeded: tail)
            tail >>= 8
        }
    }
}

/// Log-like text lines (timestamps, levels, request paths, numbers): compresses about as well as real logs and
/// config files, so compressed and uncompressed sizes differ the way they do in real layers.
struct LogLineContent: ContentGenerator {
    private var random: WyRand
    private var line: [UInt8] = []
    private var position = 0
    private var second: UInt64 = 0

    private static let levels: [[UInt8]] = ["INFO ", "INFO ", "INFO ", "DEBUG", "WARN ", "ERROR"].map { Array($0.utf8) }
    private static let methods: [[UInt8]] = ["GET", "GET", "GET", "POST", "PUT", "DELETE"].map { Array($0.utf8) }
    private static let paths: [[UInt8]] = [
        "/api/v1/orders/", "/api/v1/customers/", "/api/v2/inventory/items/", "/healthz?probe=", "/static/assets/app.",
        "/api/v1/auth/session/", "/metrics/scrape/", "/api/v1/search?q=",
    ].map { Array($0.utf8) }
    private static let statuses: [[UInt8]] = ["200", "200", "200", "201", "204", "304", "404", "500"].map {
        Array($0.utf8)
    }

    init(seed: UInt64) { self.random = WyRand(seed: seed) }

    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        while offset < buffer.count {
            if self.position == self.line.count {
                self.makeLine()
            }
            let count = min(buffer.count - offset, self.line.count - self.position)
            self.line.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[self.position..<(self.position + count)]))
            }
            offset += count
            self.position += count
        }
    }

    /// One line such as `2024-03-01T12:34:56.789Z INFO  [worker-07] GET /api/v1/orders/48213 status=200 bytes=1532
    /// duration_ms=12 trace=9f3a6c1e0b2d4a17`.
    private mutating func makeLine() {
        let r = self.random.next()
        let s = self.random.next()
        self.second &+= r & 1  // several lines share a second, as in real logs
        self.line.removeAll(keepingCapacity: true)
        self.append("2024-03-01T")
        let seconds = self.second % 86_400
        self.appendDecimal(seconds / 3600, width: 2)
        self.line.append(UInt8(ascii: ":"))
        self.appendDecimal(seconds / 60 % 60, width: 2)
        self.line.append(UInt8(ascii: ":"))
        self.appendDecimal(seconds % 60, width: 2)
        self.line.append(UInt8(ascii: "."))
        self.appendDecimal((r >> 8) % 1000, width: 3)
        self.append("Z ")
        self.line += Self.levels[Int((r >> 20) % UInt64(Self.levels.count))]
        self.append(" [worker-")
        self.appendDecimal((r >> 24) % 16, width: 2)
        self.append("] ")
        self.line += Self.methods[Int((r >> 28) % UInt64(Self.methods.count))]
        self.line.append(UInt8(ascii: " "))
        self.line += Self.paths[Int((r >> 32) % UInt64(Self.paths.count))]
        self.appendDecimal((r >> 36) % 100_000, width: 1)
        self.append(" status=")
        self.line += Self.statuses[Int((r >> 54) % UInt64(Self.statuses.count))]
        self.append(" bytes=")
        self.appendDecimal(s % 65_536, width: 1)
        self.append(" duration_ms=")
        self.appendDecimal((s >> 16) % 2_000, width: 1)
        self.append(" trace=")
        self.appendHex(s >> 32, digits: 8)
        self.appendHex(r & 0xffff_ffff, digits: 8)
        self.line.append(UInt8(ascii: "\n"))
        self.position = 0
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { self.line.append(contentsOf: $0) }
    }

    private mutating func appendDecimal(_ value: UInt64, width: Int) {
        var digits: [UInt8] = []
        var rest = value
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        while digits.count < width { digits.append(UInt8(ascii: "0")) }
        self.line.append(contentsOf: digits.reversed())
    }

    private mutating func appendHex(_ value: UInt64, digits: Int) {
        let alphabet: StaticString = "0123456789abcdef"
        for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
            self.line.append(alphabet.utf8Start[Int((value >> UInt64(shift)) & 0xf)])
        }
    }
}
