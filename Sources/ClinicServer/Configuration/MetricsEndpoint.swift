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

/// ClinicKeep's own measurements, named once here. Each is made once, on first use, so a
/// request allocates none: `serve` bootstraps the metrics system before anything touches them.
/// Without `CLINICKEEP_METRICS_PORT` the system is never bootstrapped and each costs nothing.
enum Metric {
    private static let unitsInFlight = ["read", "write"].reduce(into: [String: Metrics.Meter]()) { meters, kind in
        meters[kind] = Metrics.Meter(label: "clinickeep_database_units_in_flight", dimensions: [("kind", kind)])
    }
    private static let unitWaits = ["read", "write"].reduce(into: [String: Metrics.Timer]()) { timers, kind in
        timers[kind] = Metrics.Timer(label: "clinickeep_database_wait_seconds", dimensions: [("kind", kind)])
    }
    private static let ledgerAppends = Metrics.Counter(label: "clinickeep_ledger_appends_total")
    private static let keyCacheResults = cacheCounters("clinickeep_key_cache_total")
    private static let membershipCacheResults = cacheCounters("clinickeep_membership_cache_total")
    private static let outboxWaiting = Metrics.Gauge(label: "clinickeep_outbox_pending")

    private static func cacheCounters(_ label: String) -> (hit: Metrics.Counter, miss: Metrics.Counter) {
        (Metrics.Counter(label: label, dimensions: [("result", "hit")]), Metrics.Counter(label: label, dimensions: [("result", "miss")]))
    }

    /// Units of work (transactions, or SQLite's lock-free reads) under way, by kind.
    static func unitStarted(_ kind: String) { unitsInFlight[kind]?.increment() }
    static func unitEnded(_ kind: String) { unitsInFlight[kind]?.decrement() }
    /// From asking for the database to the unit's first statement: the pool's wait, and BEGIN.
    static func unitWaited(_ kind: String, nanoseconds: Int64) { unitWaits[kind]?.recordNanoseconds(nanoseconds) }
    /// One event appended to an audit chain.
    static func ledgerAppended() { ledgerAppends.increment() }
    /// A realm's keys found in memory, or read and unwrapped again.
    static func keyCache(hit: Bool) { (hit ? keyCacheResults.hit : keyCacheResults.miss).increment() }
    /// A membership found in memory under current versions, or read again.
    static func membershipCache(hit: Bool) { (hit ? membershipCacheResults.hit : membershipCacheResults.miss).increment() }
    /// E-mail waiting to be sent, seen by the delivery loop each round.
    static func outboxPending(_ count: Int) { outboxWaiting.record(count) }
}
