import Foundation
import NIOCore
import NIOHTTP1

/// The proxy's control API. Served on the proxy's own listener under `/__testkit/` (those requests
/// are never forwarded or counted), and also on `--control HOST:PORT` when given:
///
/// - `GET  /__testkit/stats`: counters as JSON (see ProxyStats), plus `held` and the fault list
///   with each fault's `matched` count.
/// - `GET  /__testkit/faults`: the fault list.
/// - `POST /__testkit/faults`: replace the fault list with the JSON body, e.g.
///   `[{"kind":"cut","value":1048576,"path":"/blobs/","count":2}]` (see Faults.swift); `[]` clears it.
/// - `POST /__testkit/reset`: clear faults and counters, and release held requests.
/// - `POST /__testkit/release[?count=N]`: let held requests (the oldest N) go on; answers `{"released": n}`.
struct ControlAPI: Sendable {
    let faults: FaultBook
    let stats: ProxyStats
    let holds: HoldQueue

    func respond(to request: BufferedRequest) -> SimpleResponse {
        switch (request.method, request.path) {
        case (.GET, "/__testkit/stats"):
            return .json(.ok, Self.json(self.stats.json(extra: ["held": self.holds.count, "faults": self.faults.json])))
        case (.GET, "/__testkit/faults"):
            return .json(.ok, Self.json(self.faults.json))
        case (.POST, "/__testkit/faults"):
            do {
                let list = try Fault.parseList(json: Array(buffer: request.body))
                self.faults.replace(with: list)
                Log.info("faults: \(list.isEmpty ? "none" : list.map { Self.json($0.json) }.joined(separator: " "))")
                return .json(.ok, Self.json(self.faults.json))
            } catch {
                return .json(.badRequest, Self.json(["error": "\(error)"]))
            }
        case (.POST, "/__testkit/reset"):
            self.faults.replace(with: [])
            self.stats.reset()
            return .json(.ok, Self.json(["released": self.holds.release(limit: nil)]))
        case (.POST, "/__testkit/release"):
            let limit = request.query.first { $0.0 == "count" }.flatMap { Int($0.1) }
            return .json(.ok, Self.json(["released": self.holds.release(limit: limit)]))
        default:
            return .json(.notFound, Self.json(["error": "no control route \(request.method) \(request.path)"]))
        }
    }

    static func json(_ object: Any) -> String {
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: options) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
