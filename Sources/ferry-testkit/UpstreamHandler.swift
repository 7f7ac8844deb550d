import NIOCore
import NIOHTTP1

/// The handler at the end of an upstream (registry-side) connection: it hands everything to the
/// ProxyConnection that owns the connection. Both live on the same event loop.
final class UpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    /// Cleared when the connection closes, which breaks the owner → channel → handler → owner cycle.
    private var owner: ProxyConnection?

    init(owner: ProxyConnection) {
        self.owner = owner
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.owner?.upstreamRead(Self.unwrapInboundIn(data), from: context.channel)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.owner?.upstreamWritabilityChanged()
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let owner = self.owner
        self.owner = nil
        owner?.upstreamClosed(context.channel)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !isOrdinaryDisconnect(error) { Log.info("upstream: \(error)") }
        context.close(promise: nil)
    }
}
