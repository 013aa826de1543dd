import Foundation
import Logging

/// While the server runs, checkpoints every chain that went quiet with entries not yet covered
/// by a checkpoint, once per checkpoint interval (at most once a minute). Several instances may
/// run it: each chain's head row is taken before it is checkpointed, and a chain already
/// checkpointed is skipped.
final class CheckpointSweep: Sendable {
    private let store: Store
    private let logger: Logger
    private let task = LockedTask()

    init(store: Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func start() {
        let period = UInt64(max(1, min(60_000, store.checkpointing.intervalMilliseconds))) * 1_000_000
        task.set(Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: period)
                guard !Task.isCancelled else { return }
                do {
                    let written = try await store.checkpointing.sweep(store: store)
                    if written > 0 { logger.info("audit checkpoints signed", metadata: ["chains": .stringConvertible(written)]) }
                } catch {
                    logger.warning("audit checkpoint sweep failed", metadata: ["error_type": .string(String(reflecting: type(of: error)))])
                }
            }
        })
    }

    func stop() { task.cancel() }
}
