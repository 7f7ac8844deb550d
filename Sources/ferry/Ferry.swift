import ArgumentParser
import Codec
import Foundation

@main
struct Ferry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "Move container images across air gaps, fast.",
        discussion: """
            Transports (skopeo's spelling): docker://HOST/REPO[:TAG|@DIGEST], oci:DIR[:TAG], \
            oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG].

            Progress and logs go to stderr; stdout is for results. Exit codes: 0 success, 1 failure, 2 usage \
            error, 130/143 interrupted (run the same command again to resume).

            Examples (the whole trip across an air gap):
              ferry images helm/akko > images.txt
              ferry save -f images.txt -o akko.tar.zst
              ferry verify akko.tar.zst
              ferry load akko.tar.zst --to registry.corp.example/akko --map loaded.json
              ferry rewrite helm/akko --map loaded.json -o airgapped.yaml
            """,
        version: "0.1.0",
        subcommands: [CopyCommand.self, SaveCommand.self, LoadCommand.self, SyncCommand.self, VerifyCommand.self, InspectCommand.self, ImagesCommand.self, RewriteCommand.self, BenchCommand.self]
    )

    /// argument-parser exits 64 (EX_USAGE) on bad arguments; Ferry's contract is 2 (DESIGN §2).
    static func main() async {
        CryptoLifetime.keepThroughExit()
        do {
            var command = try Self.parseAsRoot()
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            if Self.exitCode(for: error) == .validationFailure {
                let message = Self.fullMessage(for: error)
                if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
                Foundation.exit(2)
            }
            Self.exit(withError: error)
        }
    }
}
