import ArgumentParser
import Dispatch
import Foundation
import Mirror
import OCI
import Registry
import Stores
import Transfer

/// Runs a command's job with Ctrl-C/SIGTERM handling and maps failures to exit codes (DESIGN §2):
/// 0 success, 1 failure, 2 usage error, 130/143 interrupted.
enum Run {
    static func job(progress: ProgressRenderer? = nil, _ body: @escaping @Sendable () async throws -> Void) async throws {
        let work = Task { try await body() }
        let signals = SignalWatcher { _ in work.cancel() }
        defer { signals.stop() }
        do {
            try await work.value
        } catch {
            progress?.finish()
            if let signal = signals.received {
                Self.fail("interrupted: run the same command again to resume")
                throw ExitCode(128 + signal)
            }
            throw Self.exit(for: error)
        }
    }

    static func exit(for error: any Error) -> ExitCode {
        switch error {
        case let e as MirrorError:
            Self.fail(e.message)
            return e.code == .usage ? .validationFailure : .failure
        case let e as RegistryError:
            Self.fail(e.message)
            return e.code == .usage ? .validationFailure : .failure
        case let e as OCIError:
            Self.fail(e.description)
            return .validationFailure
        case let e as TransferError:
            Self.fail(e.message)
            return .failure
        case let e as StoreError:
            Self.fail(e.message)
            return .failure
        case is CancellationError:
            Self.fail("interrupted: run the same command again to resume")
            return .failure
        default:
            Self.fail("\(error)")
            return .failure
        }
    }

    static func fail(_ message: String) {
        FileHandle.standardError.write(Data("ferry: error: \(message)\n".utf8))
    }
}

/// Watches SIGINT and SIGTERM; the first one cancels the job, a second one exits at once.
final class SignalWatcher: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private let lock = NSLock()
    private var _received: Int32?

    var received: Int32? { self.lock.withLock { self._received } }

    init(onSignal: @escaping @Sendable (Int32) -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                let first = self.lock.withLock { () -> Bool in
                    defer { if self._received == nil { self._received = sig } }
                    return self._received == nil
                }
                if first {
                    onSignal(sig)
                } else {
                    FileHandle.standardError.write(Data("ferry: interrupted again, exiting now; run the same command to resume\n".utf8))
                    Foundation.exit(128 + sig)
                }
            }
            source.resume()
            self.sources.append(source)
        }
    }

    func stop() {
        for s in self.sources { s.cancel() }
    }
}
