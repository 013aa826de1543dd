import Logging
import ServiceLifecycle

/// Work the server does on a timer while it runs (checkpoint signing, summaries). A service of
/// the server's group: on shutdown the wait between runs ends at once, and a run under way
/// finishes before the database pools close (`ServeClinicCommand`).
struct ServerChore: Service {
    private let done: Logger.Message
    private let period: Duration
    private let first: Duration
    private let logger: Logger
    private let work: @Sendable () async throws -> Int

    /// `done` is logged with the count when a run did something. The first run comes after
    /// `firstAfter` (by default one period): a chore a restart should not postpone says sooner.
    init(_ done: Logger.Message, every period: Duration, firstAfter: Duration? = nil, logger: Logger,
         work: @escaping @Sendable () async throws -> Int) {
        self.done = done
        self.period = period
        self.first = firstAfter ?? period
        self.logger = logger
        self.work = work
    }

    func run() async {
        var wait = first
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // Shutdown cuts the wait short, never a run.
            try? await cancelWhenGracefulShutdown { [wait] in try await Task.sleep(for: wait) }
            wait = period
            guard !Task.isShuttingDownGracefully && !Task.isCancelled else { return }
            do {
                let count = try await work()
                if count > 0 { logger.info(done, metadata: ["count": .stringConvertible(count)]) }
            } catch {
                logger.warning("\(done): run failed", metadata: ["error_type": .string(String(reflecting: type(of: error)))])
            }
        }
    }
}
