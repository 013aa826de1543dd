import NIOCore
import NIOHTTP1
import NIOPosix

/// The plain-HTTP port, when one is configured: it serves nothing but a permanent redirect of
/// each request's path to the HTTPS address. The target is built from the configured public
/// URL, never from the request's Host header, so the port cannot be used to redirect anywhere
/// else, and nothing (no cookie, no page) is ever sent over plain HTTP.
struct PlainHTTPRedirect: Sendable {
    let channel: any Channel

    static func start(host: String, port: Int, httpsBase: String, group: any EventLoopGroup) async throws -> PlainHTTPRedirect {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RedirectHandler(httpsBase: httpsBase))
                }
            }
            .bind(host: host, port: port).get()
        return PlainHTTPRedirect(channel: channel)
    }

    func stop() async {
        try? await channel.close()
    }
}

private final class RedirectHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let httpsBase: String

    init(httpsBase: String) { self.httpsBase = httpsBase }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case let .head(head) = unwrapInboundIn(data) else { return }
        let path = head.uri.hasPrefix("/") ? head.uri : "/"
        let headers = HTTPHeaders([("Location", httpsBase + path), ("Content-Length", "0"), ("Connection", "close"),
                                   ("Cache-Control", "no-store")])
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .permanentRedirect, headers: headers))), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }
}
