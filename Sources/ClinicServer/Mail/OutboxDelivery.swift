import Foundation
import Logging
import ServiceLifecycle

/// Sends what waits in the outbox, once a second, while the server runs. Several instances may
/// run it: each message is leased to one sender at a time. On shutdown the batch under way is
/// sent (or marked for retry) before the database closes; nothing waiting is lost, since the
/// outbox is a table and the next start sends it.
struct OutboxDelivery: Service {
    private let outbox: Outbox
    private let client: SMTPClient
    private let logger: Logger

    init(services: ClinicServices, server: SMTPServer, logger: Logger) {
        self.outbox = Outbox(services: services)
        self.client = SMTPClient(server: server, from: services.settings.mailFrom)
        self.logger = logger
    }

    func run() async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await deliverDue()
            if let pending = try? await outbox.pendingCount() { Metric.outboxPending(pending) }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
        }
    }

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
