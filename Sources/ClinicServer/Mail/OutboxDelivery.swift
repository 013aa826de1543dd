import ClinicDomain
import Foundation
import Logging
import ServiceLifecycle
import Vapor

/// Sends what waits in the outbox, once a second, while the server runs. Several instances may
/// run it: each message is leased to one sender at a time. On shutdown the batch under way is
/// sent (or marked for retry) before the database closes; nothing waiting is lost, since the
/// outbox is a table and the next start sends it. Patients' messages (`PatientMessages`) go the
/// same way, clinic by clinic, each clinic's rows read under its own realm: e-mail by SMTP,
/// SMS and WhatsApp by the SMS provider; a channel with nothing configured waits.
struct OutboxDelivery: Service {
    private let services: ClinicServices
    private let outbox: Outbox
    private let mail: SMTPClient?
    private let sms: TwilioSMS?
    private let client: any Client
    private let logger: Logger

    /// `client` makes the calls to a clinic's own SMS provider account.
    init(services: ClinicServices, smtp: SMTPServer?, sms: TwilioSMS?, client: any Client, logger: Logger) {
        self.services = services
        self.outbox = Outbox(services: services)
        self.mail = smtp.map { SMTPClient(server: $0, from: services.settings.mailFrom, linkBase: services.settings.linkBaseURL) }
        self.sms = sms
        self.client = client
        self.logger = logger
    }

    /// The channels this server can send on.
    var channels: Set<MessageChannel> {
        var channels: Set<MessageChannel> = []
        if mail != nil { channels.insert(.email) }
        if sms != nil { channels.formUnion([.sms, .whatsapp]) }
        return channels
    }

    func run() async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if mail != nil { await deliverDue() }
            let more = await deliverPatientMessages()
            if let pending = try? await outbox.pendingCount() { Metric.outboxPending(pending) }
            if !more { try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) } }
        }
    }

    func deliverDue() async {
        guard let mail else { return }
        do {
            for message in try await outbox.takeDue() {
                do {
                    try await mail.send(to: message.recipient, subject: message.subject, body: message.body)
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

    /// Messages taken per clinic per round, and sent at once: a relay or provider is a network
    /// away, so a round waits for the slowest of a few, not for each in turn.
    static let batch = 50
    static let concurrentSends = 8

    /// One round over every clinic. Answers true when a clinic had a full batch, so more may be
    /// due at once: the caller goes again without waiting.
    @discardableResult
    func deliverPatientMessages() async -> Bool {
        let channels = self.channels
        var more = false
        do {
            for clinic in try await Self.activeClinics(services) {
                // One clinic's trouble (a row that will not open) never holds up the others.
                let due: [DueMessage]
                do {
                    due = try await PatientMessages.takeDue(clinic: clinic, channels: channels, services: services, limit: Self.batch)
                } catch {
                    logger.warning("patient messages of a clinic could not be read", metadata: [
                        "clinic_id": .string(clinic.uuidString.lowercased()), "error_type": .string(String(reflecting: type(of: error)))])
                    continue
                }
                if due.count == Self.batch { more = true }
                await withTaskGroup(of: Void.self) { group in
                    for (index, message) in due.enumerated() {
                        if index >= Self.concurrentSends { await group.next() }
                        group.addTask { await self.deliver(message) }
                    }
                }
            }
        } catch {
            logger.warning("patient messages could not be read", metadata: ["error_type": .string(String(reflecting: type(of: error)))])
        }
        return more
    }

    private func deliver(_ message: DueMessage) async {
        let id = message.id.uuidString.lowercased()
        let outcome = await send(message)
        do {
            switch outcome {
            case .sent:
                try await PatientMessages.markSent(message, services: services)
                logger.info("patient message sent", metadata: ["message_id": .string(id), "channel": .string(message.channel.rawValue)])
            case let .refused(failure), let .failed(failure):
                let permanent = if case .refused = outcome { true } else { false }
                try await PatientMessages.markFailed(message, reason: failure, permanent: permanent, services: services)
                logger.warning("patient message not sent", metadata: ["message_id": .string(id), "channel": .string(message.channel.rawValue),
                                                                      "reason": .string(failure)])
            }
        } catch {
            // Left leased: it is tried again when the lease ends.
            logger.warning("patient message state not recorded", metadata: ["message_id": .string(id),
                                                                             "error_type": .string(String(reflecting: type(of: error)))])
        }
    }

    private func send(_ message: DueMessage) async -> SMSOutcome {
        switch message.channel {
        case .email:
            guard let mail else { return .failed("no mail server configured") }
            var body = message.body, headers: [String] = []
            if let link = message.unsubscribeURL {
                body += "\n\nTo stop these reminders by e-mail: \(link)"
                headers = ["List-Unsubscribe: <\(link)>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
            }
            do {
                try await mail.send(to: message.recipient, subject: message.subject, body: body, senderName: message.senderName, headers: headers)
                return .sent
            } catch let failure as SMTPClient.Failure {
                return failure.permanent ? .refused(failure.description) : .failed(failure.description)
            } catch {
                return .failed("could not reach the mail server")
            }
        case .sms, .whatsapp:
            let own = message.clinicSMS.map { credential in
                TwilioSMS(settings: SMSSettings(accountSID: credential.accountSID, authToken: credential.authToken, from: credential.from,
                                                baseURL: services.settings.twilioBaseURL), client: client)
            }
            guard let sms = own ?? sms else { return .failed("no SMS provider configured") }
            return await sms.send(to: message.recipient, body: message.body, whatsapp: message.channel == .whatsapp)
        }
    }

    /// A few clinics per server is the design: asking each one every second is cheap.
    static func activeClinics(_ services: ClinicServices) async throws -> [UUID] {
        try await services.store.global.raw("SELECT id FROM clinics WHERE status = 'active'").all().map { try $0.decode(column: "id", as: UUID.self) }
    }
}
