#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Moves bytes between us and a child's pipes with one `poll` loop: stdin is fed while stdout and stderr are
/// drained, so a child filling either pipe (or waiting for us to read before it reads more) cannot deadlock.
enum Pump {
    private static let chunk = 64 * 1024

    /// Runs until both outputs reach end of file and stdin is written (or refused); closes every descriptor.
    static func run(_ pipes: Pipes) -> (stdout: [UInt8], stderr: [UInt8]) {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var input = pipes.stdin
        var outFD = pipes.stdout
        var errFD = pipes.stderr
        var written = 0
        for fd in [input?.fd, outFD, errFD].compactMap({ $0 }) {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        if let feed = input, feed.bytes.isEmpty {
            close(feed.fd)
            input = nil
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: self.chunk, alignment: 1)
        defer { buffer.deallocate() }

        NoSIGPIPE.run {
            while input != nil || outFD != nil || errFD != nil {
                var fds: [pollfd] = []
                if let feed = input { fds.append(pollfd(fd: feed.fd, events: Int16(POLLOUT), revents: 0)) }
                if let fd = outFD { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
                if let fd = errFD { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
                let ready = poll(&fds, nfds_t(fds.count), -1)
                if ready == -1 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    break  // Cannot happen with valid descriptors; the closes below still run.
                }
                for entry in fds where entry.revents != 0 {
                    if let feed = input, entry.fd == feed.fd {
                        if self.feed(feed, written: &written) {
                            close(feed.fd)
                            input = nil
                        }
                    } else if entry.fd == outFD {
                        if self.drain(entry.fd, into: &stdout, buffer) {
                            close(entry.fd)
                            outFD = nil
                        }
                    } else if entry.fd == errFD {
                        if self.drain(entry.fd, into: &stderr, buffer) {
                            close(entry.fd)
                            errFD = nil
                        }
                    }
                }
            }
        }
        for fd in [input?.fd, outFD, errFD].compactMap({ $0 }) { close(fd) }
        return (stdout, stderr)
    }

    /// Writes what the pipe takes; true when done: all written, or the child closed its end (EPIPE), whose
    /// exit status then tells the story.
    private static func feed(_ feed: (fd: Int32, bytes: [UInt8]), written: inout Int) -> Bool {
        while written < feed.bytes.count {
            let count = feed.bytes.withUnsafeBytes { bytes in
                write(feed.fd, bytes.baseAddress! + written, min(bytes.count - written, self.chunk))
            }
            if count > 0 {
                written += count
            } else if count == -1 && errno == EINTR {
                continue
            } else if count == -1 && errno == EAGAIN {
                return false
            } else {
                return true
            }
        }
        return true
    }

    /// Reads what is there; true at end of file (or an error, which ends the stream the same way).
    private static func drain(
        _ fd: Int32, into output: inout [UInt8], _ buffer: UnsafeMutableRawBufferPointer
    ) -> Bool {
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count > 0 {
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                if count < buffer.count { return false }
            } else if count == 0 {
                return true
            } else if errno == EINTR {
                continue
            } else {
                return errno != EAGAIN
            }
        }
    }
}

/// Writing to a pipe whose reader has gone raises SIGPIPE, which kills the process unless someone ignores
/// it. Rather than change the process-wide disposition, the writing thread blocks SIGPIPE for the duration
/// (the signal is sent to the thread that wrote), and a SIGPIPE left pending by our writes is consumed
/// before the old mask comes back. The usual recipe, as in OpenSSL and libcurl.
enum NoSIGPIPE {
    static func run(_ body: () -> Void) {
        var pipeSet = sigset_t()
        sigemptyset(&pipeSet)
        sigaddset(&pipeSet, SIGPIPE)
        var old = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSet, &old)
        var pendingBefore = sigset_t()
        sigpending(&pendingBefore)
        body()
        var pendingAfter = sigset_t()
        sigpending(&pendingAfter)
        if sigismember(&pendingBefore, SIGPIPE) == 0, sigismember(&pendingAfter, SIGPIPE) == 1 {
            var zero = timespec(tv_sec: 0, tv_nsec: 0)
            while sigtimedwait(&pipeSet, nil, &zero) == -1, errno == EINTR {}
        }
        pthread_sigmask(SIG_SETMASK, &old, nil)
    }
}
