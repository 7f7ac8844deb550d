import Synchronization

/// A one-shot gate: tasks wait until it opens (true) or closes (false). The extra connections of a download wait
/// here until the first Range request shows the server answers 206.
final class Gate: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Bool, Never>])
        case decided(Bool)
    }

    private let state = Mutex(State.waiting([]))

    func wait() async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            let decided = self.state.withLock { s -> Bool? in
                switch s {
                case .decided(let isOpen): return isOpen
                case .waiting(var list):
                    list.append(c)
                    s = .waiting(list)
                    return nil
                }
            }
            if let isOpen = decided { c.resume(returning: isOpen) }
        }
    }

    func decide(_ open: Bool) {
        let waiters = self.state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            guard case .waiting(let list) = s else { return [] }
            s = .decided(open)
            return list
        }
        for w in waiters { w.resume(returning: open) }
    }
}
