import Foundation

/// Speaks the registry API through the `curl` CLI: the test parts must not depend on Ferry's own HTTP stack,
/// which is what they test.
struct RegistryCurl: Sendable {
    enum Authorization: Sendable {
        case none
        case basic(Credentials)
        case bearer(String)
    }

    /// One HTTP exchange's outcome; header names are lowercased.
    struct Reply: Sendable {
        let status: Int
        let headers: [String: String]
        let body: Data

        var bodyText: String { String(decoding: self.body.prefix(2000), as: UTF8.self) }
    }

    var caCertPath: URL?
    var authorization: Authorization = .none

    /// - Parameters:
    ///   - method: `GET`, `HEAD`, `POST`, `PUT`, …
    ///   - uploadFile: sent as the body (`curl -T`), streamed from disk whatever its size.
    func request(_ method: String, _ url: String, headers: [String] = [], uploadFile: URL? = nil) async throws -> Reply
    {
        // -i puts the response headers before the body on stdout; `Expect:` (empty) saves a round trip per upload.
        var argv = ["curl", "-sS", "-i", "-H", "Expect:"]
        if method == "HEAD" {
            argv.append("-I")  // `-X HEAD` would make curl wait for a body that never comes
        } else {
            argv += ["-X", method]
        }
        if let caCertPath { argv += ["--cacert", caCertPath.path] }
        switch self.authorization {
        case .none: break
        case .basic(let credentials): argv += ["-u", credentials.colonSeparated]
        case .bearer(let token): argv += ["-H", "Authorization: Bearer \(token)"]
        }
        for header in headers { argv += ["-H", header] }
        if let uploadFile {
            argv += ["-T", uploadFile.path]
        } else if method == "POST" || method == "PUT" {
            argv += ["-H", "Content-Length: 0"]
        }
        argv.append(url)
        let result = try await ProcessRunner.run(argv)
        guard result.succeeded else {
            throw TestSupportError("curl \(method) \(url) failed (\(result.status)): \(result.stderrString)")
        }
        return try Self.parse(result.stdout, for: "\(method) \(url)")
    }

    /// Splits `curl -i` output into status, headers and body, skipping interim (1xx) responses.
    static func parse(_ output: Data, for request: String) throws -> Reply {
        var rest = output[...]
        let separator = Data("\r\n\r\n".utf8)
        while true {
            let end = rest.range(of: separator)
            let head = String(decoding: rest[..<(end?.lowerBound ?? rest.endIndex)], as: UTF8.self)
            let lines = head.components(separatedBy: "\r\n")
            let statusParts = lines.first?.split(separator: " ") ?? []
            guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/"), let status = Int(statusParts[1]) else {
                throw TestSupportError("\(request): no HTTP status line in curl's output")
            }
            let body = end.map { rest[$0.upperBound...] } ?? Data()[...]
            if (100..<200).contains(status) {
                rest = body
                continue
            }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces)
            }
            return Reply(status: status, headers: headers, body: Data(body))
        }
    }
}
