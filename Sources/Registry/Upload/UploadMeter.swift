import Synchronization
import Transfer

/// What one blob's upload has handed to the connection: progress as the bytes go out (not only when the registry
/// answers), and the clock the stall watch reads. Fed from the engine thread by curl's read callback.
final class UploadMeter: Sendable {
    private struct State {
        /// Bytes shown as done.
        var reported: Int64 = 0
        /// Body bytes of the request in flight handed to curl so far, and its length.
        var requestSent: Int64 = 0
        var requestLength: Int64 = 0
        var lastByte = ContinuousClock.now
    }

    private let state = Mutex(State())
    private let id: String
    private let progress: ProgressHandler?

    init(id: String, progress: ProgressHandler?) {
        self.id = id
        self.progress = progress
    }

    /// A request with a body of `length` bytes starts.
    func begin(length: Int64) {
        self.state.withLock {
            $0.requestSent = 0
            $0.requestLength = length
            $0.lastByte = .now
        }
    }

    /// `count` more body bytes went to the connection.
    func sent(_ count: Int64) {
        self.state.withLock {
            $0.reported += count
            $0.requestSent += count
            $0.lastByte = .now
        }
        self.progress?(ProgressEvent(id: self.id, kind: .bytes(count)))
    }

    /// Shows `total` bytes as done: the registry's word, after an answer or a recovery (or 0 for a restart).
    func settle(at total: Int64) {
        let delta = self.state.withLock { s -> Int64 in
            defer { s.reported = total }
            return total - s.reported
        }
        if delta != 0 { self.progress?(ProgressEvent(id: self.id, kind: .bytes(delta))) }
    }

    var reported: Int64 { self.state.withLock { $0.reported } }

    /// Seconds since the last body byte went out, and whether the whole body has (so only the answer is awaited).
    var idle: (seconds: Double, bodyDone: Bool) {
        self.state.withLock { s in
            let elapsed = ContinuousClock.now - s.lastByte
            return (elapsed.inSeconds, s.requestSent >= s.requestLength)
        }
    }
}

extension BlobUpload {
    /// Runs one request with a body under a watch: dropped when no byte has gone out for `stallTimeout` seconds
    /// (a link that went silent keeps a TCP connection open for many minutes), or when the answer takes longer than
    /// `answerTimeout` once the body is out. The drop is a transient error, so the session is asked where it stands.
    func watched(
        length: Int64, meter: UploadMeter,
        _ send: @escaping @Sendable (@escaping @Sendable (Int64) -> Void) async throws -> (Response, [UInt8])
    ) async throws -> (Response, [UInt8]) {
        let stall = self.options.stallTimeout, answer = self.options.answerTimeout, what = self.what
        meter.begin(length: length)
        return try await withThrowingTaskGroup(of: (Response, [UInt8])?.self) { group in
            group.addTask { try await send { count in meter.sent(count) } }
            group.addTask {
                while true {
                    try await Task.sleep(for: .milliseconds(250))
                    let (idle, bodyDone) = meter.idle
                    if !bodyDone && idle > stall {
                        throw RegistryError(.transfer, "\(what): nothing could be sent for \(Int(stall)) s; the connection stalled")
                    }
                    if bodyDone && idle > answer {
                        throw RegistryError(.transfer, "\(what): no answer \(Int(answer)) s after the last byte")
                    }
                }
            }
            defer { group.cancelAll() }
            // The watch never returns a value: the first result is the request's.
            guard let first = try await group.next(), let outcome = first else {
                throw RegistryError(.transfer, "\(what): the request ended without an answer")
            }
            return outcome
        }
    }
}
