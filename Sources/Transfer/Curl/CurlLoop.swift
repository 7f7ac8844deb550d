internal import CCurl
import Foundation
import Synchronization

/// The one thread that owns a `CURLM` and every easy handle in it.
///
/// Swift tasks never touch handles: they queue a `Command` and wake the thread with `curl_multi_wakeup`,
/// which is the only libcurl call documented as safe from any thread.
final class CurlLoop: @unchecked Sendable {
    enum Command {
        case add(CurlEasy)
        case remove(CurlEasy)
        case unpause(CurlEasy)
        case shutdown
    }

    private let multi: UnsafeMutableRawPointer
    private let commands = Mutex<[Command]>([])
    /// Engine thread only: handles in the multi, keyed by the easy handle's address.
    private var active: [UnsafeMutableRawPointer: CurlEasy] = [:]

    let trace: (@Sendable (String) -> Void)?

    init(maxConnections: Int, trace: (@Sendable (String) -> Void)? = nil) {
        self.trace = trace
        CurlGlobal.initialize()
        guard let m = curl_multi_init() else { fatalError("libcurl could not create a multi handle") }
        self.multi = m
        _ = CCurl_multi_setopt_long(m, CURLMOPT_MAXCONNECTS, maxConnections)
        let thread = Thread { [self] in self.run() }
        thread.name = "ferry-curl"
        thread.start()
    }

    deinit {
        curl_multi_cleanup(self.multi)
    }

    func submit(_ command: Command) {
        self.commands.withLock { $0.append(command) }
        curl_multi_wakeup(self.multi)
    }

    private func run() {
        var running: Int32 = 0
        while true {
            let pending = self.commands.withLock { c -> [Command] in
                defer { c.removeAll(keepingCapacity: true) }
                return c
            }
            for command in pending {
                switch command {
                case .add(let easy): self.add(easy)
                case .remove(let easy): self.remove(easy, result: .failure(TransferError(.cancelled, "cancelled")))
                case .unpause(let easy): easy.resumeFromPause()
                case .shutdown:
                    for easy in Array(self.active.values) {
                        self.remove(easy, result: .failure(TransferError(.cancelled, "engine shut down")))
                    }
                    // The multi handle is freed in deinit: a late submit (a body dropped after shutdown) must
                    // still find it valid for curl_multi_wakeup.
                    return
                }
            }
            _ = curl_multi_perform(self.multi, &running)
            self.readMessages()
            _ = curl_multi_poll(self.multi, nil, 0, 1000, nil)
        }
    }

    private func add(_ easy: CurlEasy) {
        if easy.state.withLock({ $0.cancelled }) {
            easy.finish(.failure(TransferError(.cancelled, "cancelled")))
            return
        }
        if let error = easy.start() {
            easy.cleanup()
            easy.finish(.failure(error))
            return
        }
        guard let h = easy.handle else { return }
        if let trace = self.trace {
            let r = easy.request
            var text = "> \(r.method.rawValue) \(Redaction.url(r.url))"
            if let range = r.headers["range"] { text += " (\(range))" }
            if r.body.length > 0 { text += " [\(r.body.length) bytes]" }
            for (name, value) in r.headers where name.lowercased() != "range" { text += "\n>   \(Redaction.header(name, value))" }
            trace(text)
        }
        self.active[h] = easy
        let rc = curl_multi_add_handle(self.multi, h)
        if rc != CURLM_OK {
            self.active[h] = nil
            easy.cleanup()
            easy.finish(.failure(TransferError(.other, "libcurl refused a request: \(String(cString: curl_multi_strerror(rc)))")))
        }
    }

    private func remove(_ easy: CurlEasy, result: Result<Void, TransferError>) {
        guard let h = easy.handle, self.active.removeValue(forKey: h) != nil else { return }
        _ = curl_multi_remove_handle(self.multi, h)
        easy.cleanup()
        easy.finish(result)
    }

    private func readMessages() {
        var left: Int32 = 0
        while let msg = curl_multi_info_read(self.multi, &left) {
            guard msg.pointee.msg == CURLMSG_DONE, let h = msg.pointee.easy_handle, let easy = self.active[h] else { continue }
            let code = msg.pointee.data.result
            let result: Result<Void, TransferError> = code == CURLE_OK ? .success(()) : .failure(Self.error(code, easy))
            self.remove(easy, result: result)
        }
    }

    private static func error(_ code: CURLcode, _ easy: CurlEasy) -> TransferError {
        let detail = easy.curlErrorMessage(code)
        let url = easy.request.url
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return TransferError(.couldNotResolve, "cannot resolve host for \(url): \(detail)")
        case CURLE_COULDNT_CONNECT:
            return TransferError(.couldNotConnect, "cannot connect to \(url): \(detail)")
        case CURLE_OPERATION_TIMEDOUT:
            return TransferError(.timeout, "timed out talking to \(url): \(detail)")
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CONNECT_ERROR,
            CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return TransferError(.tls, "TLS failure with \(url): \(detail)")
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return TransferError(.connectionLost, "connection lost with \(url): \(detail)")
        case CURLE_WRITE_ERROR, CURLE_ABORTED_BY_CALLBACK, CURLE_READ_ERROR:
            return TransferError(.cancelled, "transfer of \(url) stopped: \(detail)")
        case CURLE_WEIRD_SERVER_REPLY, CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return TransferError(.protocolError, "bad exchange with \(url): \(detail)")
        default:
            return TransferError(.other, "transfer of \(url) failed: \(detail)")
        }
    }
}

/// `curl_global_init` once per process, before the first handle.
enum CurlGlobal {
    private static let done: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        return true
    }()

    static func initialize() { _ = self.done }
}
