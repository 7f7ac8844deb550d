import Spawn

/// Runs blocking work (file reads, whole-blob decompression, pipelines waited for with `runBlocking`) on a
/// dedicated thread, so that it does not hold one of Swift's few cooperative threads: on a 2-core machine two
/// such calls would otherwise stall every upload and the stall detection watching them.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DetachedThread.start { continuation.resume(with: Result { try body() }) }
    }
}
