import Foundation
import Transfer

/// A failure talking to a registry. Keeps the distribution spec's error codes (`MANIFEST_UNKNOWN`,
/// `TOOMANYREQUESTS`, …) and a message that says what to do.
public struct RegistryError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String { case usage, unauthorized, denied, notFound, rateLimited, server, badResponse, digestMismatch, transfer, tls, unreachable, plainHTTP, unsupported }
        private let wrapped: Wrapped
        private init(_ w: Wrapped) { self.wrapped = w }
        /// Bad input from the user (flags, auth file).
        public static let usage = Code(.usage)
        public static let unauthorized = Code(.unauthorized)
        public static let denied = Code(.denied)
        public static let notFound = Code(.notFound)
        public static let rateLimited = Code(.rateLimited)
        public static let server = Code(.server)
        public static let badResponse = Code(.badResponse)
        public static let digestMismatch = Code(.digestMismatch)
        public static let transfer = Code(.transfer)
        public static let tls = Code(.tls)
        public static let unreachable = Code(.unreachable)
        public static let plainHTTP = Code(.plainHTTP)
        public static let unsupported = Code(.unsupported)
        public var description: String { self.wrapped.rawValue }
    }

    /// One entry of the spec's `{"errors": [{"code", "message", "detail"}]}` body.
    public struct Diagnostic: Sendable, Hashable, Decodable {
        public var code: String
        public var message: String?
    }

    public var code: Code
    public var message: String
    public var status: Int?
    public var diagnostics: [Diagnostic]
    public var retryAfter: Double?
    /// A 429 that retrying soon will not clear (long `Retry-After`, `ratelimit-remaining: 0`).
    public var isQuota = false

    public init(_ code: Code, _ message: String, status: Int? = nil, diagnostics: [Diagnostic] = [], retryAfter: Double? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.diagnostics = diagnostics
        self.retryAfter = retryAfter
    }

    public var description: String { self.message }

    /// The spec's code names, e.g. `["MANIFEST_UNKNOWN"]`.
    public var specCodes: [String] { self.diagnostics.map(\.code) }

    /// Worth another attempt after a pause.
    public var isTemporary: Bool {
        (self.code == .server || self.code == .rateLimited || self.code == .transfer) && !self.isQuota
    }

    /// How a download should treat this error: retry (honouring `Retry-After`) or fail now.
    public static func retryAdvice(_ error: any Error) -> RetryAdvice {
        guard let e = error as? RegistryError, e.isTemporary else { return .fail }
        return .retry(after: e.retryAfter)
    }

    /// Builds the error for an unexpected HTTP answer to `what` (e.g. "manifest docker.io/library/nginx:latest").
    static func from(status: Int, headers: HTTPHeaders, body: [UInt8], what: String, registry: String) -> RegistryError {
        struct Envelope: Decodable { var errors: [Diagnostic]? }
        let diagnostics = (try? JSONDecoder().decode(Envelope.self, from: Data(body)))?.errors ?? []
        let codes = Set(diagnostics.map(\.code))
        let detail = diagnostics.first.map { " (\($0.code)\($0.message.map { ": " + $0 } ?? ""))" } ?? ""
        let retryAfter = headers["retry-after"].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        switch status {
        case 401:
            return RegistryError(.unauthorized, "\(what): authentication required by \(registry)\(detail); pass --creds USER:PASS or log in to \(registry) in the auth file", status: status, diagnostics: diagnostics)
        case 403:
            return RegistryError(.denied, "\(what): access denied by \(registry)\(detail); check that the account may use this repository", status: status, diagnostics: diagnostics)
        case 404:
            let kind = codes.contains("NAME_UNKNOWN") ? "repository not found" : codes.contains("BLOB_UNKNOWN") ? "blob not found" : "not found"
            return RegistryError(.notFound, "\(what): \(kind) on \(registry)\(detail); check the name and tag", status: status, diagnostics: diagnostics)
        case 429:
            // A long wait or an exhausted quota will not clear by retrying now: say so instead of hammering.
            let exhausted = headers["ratelimit-remaining"].map { $0.trimmingCharacters(in: .whitespaces).hasPrefix("0") } ?? false
            if exhausted || (retryAfter ?? 0) > 60 {
                var e = RegistryError(.rateLimited, "\(what): \(registry) says the pull quota is used up\(detail)\(retryAfter.map { " (retry after \(Int($0)) s)" } ?? ""); wait, or authenticate (--creds, --authfile) for a higher limit", status: status, diagnostics: diagnostics, retryAfter: retryAfter)
                e.isQuota = true
                return e
            }
            return RegistryError(.rateLimited, "\(what): rate limited by \(registry)\(detail)", status: status, diagnostics: diagnostics, retryAfter: retryAfter)
        case 500...599:
            return RegistryError(.server, "\(what): \(registry) answered \(status)\(detail)", status: status, diagnostics: diagnostics, retryAfter: retryAfter)
        default:
            return RegistryError(.badResponse, "\(what): unexpected HTTP \(status) from \(registry)\(detail)", status: status, diagnostics: diagnostics)
        }
    }

    /// Wraps an engine failure with the registry's name and a hint.
    static func from(_ error: TransferError, registry: String) -> RegistryError {
        switch error.code {
        case .tls:
            return RegistryError(.tls, "\(error.message); if \(registry) uses a private CA pass --ca-cert FILE, or --tls-verify=false to skip checks")
        case .couldNotConnect, .couldNotResolve:
            return RegistryError(.unreachable, "\(error.message); check the registry address and that it is running")
        case .protocolError:
            return RegistryError(.plainHTTP, "\(error.message); if \(registry) speaks plain HTTP pass --tls-verify=false")
        default:
            return RegistryError(.transfer, error.message)
        }
    }
}
