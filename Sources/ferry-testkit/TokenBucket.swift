import NIOCore

/// The throttle of one TCP connection: `rate` bytes per second, with a bucket of 20 ms so an idle
/// connection can't burst ahead, and a minimum grant so the proxy doesn't wake up for a few bytes.
///
/// The bucket starts empty and bytes are taken before they are sent (not paid for afterwards), so
/// a 20 MB body at 10 MB/s takes 2 s to within one grant (≈5 ms).
struct TokenBucket {
    let rate: Int
    private var tokens: Double = 0
    private var updated: NIODeadline

    init(rate: Int, now: NIODeadline) {
        self.rate = rate
        self.updated = now
    }

    private var capacity: Double { min(max(Double(self.rate) / 50, 16 * 1024), 4 * 1024 * 1024) }

    /// The least worth waking up for: a quarter of the bucket (5 ms of the rate), or what is left.
    private func quantum(_ wanted: Int) -> Double { min(Double(wanted), max(1, self.capacity / 4)) }

    /// How many of `wanted` bytes may be sent now (0: wait until `readyTime`).
    mutating func take(upTo wanted: Int, now: NIODeadline) -> Int {
        self.refill(now)
        guard self.tokens >= self.quantum(wanted) else { return 0 }
        let granted = min(wanted, Int(self.tokens))
        self.tokens -= Double(granted)
        return granted
    }

    /// When `take(upTo: wanted)` will grant something.
    func readyTime(for wanted: Int) -> NIODeadline {
        let missing = max(0, self.quantum(wanted) - self.tokens)
        return self.updated + .nanoseconds(Int64((missing / Double(self.rate) * 1e9).rounded(.up)))
    }

    private mutating func refill(_ now: NIODeadline) {
        guard now > self.updated else { return }
        let elapsed = Double((now - self.updated).nanoseconds) / 1e9
        self.tokens = min(self.capacity, self.tokens + elapsed * Double(self.rate))
        self.updated = now
    }
}
