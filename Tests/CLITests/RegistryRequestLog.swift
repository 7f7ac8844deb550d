import Foundation

/// The requests a registry logged as served ("response completed" at log level `info`): its own record of which
/// client connection (remote address and port) asked for what, and when each response started and ended.
/// Unlike sampling /proc/net/tcp, nothing is missed when the machine is too busy to sample.
struct RegistryRequestLog {
    struct Request {
        let uri: String
        let remoteAddress: String
        let start: Double
        let end: Double
    }

    let requests: [Request]

    init(file: URL) throws {
        let text = try String(contentsOf: file, encoding: .utf8)
        self.requests = text.split(separator: "\n").compactMap { Self.request(in: String($0)) }
    }

    private init(_ requests: [Request]) { self.requests = requests }

    /// The requests logged after the first `count`.
    func dropFirst(_ count: Int) -> RegistryRequestLog { RegistryRequestLog(Array(self.requests.dropFirst(count))) }

    func filter(_ isIncluded: (Request) -> Bool) -> RegistryRequestLog { RegistryRequestLog(self.requests.filter(isIncluded)) }

    /// Distinct client connections these requests came over.
    var connections: Int { Set(self.requests.map(\.remoteAddress)).count }

    /// The most responses in progress at one moment.
    var mostAtOnce: Int {
        // An end sorts before a start at the same instant: back to back is not at once.
        let starts: [(Double, Int)] = self.requests.map { ($0.start, 1) }
        let ends: [(Double, Int)] = self.requests.map { ($0.end, -1) }
        let events = (starts + ends).sorted { a, b in a.0 != b.0 ? a.0 < b.0 : a.1 < b.1 }
        var now = 0, most = 0
        for (_, change) in events {
            now += change
            most = max(most, now)
        }
        return most
    }

    private static func request(in line: String) -> Request? {
        let fields = Self.fields(line)
        guard fields["msg"]?.hasPrefix("response completed") == true, let uri = fields["http.request.uri"],
            let remote = fields["http.request.remoteaddr"], let time = fields["time"].flatMap(Self.seconds(rfc3339:)),
            let duration = fields["http.response.duration"].flatMap(Self.seconds(goDuration:))
        else { return nil }
        return Request(uri: uri, remoteAddress: remote, start: time - duration, end: time)
    }

    /// logrus's text format: `key=value` or `key="quoted value"`, separated by spaces.
    static func fields(_ line: String) -> [String: String] {
        var fields: [String: String] = [:]
        var rest = Substring(line)
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces)
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        value.append(c)
                        escaped = false
                    } else if c == "\\" {
                        escaped = true
                    } else if c == "\"" {
                        break
                    } else {
                        value.append(c)
                    }
                }
            } else {
                let end = rest.firstIndex(of: " ") ?? rest.endIndex
                value = String(rest[..<end])
                rest = rest[end...]
            }
            fields[key] = value
        }
        return fields
    }

    /// `2026-11-21T22:02:47.48798034Z` as seconds since 1970.
    static func seconds(rfc3339 text: String) -> Double? {
        guard text.count >= 20, text.hasSuffix("Z") else { return nil }
        let whole = String(text.prefix(19))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        guard let date = formatter.date(from: whole) else { return nil }
        let fraction = text.dropFirst(19).dropLast()
        return date.timeIntervalSince1970 + (fraction.isEmpty ? 0 : Double("0" + fraction) ?? 0)
    }

    /// A Go duration (`794.517µs`, `4.55853ms`, `1.2s`, `1m2.5s`) in seconds.
    static func seconds(goDuration text: String) -> Double? {
        let units: [(String, Double)] = [("ns", 1e-9), ("\u{B5}s", 1e-6), ("\u{3BC}s", 1e-6), ("us", 1e-6), ("ms", 1e-3), ("h", 3600), ("m", 60), ("s", 1)]
        var rest = Substring(text), total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * scale
        }
        return text.isEmpty ? nil : total
    }
}
