import Foundation
import Logging
import ServiceLifecycle

/// Sends what waits in the outbox, once a second, while the server runs. Several instances may
/// run it: each message is leased to one sender at a time. On shutdown the batch under way is
/// sent (or marked for retry) before the database closes; nothing waiting is lost, since the
/// outbox is a table and the next start sends it. Patients' messages (`PatientMessages`) go the
/// same way, clinic by clinic, each clinic's rows read under its own realm.
struct OutboxDelivery: Service {
    private let services: ClinicServices
    private let outbox: Outbox
    private let client: SMTPClient
    private let logger: Logger

    init(services: ClinicServices, server: SMTPServer, logger: Logger) {
        self.services = services
        self.outbox = Outbox(services: services)
        self.client = SMTPClient(server: server, from: services.settings.mailFrom)
        self.logger = logger
    }

    func run() async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await deliverDue()
            await deliverPatientMessages()
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

    func deliverPatientMessages() async {
        do {
            for clinic in try await Self.activeClinics(services) {
                for message in try await PatientMessages.takeDue(clinic: clinic, services: services) {
                    let id = message.id.uuidString.lowercased()
                    do {
                        var body = message.body, headers: [String] = []
                        if let link = message.unsubscribeURL {
                            body += "\n\nTo stop these reminders by e-mail: \(link)"
                            headers = ["List-Unsubscribe: <\(link)>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
                        }
                        try await client.send(to: message.recipient, subject: message.subject, body: body, senderName: message.senderName,
                                              headers: headers)
                        try await PatientMessages.markSent(message, services: services)
                        logger.info("patient message sent", metadata: ["message_id": .string(id)])
                    } catch {
                        let smtp = (error as? SMTPClient.Failure)
                        let failure = smtp?.description ?? "could not reach the mail server"
                        try await PatientMessages.markFailed(message, reason: failure, permanent: smtp?.permanent ?? false, services: services)
                        logger.warning("patient message not sent", metadata: ["message_id": .string(id), "reason": .string(failure)])
                    }
                }
            }
        } catch {
            logger.warning("patient messages could not be read", metadata: ["error_type": .string(String(reflecting: type(of: error)))])
        }
    }

    /// A few clinics per server is the design: asking each one every second is cheap.
    static func activeClinics(_ services: ClinicServices) async throws -> [UUID] {
        try await services.store.global.raw("SELECT id FROM clinics WHERE status = 'active'").all().map { try $0.decode(column: "id", as: UUID.self) }
    }
}
