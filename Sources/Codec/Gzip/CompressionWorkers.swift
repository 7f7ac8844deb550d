/// The process-wide pool that compresses gzip blocks: a fixed number of threads, one per active core.
///
/// Every `ParallelGzipEncoder` in the process submits here, so ten layers compressed at once still use as many
/// threads as there are cores, and a second encoder's blocks queue behind the first's instead of oversubscribing
/// the machine. Jobs run in submission order. Each worker owns its libdeflate compressors.
final class CompressionWorkers: Sendable {
    typealias Job = @Sendable (DeflateCompressors) -> Void

    static let shared = CompressionWorkers(count: Threads.activeCores)

    let count: Int
    private let jobs = ConditionLock<[Job]>([])

    private init(count: Int) {
        self.count = count
        for index in 0..<count {
            Threads.start(name: "ferry-gzip-\(index)") { [jobs] in
                let compressors = DeflateCompressors()
                while true {
                    let job = jobs.wait(until: { !$0.isEmpty }) { $0.removeFirst() }
                    job(compressors)
                }
            }
        }
    }

    func submit(_ job: @escaping Job) {
        self.jobs.withLock { $0.append(job) }
        self.jobs.broadcast()
    }
}
