import Foundation
import Transfer

/// Exponential backoff with jitter for requests whose whole answer is small (ping, token, manifest, HEAD).
public struct RetryPolicy: Sendable {
    public var attempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    /// A `Retry-After` longer than this is a quota, not a hiccup: fail fast with a hint.
    public var maxRetryAfter: Double

    public init(attempts: Int = 5, baseDelay: Double = 0.2, maxDelay: Double = 10, maxRetryAfter: Double = 60) {
        self.attempts = attempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    public static let `default` = RetryPolicy()

    /// Full jitter: a random pause in [0, min(max, base·2^attempt)].
    public func delay(attempt: Int) -> Double {
        let cap = min(self.maxDelay, self.baseDelay * pow(2, Double(attempt)))
        return Double.random(in: cap / 2...cap)
    }
}

enum Retry {
    /// Runs `body` until it succeeds, its answer passes `check`, or the policy gives up.
    /// `check` turns a retryable answer (429, 5xx) into an error; `nil` accepts the answer.
    static func run<T: Sendable>(
        what: String,
        policy: RetryPolicy = .default,
        _ body: @Sendable () async throws -> (Response, T),
        check: @Sendable (Response, T) -> RegistryError?
    ) async throws -> (Response, T) {
        var attempt = 0
        while true {
            try Task.checkCancellation()
            let failure: RegistryError
            do {
                let (response, value) = try await body()
                guard let e = check(response, value) else { return (response, value) }
                failure = e
            } catch let e as RegistryError where e.isTemporary {
                failure = e
            }
            attempt += 1
            if failure.isQuota { throw failure }
            if let after = failure.retryAfter, after > policy.maxRetryAfter {
                throw RegistryError(failure.code, failure.message + "; the registry asks to wait \(Int(after))s: this looks like a quota, try again later or with credentials that have a higher limit", status: failure.status, diagnostics: failure.diagnostics, retryAfter: after)
            }
            guard attempt < policy.attempts else { throw failure }
            let pause = failure.retryAfter ?? policy.delay(attempt: attempt)
            try await Task.sleep(nanoseconds: UInt64(pause * 1e9))
        }
    }
}
