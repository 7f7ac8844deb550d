// ferry-testkit: the test-only servers that stand around a real registry (DESIGN.md §5).
// It is a separate executable so the shipped `ferry` never links SwiftNIO. See README.md beside this file.
//
// Every subcommand prints exactly one line `listening HOST:PORT` to stdout once its socket is bound
// (so a launcher can pass `--listen 127.0.0.1:0` and read the port), logs to stderr, and runs until
// SIGTERM or SIGINT, then exits 0. Usage errors exit 2, start-up failures exit 1.

import Codec
import Foundation

CryptoLifetime.keepThroughExit()

let usage = """
    usage: ferry-testkit token-server --listen HOST:PORT --key KEY.pem --cert CERT.pem [--chain CA.pem]
                                      --issuer ISSUER --service SERVICE [--user NAME:PASSWORD ...]
                                      [--identity-token TOKEN:NAME ...] [--anonymous-pull]
           ferry-testkit serve-files  --listen HOST:PORT --root DIR
           ferry-testkit proxy        --listen HOST:PORT --upstream HOST:PORT [--control HOST:PORT]
                                      [--fault SPEC ...]
           ferry-testkit registry     [--variant http|http-basic|https|https-basic|token|redirect] [--user U:P]
                                      [--root DIR] [--info FILE]
           ferry-testkit image        --out DIR [--tag T] [--size 512MiB] [--layers N] [--platforms a,b]
                                      [--docker] [--compressible] [--attestation] [--seed N]
           ferry-testkit seed         --layout DIR --to http(s)://HOST:PORT/REPO[:TAG] [--user U:P] [--ca-cert F]
           ferry-testkit codec        logs|sha256|pipe …  (codec measurements for perf/codec.py; see --help there)
    Listen addresses must be loopback (127.0.0.0/8). See Sources/ferry-testkit/README.md.
    """

let argv = CommandLine.arguments.dropFirst()
do {
    guard let command = argv.first else { throw UsageError("missing subcommand") }
    let rest = argv.dropFirst()
    switch command {
    case "token-server": try TokenServer.run(try TokenServer.Options(parsing: rest))
    case "serve-files": try FileServer.run(try FileServer.Options(parsing: rest))
    case "proxy": try FaultProxy.run(try FaultProxy.Options(parsing: rest))
    case "registry": try FixtureCommands.registry(rest)
    case "image": try FixtureCommands.image(rest)
    case "seed": try FixtureCommands.seed(rest)
    case "codec": try CodecCommands.run(rest)
    case "-h", "--help", "help":
        Log.stdout(usage)
        exit(0)
    default: throw UsageError("unknown subcommand '\(command)'")
    }
} catch let error as UsageError {
    Log.error("\(error.message) (see ferry-testkit --help)")
    exit(2)
} catch {
    Log.error("\(error)")
    exit(1)
}
