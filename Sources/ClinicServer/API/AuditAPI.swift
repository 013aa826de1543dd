import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/audit`: the clinic's ledger, for owners and admins.
enum AuditAPI {
    static func register(_ api: any RoutesBuilder) {
        api.inClinic(.GET, "clinics", ":clinicId", "audit", permission: (.auditLog, .read), doc: OpenAPIDocs.audit, use: list)
    }

    static func list(_ request: Request, scope: ClinicScope) async throws -> APIShapes.AuditEventList {
        var query = AuditQuery()
        if let text = try request.queryText("patientId", maximum: 64), !text.isEmpty {
            guard let id = PatientID(string: text) else { throw ClinicError.invalid("patientId", "Give a patient id.") }
            query.resource = id.rawValue
        }
        if let text = try request.queryText("userId", maximum: 64), !text.isEmpty {
            guard let id = UserID(string: text) else { throw ClinicError.invalid("userId", "Give a user id.") }
            query.actor = id.rawValue
        }
        if let text = try request.queryText("from", maximum: 64), !text.isEmpty { query.from = try Timestamp.parse(text, field: "from") }
        if let text = try request.queryText("to", maximum: 64), !text.isEmpty { query.to = try Timestamp.parse(text, field: "to") }
        query.limit = try request.queryInt("limit", default: 500, range: 1...5000)
        let entries = try await AuditQueries(scope: scope, services: request.services).events(query)
        return APIShapes.AuditEventList(events: entries.map { entry in
            .init(sequence: entry.sequence, occurredAt: Timestamp.string(entry.event.occurredAt),
                  actorId: entry.event.actor?.uuidString.lowercased(), action: entry.event.action,
                  resourceType: entry.event.resourceType, resourceId: entry.event.resource?.uuidString.lowercased(),
                  outcome: entry.event.outcome.rawValue, address: entry.event.address, requestId: entry.event.requestID,
                  detail: entry.event.detail)
        })
    }
}
