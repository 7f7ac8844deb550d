/// How a child ended: it exited with a code, or a signal killed it.
public enum ExitStatus: Sendable, Hashable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    /// Decodes a `waitpid` status word; the `WIFEXITED` family are C macros Swift cannot call.
    init(waitStatus status: Int32) {
        let low = status & 0x7f
        self = low == 0 ? .exited((status >> 8) & 0xff) : .signalled(low)
    }

    public var succeeded: Bool { self == .exited(0) }

    /// The exit code, or nil if a signal ended the child.
    public var code: Int32? {
        if case .exited(let code) = self { return code }
        return nil
    }

    /// The signal that ended the child, if one did.
    public var signal: Int32? {
        if case .signalled(let number) = self { return number }
        return nil
    }

    /// What Foundation's `Process.terminationStatus` gave: the exit code, or the signal number.
    public var codeOrSignal: Int32 {
        switch self {
        case .exited(let code): code
        case .signalled(let number): number
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exit \(code)"
        case .signalled(let number): "signal \(number)"
        }
    }
}
