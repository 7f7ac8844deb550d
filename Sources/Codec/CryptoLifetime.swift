internal import CCrypto

/// libcrypto's lifetime in a process with many threads.
public enum CryptoLifetime {
    /// Keeps libcrypto alive until the process is gone: call first thing in `main`, before anything else (libcurl
    /// included) initialises OpenSSL.
    ///
    /// By default OpenSSL frees its global locks in an `atexit` handler. When `exit` runs while another thread is
    /// still inside libcrypto (a hash on the cooperative pool, a TLS connection closing on the engine thread), that
    /// thread then unlocks a freed lock: `ferry copy` over HTTPS crashed with SIGSEGV in `pthread_rwlock_unlock`
    /// after printing its result, about one run in thirty. The memory is the kernel's to reclaim at exit anyway.
    public static func keepThroughExit() {
        _ = OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_ATEXIT), nil)
    }
}
