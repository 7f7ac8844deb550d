import Foundation
import Synchronization

/// Which kind of registry request a target is, so byte counts can be told apart (a test wants
/// "blob bytes sent", not manifests and pings mixed in).
enum PathClass: String, CaseIterable, Sendable {
    case uploads, blobs, manifests, tags, catalog, other

    init(target: String) {
        let path = target.prefix { $0 != "?" }
        if path.contains("/blobs/uploads") {
            self = .uploads
        } else if path.contains("/blobs/") {
            self = .blobs
        } else if path.contains("/manifests/") {
            self = .manifests
        } else if path.contains("/tags/") {
            self = .tags
        } else if path.contains("/_catalog") {
            self = .catalog
        } else {
            self = .other
        }
    }
}

/// The proxy's counters, shared by every connection. Control requests (`/__testkit/…`) are not counted.
final class ProxyStats: Sendable {
    private struct ClassCounters {
        var requests = 0
        var responseBodyBytes = 0
        var requestBodyBytes = 0
    }

    private struct Counters {
        var connectionsAccepted = 0
        var openConnections = 0
        var maxOpenConnections = 0
        var requests = 0
        /// Response-body bytes written to clients (after cuts and throttling: what clients got).
        var responseBodyBytes = 0
        /// Request-body bytes forwarded upstream (uploads).
        var requestBodyBytes = 0
        var byClass: [PathClass: ClassCounters] = [:]
        var statuses: [Int: Int] = [:]
        var faultsApplied: [String: Int] = [:]
        /// Responses the proxy made itself (injected statuses, 413s, 502s).
        var localResponses = 0
        /// Per 50 ms window and blob, the connections that sent its bytes in it: how many really stream one blob at once.
        var blobSenders: [UInt64: [String: Set<ObjectIdentifier>]] = [:]
    }

    private let counters = Mutex(Counters())

    func connectionOpened() {
        self.counters.withLock {
            $0.connectionsAccepted += 1
            $0.openConnections += 1
            $0.maxOpenConnections = max($0.maxOpenConnections, $0.openConnections)
        }
    }

    func connectionClosed() { self.counters.withLock { $0.openConnections -= 1 } }

    func requestStarted(_ pathClass: PathClass, faults: [String]) {
        self.counters.withLock {
            $0.requests += 1
            $0.byClass[pathClass, default: ClassCounters()].requests += 1
            for fault in faults { $0.faultsApplied[fault, default: 0] += 1 }
        }
    }

    func responseStarted(status: Int, local: Bool) {
        self.counters.withLock {
            $0.statuses[status, default: 0] += 1
            if local { $0.localResponses += 1 }
        }
    }

    func responseBody(_ bytes: Int, _ pathClass: PathClass, target: String, connection: ObjectIdentifier) {
        let window = pathClass == .blobs ? DispatchTime.now().uptimeNanoseconds / 50_000_000 : nil
        self.counters.withLock {
            $0.responseBodyBytes += bytes
            $0.byClass[pathClass, default: ClassCounters()].responseBodyBytes += bytes
            if let window { $0.blobSenders[window, default: [:]][target, default: []].insert(connection) }
        }
    }

    func requestBody(_ bytes: Int, _ pathClass: PathClass) {
        self.counters.withLock {
            $0.requestBodyBytes += bytes
            $0.byClass[pathClass, default: ClassCounters()].requestBodyBytes += bytes
        }
    }

    /// Zeroes everything but the connections open now, which the maximum then starts from.
    func reset() {
        self.counters.withLock {
            let open = $0.openConnections
            $0 = Counters()
            $0.openConnections = open
            $0.maxOpenConnections = open
        }
    }

    func json(extra: [String: Any]) -> [String: Any] {
        let counters = self.counters.withLock { $0 }
        var byClass: [String: Any] = [:]
        for (pathClass, entry) in counters.byClass {
            byClass[pathClass.rawValue] = [
                "requests": entry.requests, "responseBodyBytes": entry.responseBodyBytes,
                "requestBodyBytes": entry.requestBodyBytes,
            ]
        }
        var object: [String: Any] = [
            "connectionsAccepted": counters.connectionsAccepted,
            "openConnections": counters.openConnections,
            "maxOpenConnections": counters.maxOpenConnections,
            "requests": counters.requests,
            "responseBodyBytes": counters.responseBodyBytes,
            "requestBodyBytes": counters.requestBodyBytes,
            "byClass": byClass,
            "statuses": Dictionary(uniqueKeysWithValues: counters.statuses.map { (String($0.key), $0.value) }),
            "faultsApplied": counters.faultsApplied,
            "localResponses": counters.localResponses,
            "maxBlobSenders": counters.blobSenders.values.flatMap { $0.values.map(\.count) }.max() ?? 0,
        ]
        object.merge(extra) { _, new in new }
        return object
    }
}
