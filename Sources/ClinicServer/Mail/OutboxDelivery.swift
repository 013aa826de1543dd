import Foundation
import Logging

/// Sends what waits in the outbox, once a second, while the server runs. Several instances may
/// run it: each message is leased to one sender at a time.
final class OutboxDelivery: Sendable {
    private let outbox: Outbox
    private let client: SMTPClient
    private let logger: Logger
    private let task = LockedTask()

    init(services: ClinicServices, server: SMTPServer, logger: Logger) {
        self.outbox = Outbox(services: services)
        self.client = SMTPClient(server: server, from: services.settings.mailFrom)
        self.logger = logger
    }

    func start() {
        task.set(Task { [self] in
            while !Task.isCancelled {
                await deliverDue()
                try? await Task.sleep(nanoseconds: 1_000_000_000)
            }
        })
    }

    func stop() { task.cancel() }

    func deliverDue() async {
        do {
            for message in try await outbox.takeDue() {
                do {
                    try await client.send(to: message.recipient, subject: message.subject, body: message.body)
                    try await outbox.markSent(message)
                    logger.info("e-mail sent", metadata: ["outbox_id": .string(message.id.uuidString.lowercased())])
                } catch {
                    let failure = (error as? SMTPClient.Failure)?.description ?? String(describing: type(of: error))
                    try await outbox.markFailed(message, reason: failure)
                    logger.warning("e-mail not sent; will retry", metadata: ["outbox_id": .string(message.id.uuidString.lowercased()),
                                                                              "reason": .string(failure)])
                }
            }
        } catch {
            logger.warning("outbox could not be read", metadata: ["error_type": .string(String(reflecting: type(of: error)))])
        }
    }
}

/// A task handle that can be set and cancelled from any thread.
final class LockedTask: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Void, Never>?

    func set(_ new: Task<Void, Never>) { lock.withLock { task = new } }
    func cancel() { lock.withLock { task?.cancel(); task = nil } }
}
