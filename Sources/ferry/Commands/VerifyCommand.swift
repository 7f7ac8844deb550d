import ArgumentParser
import Foundation
import Mirror

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a bundle or OCI layout offline: every digest, size and reference.",
        discussion: """
            Every blob is hashed; every manifest's references must be present; manifest.json must agree with \
            index.json and with docker load's rules; tar members must be safe (no absolute paths, no .., no links \
            out, no duplicates). Exit 1 with a list of problems.

            Compressed bundles (ferry save -o BUNDLE.tar.zst or BUNDLE.tar.gz) are checked without an uncompressed \
            copy, in one pass in order: every frame must end where the frame index says and decompress to the size \
            it says, and every member is hashed as it goes by, so the bundle is decompressed once whatever the \
            number of blobs. The checks above then follow. An archive compressed without a frame index \
            (docker save | gzip) is read the same way, with no index to check.

            Examples:
              ferry verify akko.tar
              ferry verify akko.tar.zst
              ferry verify akko.tar.gz
              ferry verify oci:./images
            """
    )

    @Argument(help: "A bundle (BUNDLE.tar, BUNDLE.tar.zst, BUNDLE.tar.gz) or oci:DIR.")
    var target: String

    @Option(help: "Blobs hashed at once.")
    var jobs: Int = 2

    @Flag(name: .shortAndLong, help: "Print nothing when the bundle is sound: the exit status says it.")
    var quiet = false

    func run() async throws {
        let target = self.target, jobs = self.jobs, quiet = self.quiet
        try await Run.job {
            let start = Date()
            let report = try await Verifier().verify(target, jobs: jobs)
            let elapsed = Date().timeIntervalSince(start)
            if report.ok {
                if quiet { return }
                let delta = report.isDelta ? " (a delta: \(report.leftToBase) blobs are in its base bundle)" : ""
                print("\(target): OK — \(report.images.count) images, \(report.blobs) blobs, \(ByteCount(report.bytes)) verified in \(String(format: "%.1f", elapsed)) s\(delta)")
                return
            }
            for p in report.problems { Run.fail(p) }
            throw MirrorError(.failed, "\(target): \(report.problems.count) problem(s) found")
        }
    }
}
