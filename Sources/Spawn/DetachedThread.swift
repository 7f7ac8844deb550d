#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A plain detached thread for blocking work (poll loops, waitpid) that must not occupy the Swift cooperative
/// pool or a Dispatch worker: one per child, so any number of children can be awaited at once. `package` for
/// Mirror's blocking archive work, which needs the same.
package enum DetachedThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    package static func start(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attributes, { context in
            let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
            body.run()
            return nil
        }, context)
        if rc != 0 {
            // Out of threads: run inline rather than lose the work (it blocks the caller, it does not hang).
            Unmanaged<Body>.fromOpaque(context).takeRetainedValue().run()
        }
    }
}
