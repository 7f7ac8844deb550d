/// Runs `body` for every item, at most `jobs` at once, in order of `items`; each result is handed to `collect` on
/// the calling task as it comes in (so it may touch the caller's state). The first error cancels the rest and is
/// what this throws.
func forEachConcurrently<Item: Sendable, Result: Sendable>(
    _ items: some Sequence<Item>, jobs: Int,
    _ body: @escaping @Sendable (Item) async throws -> Result,
    collect: (Result) throws -> Void = { _ in }
) async throws {
    try await withThrowingTaskGroup(of: Result.self) { group in
        var pending = items.makeIterator()
        for _ in 0..<max(1, jobs) {
            guard let next = pending.next() else { break }
            group.addTask { try await body(next) }
        }
        while let result = try await group.next() {
            try collect(result)
            if let next = pending.next() { group.addTask { try await body(next) } }
        }
    }
}
