/// Log-like text for codec measurements, generated at run time (never committed): timestamps, levels, request
/// lines, hex ids and addresses in the proportions of a service log. `gzip -6` makes it about 3.8× smaller, close
/// to the 3.80 of the log data the issue measured, so ratios and speeds compare.
struct LogText {
    private var state: UInt64
    private var millis: UInt64 = 1_715_689_800_000

    init(seed: UInt64) {
        self.state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
    }

    private static let levels = ["INFO ", "INFO ", "INFO ", "INFO ", "DEBUG", "DEBUG", "WARN ", "ERROR"].map { Array($0.utf8) }
    private static let components = [
        "http.server", "db.pool", "cache", "auth", "scheduler", "grpc.client", "storage.s3", "queue.consumer",
    ].map { Array($0.utf8) }
    private static let methods = ["GET", "GET", "GET", "POST", "PUT", "DELETE"].map { Array($0.utf8) }
    private static let resources = [
        "users", "orders", "items", "sessions", "images", "blobs", "manifests", "tags", "tokens", "events",
    ].map { Array($0.utf8) }
    private static let agents = [
        "Mozilla/5.0 (X11; Linux x86_64)", "curl/7.88.1", "containerd/1.7.2", "Go-http-client/1.1", "skopeo/1.9.3",
        "docker/24.0.5 go/go1.20.6",
    ].map { Array($0.utf8) }
    private static let statuses: [UInt64] = [200, 200, 200, 200, 201, 204, 304, 400, 401, 404, 429, 500]
    private static let messages = [
        "request completed", "connection reused", "cache miss, fetching from upstream", "retrying after backoff",
        "slow query detected", "token refreshed", "upload finished", "checksum verified",
    ].map { Array($0.utf8) }
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// xorshift64: fast and good enough to make text that does not compress away.
    private mutating func random() -> UInt64 {
        self.state ^= self.state << 13
        self.state ^= self.state >> 7
        self.state ^= self.state << 17
        return self.state
    }

    private mutating func pick(_ table: [[UInt8]]) -> [UInt8] { table[Int(self.random() % UInt64(table.count))] }

    /// Appends whole lines until `out` holds at least `count` bytes.
    mutating func fill(_ out: inout [UInt8], count: Int) {
        while out.count < count { self.line(&out) }
    }

    private mutating func line(_ out: inout [UInt8]) {
        self.millis += self.random() % 50
        let seconds = self.millis / 1000
        out += Array("2024-05-14T".utf8)
        Self.decimal(&out, seconds / 3600 % 24, width: 2)
        out.append(UInt8(ascii: ":"))
        Self.decimal(&out, seconds / 60 % 60, width: 2)
        out.append(UInt8(ascii: ":"))
        Self.decimal(&out, seconds % 60, width: 2)
        out.append(UInt8(ascii: "."))
        Self.decimal(&out, self.millis % 1000, width: 3)
        out += Array("Z ".utf8)
        out += self.pick(Self.levels)
        out += Array(" [worker-".utf8)
        Self.decimal(&out, self.random() % 32)
        out += Array("] ".utf8)
        out += self.pick(Self.components)
        out += Array(": ".utf8)
        out += self.pick(Self.methods)
        out += Array(" /api/v1/".utf8)
        out += self.pick(Self.resources)
        out.append(UInt8(ascii: "/"))
        Self.decimal(&out, self.random() % 100_000)
        out.append(UInt8(ascii: "/"))
        out += self.pick(Self.resources)
        out += Array("?page=".utf8)
        Self.decimal(&out, self.random() % 20)
        out.append(UInt8(ascii: " "))
        Self.decimal(&out, Self.statuses[Int(self.random() % UInt64(Self.statuses.count))])
        out.append(UInt8(ascii: " "))
        Self.decimal(&out, self.random() % 65536)
        out += Array("B ".utf8)
        Self.decimal(&out, self.random() % 500)
        out.append(UInt8(ascii: "."))
        Self.decimal(&out, self.random() % 10)
        out += Array("ms req_id=".utf8)
        Self.hex(&out, self.random(), digits: 16)
        out += Array(" trace=".utf8)
        Self.hex(&out, self.random(), digits: 16)
        out += Array(" span=".utf8)
        Self.hex(&out, self.random() & 0xffff_ffff, digits: 8)
        out += Array(" client=10.".utf8)
        Self.decimal(&out, self.random() % 256)
        out.append(UInt8(ascii: "."))
        Self.decimal(&out, self.random() % 256)
        out.append(UInt8(ascii: "."))
        Self.decimal(&out, self.random() % 256)
        out += Array(" ua=\"".utf8)
        out += self.pick(Self.agents)
        out += Array("\" msg=\"".utf8)
        out += self.pick(Self.messages)
        out += Array("\"\n".utf8)
    }

    private static func decimal(_ out: inout [UInt8], _ value: UInt64, width: Int = 1) {
        var digits: [UInt8] = []
        var v = value
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(v % 10))
            v /= 10
        } while v > 0
        while digits.count < width { digits.append(UInt8(ascii: "0")) }
        out += digits.reversed()
    }

    private static func hex(_ out: inout [UInt8], _ value: UInt64, digits: Int) {
        for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
            out.append(self.hexDigits[Int((value >> UInt64(shift)) & 0xf)])
        }
    }
}
