/// What transfers report while they run. The engine emits; the CLI renders (TTY, plain, JSON) and `ferry bench`
/// records. Nothing renders inside the engine.
public struct ProgressEvent: Sendable {
    public enum Kind: Sendable, Equatable {
        /// A blob transfer began; `total` is its size.
        case started(total: Int64)
        /// `count` more bytes arrived (a delta, not a running total).
        case bytes(Int64)
        /// An attempt failed and another begins.
        case retried(attempt: Int, reason: String)
        case finished
        /// Already at the destination: nothing moved.
        case skipped(total: Int64)
        /// Mounted from another repository on the same registry: nothing moved.
        case mounted(total: Int64)
        /// One image (all its blobs and manifests) is done.
        case imageFinished(reference: String)
        /// The job's plan is known: it moves at most `total` bytes of blobs (for a total that does not grow).
        case planned(total: Int64)
    }

    /// The blob's digest (`sha256:…`), or the image reference for image events.
    public var id: String
    public var kind: Kind

    public init(id: String, kind: Kind) {
        self.id = id
        self.kind = kind
    }
}

/// Receives progress events; called from many tasks at once, so it must be cheap and thread-safe.
public typealias ProgressHandler = @Sendable (ProgressEvent) -> Void
