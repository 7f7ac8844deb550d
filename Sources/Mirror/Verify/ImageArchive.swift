import Foundation

/// Read access to the files of an image archive, whether a tar (read in place, never extracted) or a layout
/// directory. Names are relative to the archive root.
protocol ImageArchive: Sendable {
    var description: String { get }
    /// Every regular file, by normalized name.
    var files: [String] { get }
    func size(_ name: String) -> Int64?
    func read(_ name: String, limit: Int) throws -> [UInt8]
    /// sha256 hex of a file's content, streamed.
    func sha256(_ name: String) throws -> String
}

extension ImageArchive {
    func contains(_ name: String) -> Bool { self.size(name) != nil }

    /// Reads a JSON document, refusing sizes no real metadata has (a hostile archive's "huge JSON").
    func json<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        let bytes = try self.read(name, limit: 16 << 20)
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    }
}
