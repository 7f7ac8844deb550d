import ArgumentParser
import Foundation
import Mirror
import Registry

/// Where `load` and `sync` push: the registry and namespace, how names are kept, the `--map` to write, and the
/// upload chunk size.
struct TargetOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The registry and namespace to push to.", valueName: "registry[/namespace]"))
    var to: String

    @Option(help: ArgumentHelp("How names are kept under the namespace: path, flat or scoped.", valueName: "layout"))
    var layout: String = NamingLayout.path.rawValue

    @Option(help: ArgumentHelp("Write the source → target + digest map here, for ferry rewrite --map.", valueName: "file"))
    var map: String?

    @Option(name: .customLong("upload-chunk-size"), help: ArgumentHelp("Blobs up to this size go in one PUT, larger ones in PATCH chunks of it.", valueName: "size"))
    var uploadChunkSize: ByteSize = ByteSize(64 << 20)

    /// A `--map` that cannot be written is found now, not after every image is pushed.
    func validate() throws {
        guard let map = self.map else { return }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: map, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ValidationError("--map \(map) is a directory; name a file")
        }
        let parent = (map as NSString).deletingLastPathComponent
        let directory = parent.isEmpty ? "." : parent
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--map \(map): there is no directory \(directory)")
        }
        guard access(directory, W_OK) == 0 else { throw ValidationError("--map \(map): \(directory) is not writable") }
    }

    func naming() throws -> TargetNaming {
        guard let layout = NamingLayout(rawValue: self.layout) else {
            throw MirrorError(.usage, "--layout \(self.layout): use path, flat or scoped")
        }
        return TargetNaming(destination: try Destination(parsing: self.to), layout: layout)
    }

    func uploadOptions(registry: RegistryOptions, stallTimeout: Double) -> UploadOptions {
        UploadOptions(
            chunkSize: self.uploadChunkSize.bytes, attempts: registry.retry.attempts,
            journal: UploadJournal(directory: UploadJournal.defaultDirectory()), stallTimeout: stallTimeout)
    }
}
