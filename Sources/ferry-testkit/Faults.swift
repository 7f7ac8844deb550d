import Foundation
import Synchronization

/// One fault the proxy injects, and which requests it applies to.
///
/// Written on the command line as `--fault KIND[=VALUE][,KEY=VALUE…]`, e.g.
/// `--fault cut=1048576,path=/blobs/,count=2`, and in the control API as JSON,
/// `{"kind":"cut","value":1048576,"path":"/blobs/","count":2}`. Keys besides kind and value:
/// - `path`: applies only when the request target contains this substring (commas can't be
///   written on the command line; use the JSON form for those);
/// - `method`: only requests with this method (`GET`, `HEAD`, `PUT`…);
/// - `count`: only the first K matching requests, then the fault is spent;
/// - `retry-after` (429), `ratelimit-remaining` (429, a flag), `after` or `stall-after` (stall).
struct Fault: Sendable {
    enum Kind: Sendable {
        /// Close the client connection after this many response-body bytes.
        case cut(bytes: Int)
        /// Answer with this status without asking upstream (500, 503, 429…).
        case status(code: Int, retryAfter: Int?, rateLimitRemaining: Bool)
        /// Drop `Range` (and `If-Range`) from the request so upstream answers 200 with everything.
        case ignoreRange
        /// Cap response bytes per TCP connection.
        case throttle(bytesPerSecond: Int)
        /// Send nothing for `seconds` once `afterBytes` response-body bytes have gone (0: right after the head).
        case stall(seconds: Double, afterBytes: Int)
        /// Answer 413 when the request body is longer than this.
        case maxBody(bytes: Int)
        /// Keep the request until `POST /__testkit/release`.
        case hold

        /// Faults of one kind don't stack: the first matching one of each kind applies.
        var slot: String {
            switch self {
            case .cut: "cut"
            case .status: "status"
            case .ignoreRange: "ignore-range"
            case .throttle: "throttle"
            case .stall: "stall"
            case .maxBody: "max-body"
            case .hold: "hold"
            }
        }
    }

    var kind: Kind
    var path: String?
    var method: String?
    var count: Int?

    func matches(method: String, target: String) -> Bool {
        (self.path.map { target.contains($0) } ?? true) && (self.method.map { $0 == method } ?? true)
    }
}

// MARK: - Parsing

extension Fault {
    /// Parses the command-line form, `KIND[=VALUE][,KEY[=VALUE]…]`.
    init(spec: String) throws {
        var fields: [String: String] = [:]
        var kind: (String, String?)?
        for item in spec.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let pair = (parts[0], parts.count > 1 ? parts[1] : nil)
            if kind == nil { kind = pair } else { fields[pair.0] = pair.1 ?? "true" }
        }
        guard let (name, value) = kind else { throw UsageError("empty --fault") }
        if let value { fields["value"] = value }
        try self.init(kind: name, fields: fields)
    }

    /// Parses the control API's JSON: one object or an array of them.
    static func parseList(json: [UInt8]) throws -> [Fault] {
        let decoder = JSONDecoder()
        let objects: [[String: FieldValue]]
        if let list = try? decoder.decode([[String: FieldValue]].self, from: Data(json)) {
            objects = list
        } else if let single = try? decoder.decode([String: FieldValue].self, from: Data(json)) {
            objects = [single]
        } else {
            throw UsageError("faults: want a JSON array of objects like {\"kind\":\"cut\",\"value\":1048576}")
        }
        return try objects.map { object in
            guard let kind = object["kind"]?.text else { throw UsageError("faults: each fault needs a \"kind\"") }
            return try Fault(kind: kind, fields: object.filter { $0.key != "kind" }.mapValues(\.text))
        }
    }

    /// A JSON field taken as text, whatever its JSON type, so `"value": 2` and `"value": "2"` agree.
    /// JSONDecoder, unlike JSONSerialization on Linux, never confuses `1` and `true`.
    private struct FieldValue: Decodable {
        let text: String

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) {
                self.text = flag ? "true" : "false"
            } else if let integer = try? container.decode(Int.self) {
                self.text = String(integer)
            } else if let number = try? container.decode(Double.self) {
                self.text = String(number)
            } else {
                self.text = try container.decode(String.self)
            }
        }
    }

    private init(kind name: String, fields: [String: String]) throws {
        func integer(_ key: String) throws -> Int? {
            guard let text = fields[key] else { return nil }
            guard let value = Int(text) ?? Double(text).flatMap({ Int(exactly: $0) }), value >= 0 else {
                throw UsageError("fault \(name): \(key) must be a whole number ≥ 0, got '\(text)'")
            }
            return value
        }
        func required(_ key: String) throws -> Int {
            guard let value = try integer(key) else { throw UsageError("fault \(name) needs a value (\(name)=N)") }
            return value
        }
        let known: Set<String> = [
            "value", "path", "method", "count", "retry-after", "ratelimit-remaining", "after", "stall-after",
        ]
        if let unknown = fields.keys.first(where: { !known.contains($0) }) {
            throw UsageError("fault \(name): unknown key '\(unknown)'")
        }

        switch name {
        case "cut": self.kind = .cut(bytes: try required("value"))
        case "status", "429":
            let code = name == "429" ? 429 : try required("value")
            guard (400...599).contains(code) else { throw UsageError("fault status: \(code) is not 4xx/5xx") }
            // For 429 the value, when given, is the Retry-After; `retry-after=` works for every status.
            let retryAfter = try integer("retry-after") ?? (name == "429" ? try integer("value") : nil)
            // Present and not false: send `RateLimit-Remaining: 0` (a flag on the command line, any value in JSON).
            let rateLimit = (fields["ratelimit-remaining"] ?? "false") != "false"
            self.kind = .status(code: code, retryAfter: retryAfter, rateLimitRemaining: rateLimit)
        case "ignore-range": self.kind = .ignoreRange
        case "throttle":
            let rate = try required("value")
            guard rate > 0 else { throw UsageError("fault throttle: bytes per second must be > 0") }
            self.kind = .throttle(bytesPerSecond: rate)
        case "stall":
            guard let seconds = fields["value"].flatMap(Double.init), seconds >= 0 else {
                throw UsageError("fault stall needs seconds (stall=S)")
            }
            self.kind = .stall(seconds: seconds, afterBytes: try integer("stall-after") ?? integer("after") ?? 0)
        case "max-body": self.kind = .maxBody(bytes: try required("value"))
        case "hold": self.kind = .hold
        default:
            throw UsageError(
                "unknown fault '\(name)' (cut, status, 429, ignore-range, throttle, stall, max-body, hold)"
            )
        }
        self.path = fields["path"]
        self.method = fields["method"]?.uppercased()
        self.count = try integer("count")
    }

    /// The JSON form, as `GET /__testkit/stats` lists it.
    var json: [String: Any] {
        var object: [String: Any] = ["kind": self.kind.slot]
        switch self.kind {
        case .cut(let bytes), .maxBody(let bytes): object["value"] = bytes
        case .status(let code, let retryAfter, let rateLimit):
            object["value"] = code
            if let retryAfter { object["retry-after"] = retryAfter }
            if rateLimit { object["ratelimit-remaining"] = true }
        case .throttle(let rate): object["value"] = rate
        case .stall(let seconds, let after):
            object["value"] = seconds
            object["after"] = after
        case .ignoreRange, .hold: break
        }
        if let path = self.path { object["path"] = path }
        if let method = self.method { object["method"] = method }
        if let count = self.count { object["count"] = count }
        return object
    }
}

