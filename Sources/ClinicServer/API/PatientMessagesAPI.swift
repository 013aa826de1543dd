import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/patients/{patientId}/messages`: what the clinic has sent a patient
/// (kind, channel, delivery state), for the roles that read demographics. Never the words or
/// the address: those stay sealed for the delivery worker.
enum PatientMessagesAPI {
    static func register(_ api: any RoutesBuilder) {
        api.grouped("clinics", ":clinicId", "patients", ":patientId", "messages")
            .inClinic(.GET, permission: (.patient, .read), doc: doc, use: list)
    }

    struct Message: Content {
        let id: String
        let kind: String
        let channel: String
        let status: String
        let createdAt: String
        let sentAt: String?
        let failureReason: String?

        init(_ record: PatientMessageRecord) {
            id = record.id.uuidString.lowercased()
            kind = record.kind.rawValue
            channel = record.channel.rawValue
            status = record.status.rawValue
            createdAt = Timestamp.string(record.createdAt)
            sentAt = record.sentAt.map(Timestamp.string)
            failureReason = record.failureReason
        }
    }

    struct MessageList: Content { let messages: [Message] }

    static func list(_ request: Request, scope: ClinicScope) async throws -> MessageList {
        let records = try await PatientMessages.list(for: try PatientsAPI.patientID(request), scope: scope, services: request.services)
        return MessageList(messages: records.map(Message.init))
    }

    static let message: JSONValue = [
        "type": "object", "required": ["id", "kind", "channel", "status", "createdAt"],
        "properties": [
            "id": AppointmentDocs.uuid,
            "kind": ["type": "string", "enum": .array(PatientMessageKind.allCases.map { .string($0.rawValue) })],
            "channel": ["type": "string", "enum": .array(MessageChannel.allCases.map { .string($0.rawValue) })],
            "status": ["type": "string", "enum": .array(MessageStatus.allCases.map { .string($0.rawValue) })],
            "createdAt": AppointmentDocs.time, "sentAt": AppointmentDocs.time,
            "failureReason": ["type": "string"],
        ],
    ]

    static let doc = APIDoc(
        summary: "The messages sent (or waiting to be sent) to a patient, newest first", tag: "patients",
        answers: [.init(status: 200, description: "The messages.",
                        schema: ["type": "object", "required": ["messages"], "properties": ["messages": ["type": "array", "items": message]]])]
            + OpenAPIDocs.error)
}
