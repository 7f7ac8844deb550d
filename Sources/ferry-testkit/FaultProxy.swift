import NIOCore
import NIOHTTP1
import NIOPosix

/// `ferry-testkit proxy`: a fault-injecting HTTP/1.1 reverse proxy in front of the registry.
///
/// Each client connection gets its own upstream connection (made on its first forwarded request and
/// kept alive with it), so a per-connection throttle on the client side is also one on the upstream
/// side, as on a real capped link. Bodies stream both ways with autoRead off: the proxy reads from
/// one side only when the other side is writable, so memory stays at a read or two per connection.
///
/// Faults (Faults.swift) are given with `--fault SPEC` at start and replaced at run time through the
/// control API (ControlAPI.swift): under `/__testkit/` on the proxy's own port, and also on
/// `--control HOST:PORT` if given (its bound address is logged to stderr as `control HOST:PORT`;
/// stdout carries only the one `listening` line of the proxy port).
///
/// Requests and responses pass through unchanged (Host, Location of redirects, Authorization),
/// except that `Expect: 100-continue` is answered by the proxy itself, and `ignore-range` drops Range.
enum FaultProxy {
    struct Options {
        var listen: HostPort
        var upstream: HostPort
        var control: HostPort?
        var faults: [Fault]

        init(parsing argv: ArraySlice<String>) throws {
            let arguments = try Arguments(argv, options: ["listen", "upstream", "control", "fault"])
            self.listen = try HostPort(loopback: try arguments.required("listen"))
            self.upstream = try HostPort(parsing: try arguments.required("upstream"))
            self.control = try arguments.optional("control").map { try HostPort(loopback: $0) }
            self.faults = try arguments.all("fault").map { try Fault(spec: $0) }
        }
    }

    /// What every connection of one proxy shares.
    struct Shared: Sendable {
        let upstream: HostPort
        let faults: FaultBook
        let stats: ProxyStats
        let holds: HoldQueue
        var control: ControlAPI { ControlAPI(faults: self.faults, stats: self.stats, holds: self.holds) }
    }

    static func run(_ options: Options) throws -> Never {
        let shared = Shared(
            upstream: options.upstream,
            faults: FaultBook(options.faults),
            stats: ProxyStats(),
            holds: HoldQueue()
        )
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let channel = try Server.bind(options.listen, group: group, autoRead: false) { channel in
            channel.eventLoop.makeCompletedFuture {
                // No pipelining assistance: ProxyConnection reads one request at a time itself.
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false)
                try channel.pipeline.syncOperations.addHandler(ProxyConnection(shared: shared))
            }
        }
        if let control = options.control {
            let api = shared.control
            let controlChannel = try Server.bind(control, group: group) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(BufferedRequestHandler { api.respond(to: $0) })
                }
            }
            Log.info("control \(Server.boundAddress(of: controlChannel, requested: control))")
        }
        Server.announce(channel, requested: options.listen)
        Log.info(
            "proxy to \(options.upstream)"
                + (options.faults.isEmpty ? "" : ", faults \(options.faults.map { ControlAPI.json($0.json) })")
        )
        Server.runUntilSignalled()
    }
}
