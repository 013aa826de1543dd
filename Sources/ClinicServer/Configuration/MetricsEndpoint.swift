import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// `GET /metrics` in Prometheus's text format on a port of its own, over plain HTTP: for a
/// scraper on this machine (loopback by default), never for browsers, so it carries no session,
/// no cookie and no page. Everything recorded through swift-metrics is here: Vapor's requests by
/// route template and status with their latency histograms, and ClinicKeep's own (`Metric`).
/// No label ever holds an id or a personal value: routes are templates, statuses are numbers.
struct MetricsEndpoint: Service {
    let channel: any Channel

    /// Binds the port and makes the process's metrics go to `registry`. Once per process: the
    /// metrics system can be bootstrapped only once.
    static func start(host: String, port: Int, group: any EventLoopGroup) async throws -> MetricsEndpoint {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(registry: registry))
                }
            }
            .bind(host: host, port: port).get()
        return MetricsEndpoint(channel: channel)
    }

    func run() async throws {
        try? await gracefulShutdown()
        try? await channel.close()
    }
}

private final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let registry: PrometheusCollectorRegistry

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case let .head(head) = unwrapInboundIn(data) else { return }
        let found = head.method == .GET && (head.uri == "/metrics" || head.uri.hasPrefix("/metrics?"))
        let body = found ? registry.emitToBuffer() : Array("not found\n".utf8)
        let headers = HTTPHeaders([("Content-Type", found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8"),
                                   ("Content-Length", String(body.count)), ("Connection", "close"), ("Cache-Control", "no-store")])
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: found ? .ok : .notFound, headers: headers))),
                      promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }
}

/// ClinicKeep's own measurements, named once here. Without `CLINICKEEP_METRICS_PORT` the
/// metrics system is not bootstrapped and each of these costs nothing.
enum Metric {
    /// Units of work (transactions, or SQLite's lock-free reads) under way, by kind.
    static func unitStarted(_ kind: String) { Meter(label: "clinickeep_database_units_in_flight", dimensions: [("kind", kind)]).increment() }
    static func unitEnded(_ kind: String) { Meter(label: "clinickeep_database_units_in_flight", dimensions: [("kind", kind)]).decrement() }
    /// From asking for the database to the unit's first statement: the pool's wait, and BEGIN.
    static func unitWaited(_ kind: String, nanoseconds: Int64) {
        Timer(label: "clinickeep_database_wait_seconds", dimensions: [("kind", kind)]).recordNanoseconds(nanoseconds)
    }
    /// One event appended to an audit chain.
    static func ledgerAppended() { Counter(label: "clinickeep_ledger_appends_total").increment() }
    /// A realm's keys found in memory, or read and unwrapped again.
    static func keyCache(hit: Bool) { Counter(label: "clinickeep_key_cache_total", dimensions: [("result", hit ? "hit" : "miss")]).increment() }
    /// A membership found in memory under current versions, or read again.
    static func membershipCache(hit: Bool) {
        Counter(label: "clinickeep_membership_cache_total", dimensions: [("result", hit ? "hit" : "miss")]).increment()
    }
    /// E-mail waiting to be sent, seen by the delivery loop each round.
    static func outboxPending(_ count: Int) { Gauge(label: "clinickeep_outbox_pending").record(count) }
}
