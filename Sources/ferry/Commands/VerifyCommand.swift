import ArgumentParser
import Foundation
import Mirror

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a bundle or OCI layout offline: every digest, size and reference.",
        discussion: """
            Every blob is hashed; every manifest's references must be present; manifest.json must agree with
            index.json and with docker load's rules; tar members must be safe (no absolute paths, no .., no links
            out, no duplicates). Exit 1 with a list of problems.

            Examples:
              ferry verify akko.tar
              ferry verify oci:./images
            """
    )

    @Argument(help: "A bundle (BUNDLE.tar) or oci:DIR.")
    var target: String

    @Option(help: "Blobs hashed at once.")
    var jobs: Int = 2

    func run() async throws {
        let target = self.target, jobs = self.jobs
        try await Run.job {
            let start = Date()
            let report = try await Verifier().verify(target, jobs: jobs)
            let elapsed = Date().timeIntervalSince(start)
            if report.ok {
                let delta = report.isDelta ? " (a delta: \(report.leftToBase) blobs are in its base bundle)" : ""
                print("\(target): OK — \(report.images.count) images, \(report.blobs) blobs, \(ByteCount(report.bytes)) verified in \(String(format: "%.1f", elapsed)) s\(delta)")
                return
            }
            for p in report.problems { Run.fail(p) }
            throw MirrorError(.failed, "\(target): \(report.problems.count) problem(s) found")
        }
    }
}
