import Foundation
import Transfer

/// An upload in progress on a registry: where to send the next bytes, and how many it holds.
///
/// The Distribution registry signs the offset into every `Location` it hands out (the `_state` parameter), so
/// only the newest URL is valid: an older one answers `BLOB_UPLOAD_INVALID`. Sessions are values, replaced by the
/// one each answer carries.
public struct UploadSession: Sendable, Hashable, Codable {
    /// The absolute upload URL of the last answer.
    public var location: String
    /// Bytes the registry holds for this upload.
    public var offset: Int64

    public init(location: String, offset: Int64) {
        self.location = location
        self.offset = offset
    }

    /// Reads the session from a `202 Accepted` or `204 No Content` answer to POST, PATCH or GET.
    ///
    /// - Parameters:
    ///   - fallbackOffset: used when the answer has no `Range` (a POST may omit it: nothing is held yet).
    ///   - fallbackLocation: the URL to keep using when a PATCH answer has no `Location` (the spec requires one,
    ///     not every registry sends it).
    static func from(_ response: Response, fallbackOffset: Int64, fallbackLocation: String? = nil) throws(RegistryError) -> UploadSession {
        guard let url = response.headers["location"].flatMap({ Self.resolve($0, against: response.url) }) ?? fallbackLocation else {
            throw RegistryError(.badResponse, "the registry answered an upload request without a usable Location header")
        }
        let offset = response.headers["range"].flatMap(Self.offset(range:)) ?? fallbackOffset
        return UploadSession(location: url, offset: offset)
    }

    /// The bytes held, from a `Range: 0-END` header (inclusive end, no `bytes=` prefix, as the spec writes it).
    ///
    /// Distribution reports an empty upload as `0-0` (it prints `size - 1` only when the size is above zero), so
    /// `0-0` means 0 bytes. That makes one byte indistinguishable from none, which costs nothing here: chunks are
    /// megabytes, and a wrong offset would fail the digest check at the end and start the blob again.
    static func offset(range: String) -> Int64? {
        var text = Substring(range.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("bytes=") { text = text.dropFirst("bytes=".count) }
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int64(parts[0]), start == 0 else { return nil }
        if parts[1] == "-1" || parts[1].isEmpty { return 0 }  // some registries say "0--1" for nothing held
        guard let end = Int64(parts[1]), end >= 0 else { return nil }
        return end == 0 ? 0 : end + 1
    }

    /// Resolves a `Location` that may be relative (`/v2/…`) against the URL that answered.
    static func resolve(_ location: String, against base: String) -> String? {
        guard let url = URL(string: location, relativeTo: URL(string: base))?.absoluteURL,
            url.scheme == "http" || url.scheme == "https"
        else { return nil }
        return url.absoluteString
    }

    /// The URL with `name=value` added to its query, as the final `PUT …&digest=` needs.
    func url(adding name: String, _ value: String) -> String {
        let encoded = value.addingPercentEncoding(withAllowedCharacters: .uploadQueryValue) ?? value
        return self.location + (self.location.contains("?") ? "&" : "?") + "\(name)=\(encoded)"
    }
}

extension CharacterSet {
    /// What may stay unescaped in a query value: `sha256:…` keeps its colon, `&`, `=`, `+` and `#` are escaped.
    static let uploadQueryValue: CharacterSet = {
        var set = CharacterSet.urlQueryAllowed
        set.remove(charactersIn: "&=+#")
        return set
    }()
}
