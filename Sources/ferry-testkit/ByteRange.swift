/// A `Range` request header resolved against a representation's size (RFC 9110 §14.2).
///
/// Only one range is served; a multi-range request is answered whole (200), which RFC 9110 allows
/// and which is what registries' storage backends do in practice.
enum ByteRange: Equatable {
    /// No usable Range header: send everything with 200.
    case whole
    /// Send these bytes (inclusive bounds) with 206.
    case partial(ClosedRange<Int>)
    /// The range starts at or beyond the end: 416.
    case unsatisfiable

    init(header: String?, size: Int) {
        guard let header = header?.trimmingSpaces, header.lowercased().hasPrefix("bytes=") else {
            self = .whole  // absent, or a unit we don't know: ignore it (RFC 9110 §14.2)
            return
        }
        let spec = header.dropFirst("bytes=".count).trimmingSpaces
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else {
            self = .whole
            return
        }
        let first = spec[..<dash].trimmingSpaces
        let last = spec[spec.index(after: dash)...].trimmingSpaces
        switch (Int(first), Int(last)) {
        case (let start?, let end?) where start >= 0 && start <= end:  // a-b
            self = start < size ? .partial(start...min(end, size - 1)) : .unsatisfiable
        case (let start?, nil) where last.isEmpty && start >= 0:  // a-
            self = start < size ? .partial(start...(size - 1)) : .unsatisfiable
        case (nil, let suffix?) where first.isEmpty && suffix >= 0:  // -n: the last n bytes
            self = suffix > 0 && size > 0 ? .partial(max(0, size - suffix)...(size - 1)) : .unsatisfiable
        default:
            self = .whole  // syntactically invalid: ignored, as the RFC says
        }
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
