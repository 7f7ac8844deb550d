import ArgumentParser

@main
struct Ferry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "Move container images across air gaps, fast.",
        discussion: """
            Transports (skopeo's spelling): docker://HOST/REPO[:TAG|@DIGEST], oci:DIR[:TAG],
            oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG].

            Progress and logs go to stderr; stdout is for results.
            Exit codes: 0 success, 1 failure, 2 usage error, 130/143 interrupted (rerun to resume).
            """,
        version: "0.1.0",
        subcommands: [CopyCommand.self, InspectCommand.self]
    )
}
