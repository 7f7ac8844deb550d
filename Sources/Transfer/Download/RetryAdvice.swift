/// What to do after a failed attempt, decided by the layer that knows the protocol (the registry client).
public enum RetryAdvice: Sendable, Equatable {
    /// Try again, after `after` seconds if the server said so (`Retry-After`), else after the backoff.
    case retry(after: Double?)
    case fail

    /// Network trouble is always worth another attempt; anything else only if `classify` says so.
    static func advise(_ error: any Error, classify: (any Error) -> RetryAdvice) -> RetryAdvice {
        if let t = error as? TransferError, t.isTransient { return .retry(after: nil) }
        return classify(error)
    }
}

/// Exponential backoff with full jitter, capped.
func backoff(attempt: Int, base: Double = 0.25, cap: Double = 8) -> Double {
    let ceiling = min(cap, base * Double(1 << min(attempt, 16)))
    return Double.random(in: ceiling / 2...ceiling)
}
