import ArgumentParser
import Mirror

/// Options of commands that move images.
struct TransferOptions: ParsableArguments {
    @Option(help: ArgumentHelp("OS/ARCH[/VARIANT] to keep, or all (the whole index).", valueName: "platform"))
    var platform: String = "all"

    @Option(help: "Blobs in flight at once.")
    var jobs: Int = 8

    func platformChoice() throws -> PlatformChoice {
        try PlatformChoice(parsing: self.platform)
    }
}
