#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Dedicated threads for pipeline stages and compression workers.
///
/// Stages block in `read`/`write` and in C codecs for milliseconds at a time; on Swift's cooperative pool
/// (one thread per core) that would starve every other task in the process, curl's bridge included.
enum Threads {
    /// The cores this process may run on now: the fixed worker count of the compression pools.
    /// The corresponding C call is `sysconf(_SC_NPROCESSORS_ONLN)` (`sched_getaffinity` would need `_GNU_SOURCE`,
    /// which Glibc's Swift module does not define).
    static let activeCores: Int = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))

    /// Starts a detached thread running `body`. `name` is for debugging (naming the OS thread needs
    /// `pthread_setname_np`, a `_GNU_SOURCE` function the Glibc module does not show).
    static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        final class Box {
            let name: String
            let body: @Sendable () -> Void
            init(name: String, body: @escaping @Sendable () -> Void) { (self.name, self.body) = (name, body) }
        }
        let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
        #if os(Linux)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let status = pthread_create(
            &thread, nil,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        guard status == 0 else {
            // EAGAIN: the process is out of threads; nothing sensible can continue.
            preconditionFailure("pthread_create failed: \(status)")
        }
        #if os(Linux)
        pthread_detach(thread)
        #else
        pthread_detach(thread!)
        #endif
    }
}
