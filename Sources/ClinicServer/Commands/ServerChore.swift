import Foundation
import Logging

/// Work `serve` repeats while it runs: the audit checkpoint sweep, the owners' daily
/// break-glass summary. Each run is safe beside another instance's (the work takes the rows it
/// changes), and a failed run is logged by its error's type only and tried again next period.
final class ServerChore: Sendable {
    private let done: Logger.Message
    private let period: Duration
    private let logger: Logger
    private let work: @Sendable () async throws -> Int
    private let task = LockedTask()

    /// `done` is logged with the count when a run did something.
    init(_ done: Logger.Message, every period: Duration, logger: Logger, work: @escaping @Sendable () async throws -> Int) {
        self.done = done
        self.period = period
        self.logger = logger
        self.work = work
    }

    func start() {
        task.set(Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                guard !Task.isCancelled else { return }
                do {
                    let count = try await work()
                    if count > 0 { logger.info(done, metadata: ["count": .stringConvertible(count)]) }
                } catch {
                    logger.warning("\(done): run failed", metadata: ["error_type": .string(String(reflecting: type(of: error)))])
                }
            }
        })
    }

    func stop() { task.cancel() }
}
