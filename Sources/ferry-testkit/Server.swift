import Dispatch
import Foundation
import NIOCore
import NIOPosix

/// Binding, announcing and running a listener until the launcher stops it.
enum Server {
    /// Binds a TCP listener whose accepted channels are set up by `initializer`.
    static func bind(
        _ address: HostPort,
        group: any EventLoopGroup,
        autoRead: Bool = true,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) throws -> any Channel {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.autoRead, value: autoRead)
            .childChannelInitializer(initializer)
        do {
            return try bootstrap.bind(host: address.host, port: address.port).wait()
        } catch {
            throw StartupError("cannot listen on \(address): \(error)")
        }
    }

    /// The bound address, with the port the kernel chose for `:0`.
    static func boundAddress(of channel: any Channel, requested: HostPort) -> String {
        let port = channel.localAddress?.port ?? requested.port
        return "\(channel.localAddress?.ipAddress ?? requested.host):\(port)"
    }

    /// Prints the one stdout line a launcher waits for.
    static func announce(_ channel: any Channel, requested: HostPort) {
        Log.stdout("listening \(boundAddress(of: channel, requested: requested))")
    }

    /// Blocks until SIGTERM or SIGINT, then exits 0.
    ///
    /// Open connections are not drained: these servers only live for a test, and a launcher that
    /// sends SIGTERM wants the port back now, not after a stalled or held request finishes.
    static func runUntilSignalled() -> Never {
        let sources = [SIGTERM, SIGINT].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)  // let the dispatch source, not the default action, see it
            let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
            source.setEventHandler {
                Log.info("signal \(number), exiting")
                exit(0)
            }
            source.resume()
            return source
        }
        withExtendedLifetime(sources) { dispatchMain() }
    }
}