// MARK: - Applying

/// What the proxy must do to one request: the first matching fault of each kind.
struct AppliedFaults: Sendable {
    var cut: Int?
    var status: (code: Int, retryAfter: Int?, rateLimitRemaining: Bool)?
    var ignoreRange = false
    var throttle: Int?
    var stall: (seconds: Double, afterBytes: Int)?
    var maxBody: Int?
    var hold = false
    /// The kinds that applied, for the counters.
    var names: [String] = []
}

/// The current fault list and how many requests each has matched; shared by all connections.
///
/// A request takes its faults once, when its head arrives; replacing the list later does not
/// change requests already under way.
final class FaultBook: Sendable {
    private struct Entry {
        var fault: Fault
        var matched = 0
    }

    private let entries: Mutex<[Entry]>

    init(_ faults: [Fault]) {
        self.entries = Mutex(faults.map { Entry(fault: $0) })
    }

    func replace(with faults: [Fault]) {
        self.entries.withLock { $0 = faults.map { Entry(fault: $0) } }
    }

    /// The faults for one request. A fault counts a request (toward `count`) only when it applies.
    func take(method: String, target: String) -> AppliedFaults {
        self.entries.withLock { entries in
            var applied = AppliedFaults()
            var filled: Set<String> = []
            for index in entries.indices {
                let fault = entries[index].fault
                guard !filled.contains(fault.kind.slot), fault.matches(method: method, target: target),
                    fault.count.map({ entries[index].matched < $0 }) ?? true
                else { continue }
                entries[index].matched += 1
                filled.insert(fault.kind.slot)
                applied.names.append(fault.kind.slot)
                switch fault.kind {
                case .cut(let bytes): applied.cut = bytes
                case .status(let code, let retryAfter, let rateLimit): applied.status = (code, retryAfter, rateLimit)
                case .ignoreRange: applied.ignoreRange = true
                case .throttle(let rate): applied.throttle = rate
                case .stall(let seconds, let after): applied.stall = (seconds, after)
                case .maxBody(let bytes): applied.maxBody = bytes
                case .hold: applied.hold = true
                }
            }
            return applied
        }
    }

    /// The list with each fault's `matched` count, for the stats.
    var json: [[String: Any]] {
        self.entries.withLock { entries in
            entries.map { entry in
                var object = entry.fault.json
                object["matched"] = entry.matched
                return object
            }
        }
    }
}
