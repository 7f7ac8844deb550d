import CSpawn

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Our ends of a child's pipes, each non-blocking and close-on-exec, owned by whoever pumps them.
struct Pipes: Sendable {
    var stdin: (fd: Int32, bytes: [UInt8])?
    var stdout: Int32?
    var stderr: Int32?
}

/// Turns a `Command` into `posix_spawn` file actions and attributes, and starts it.
///
/// Descriptors: everything we open is O_CLOEXEC, and the child closes every descriptor above 2 before exec
/// (`posix_spawn_file_actions_addclosefrom_np`, glibc 2.34+), so it inherits no socket or file from us even
/// when another library opened it without O_CLOEXEC (libcurl's sockets, Foundation's files). Where closefrom
/// is missing, such descriptors can leak into the child; acceptable for the short-lived tools and the servers
/// we stop ourselves that we run. We never list /proc/self/fd, which is what crashes Foundation's Process.
enum Launch {
    static func start(_ command: Command) throws(SpawnError) -> (pid: pid_t, pipes: Pipes) {
        let path = try Executable.resolve(command.argv[0])
        if let directory = command.currentDirectory {
            var info = stat()
            guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw SpawnError("cannot run \(command.argv[0]) in \(directory): no such directory")
            }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Closed in the parent once the child has started (or failed to).
        var childEnds: [Int32] = []
        defer { for fd in childEnds { close(fd) } }
        var pipes = Pipes()
        var started = false
        defer {
            if !started {
                for fd in [pipes.stdin?.fd, pipes.stdout, pipes.stderr].compactMap({ $0 }) { close(fd) }
            }
        }

        switch command.standardInput {
        case .null:
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .bytes(let bytes):
            let (read, write) = try self.pipe()
            childEnds.append(read)
            pipes.stdin = (write, bytes)
            posix_spawn_file_actions_adddup2(&actions, read, 0)
        case .file(let file):
            let fd = try self.openFile(file, O_RDONLY, for: "stdin")
            childEnds.append(fd)
            posix_spawn_file_actions_adddup2(&actions, fd, 0)
        case .inherit:
            break
        }
        for (output, target) in [(command.standardOutput, Int32(1)), (command.standardError, Int32(2))] {
            switch output {
            case .null:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            case .capture:
                let (read, write) = try self.pipe()
                childEnds.append(write)
                if target == 1 { pipes.stdout = read } else { pipes.stderr = read }
                posix_spawn_file_actions_adddup2(&actions, write, target)
            case .file(let file):
                let fd = try self.openFile(file, O_WRONLY | O_CREAT | O_TRUNC, for: target == 1 ? "stdout" : "stderr")
                childEnds.append(fd)
                posix_spawn_file_actions_adddup2(&actions, fd, target)
            case .inherit:
                break
            }
        }
        // After the dup2s: they clear close-on-exec on 0-2, closefrom drops everything else.
        _ = CSpawn_addclosefrom(&actions, 3)
        if let directory = command.currentDirectory {
            let rc = CSpawn_addchdir(&actions, directory)
            if rc != 0 { throw SpawnError.system("cannot run \(command.argv[0]) in \(directory)", rc) }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Children start with no blocked signals and every handler at its default, whatever our threads
        // block or ignore (the pump blocks SIGPIPE; test runners may ignore it).
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        if command.newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = CStrings(command.argv)
        defer { argv.release() }
        let environment = command.environment.map { CStrings($0.map { "\($0.key)=\($0.value)" }) }
        defer { environment?.release() }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv.pointers, environment?.pointers ?? environ)
        guard rc == 0 else { throw SpawnError.system("cannot start \(command.argv[0]) (\(path))", rc) }
        started = true
        return (pid, pipes)
    }

    /// A close-on-exec pipe, both ends; our end is made non-blocking by the pump.
    private static func pipe() throws(SpawnError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard CSpawn_pipe_cloexec(&fds) == 0 else { throw SpawnError.system("cannot make a pipe", errno) }
        return (fds[0], fds[1])
    }

    private static func openFile(_ path: String, _ flags: Int32, for stream: String) throws(SpawnError) -> Int32 {
        var fd: Int32
        repeat { fd = open(path, flags | O_CLOEXEC, 0o644) } while fd == -1 && errno == EINTR
        guard fd >= 0 else { throw SpawnError.system("cannot open \(path) for the child's \(stream)", errno) }
        return fd
    }
}

/// A NULL-terminated array of C strings (argv, envp), freed explicitly.
private struct CStrings {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>

    init(_ strings: [String]) {
        self.pointers = .allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { self.pointers[index] = strdup(string) }
        self.pointers[strings.count] = nil
    }

    func release() {
        var index = 0
        while let string = self.pointers[index] {
            free(string)
            index += 1
        }
        self.pointers.deallocate()
    }
}
