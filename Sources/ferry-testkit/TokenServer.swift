import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// `ferry-testkit token-server`: argv and start-up of the token service (see TokenService.swift).
enum TokenServer {
    struct Options {
        var listen: HostPort
        var keyPath: String
        var certificatePath: String
        var chainPath: String?
        var configuration: TokenService.Configuration

        init(parsing argv: ArraySlice<String>) throws {
            let arguments = try Arguments(
                argv,
                options: [
                    "listen", "key", "cert", "chain", "issuer", "service", "user", "identity-token", "expires-in",
                ],
                flags: ["anonymous-pull"]
            )
            self.listen = try HostPort(loopback: try arguments.required("listen"))
            self.keyPath = try arguments.required("key")
            self.certificatePath = try arguments.required("cert")
            self.chainPath = arguments.optional("chain")
            let pairs = { (option: String) throws -> [String: String] in
                try Dictionary(
                    arguments.all(option).map { pair in
                        guard let colon = pair.firstIndex(of: ":") else {
                            throw UsageError("--\(option) wants A:B, got '\(pair)'")
                        }
                        return (String(pair[..<colon]), String(pair[pair.index(after: colon)...]))
                    },
                    uniquingKeysWith: { _, last in last }
                )
            }
            let lifetime = try arguments.optional("expires-in").map { text in
                guard let seconds = Int(text), seconds > 0 else { throw UsageError("--expires-in wants seconds") }
                return seconds
            }
            self.configuration = TokenService.Configuration(
                issuer: try arguments.required("issuer"),
                service: try arguments.required("service"),
                users: try pairs("user"),
                anonymousPull: arguments.flag("anonymous-pull"),
                lifetime: lifetime ?? 300,
                // TOKEN:NAME, stored as token → name.
                identityTokens: try pairs("identity-token")
            )
        }
    }

    static func run(_ options: Options) throws -> Never {
        let read = { (path: String) throws -> [UInt8] in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw StartupError("cannot read \(path)")
            }
            return Array(data)
        }
        let signer = try ES256Signer(
            keyPEM: try read(options.keyPath),
            certificatePEM: try read(options.certificatePath),
            chainPEM: try options.chainPath.map(read) ?? []
        )
        let service = TokenService(configuration: options.configuration, signer: signer)
        // One thread: a token is a few hundred microseconds of work and tests ask for a handful.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = try Server.bind(options.listen, group: group) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                try channel.pipeline.syncOperations.addHandler(
                    BufferedRequestHandler { request in service.respond(to: request) }
                )
            }
        }
        Server.announce(channel, requested: options.listen)
        let configuration = options.configuration
        Log.info(
            "token-server for service '\(configuration.service)', issuer '\(configuration.issuer)', "
                + "\(configuration.users.count) user(s), anonymous pull \(configuration.anonymousPull ? "on" : "off")"
        )
        Server.runUntilSignalled()
    }
}
