import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/audit`: the clinic's ledger and the questions of a breach
/// assessment, for owners and admins; `format=csv` downloads the same answer.
enum AuditAPI {
    static func register(_ api: any RoutesBuilder) {
        api.inClinic(.GET, "clinics", ":clinicId", "audit", permission: (.auditLog, .read), doc: OpenAPIDocs.audit, use: list)
        api.inClinic(.GET, "clinics", ":clinicId", "audit", "sign-in-failures", permission: (.auditLog, .read),
                     doc: OpenAPIDocs.signInFailures, use: signInFailures)
    }

    static func list(_ request: Request, scope: ClinicScope) async throws -> Response {
        var query = AuditQuery()
        if let text = try request.queryText("patientId", maximum: 64), !text.isEmpty {
            guard let id = PatientID(string: text) else { throw ClinicError.invalid("patientId", "Give a patient id.") }
            query.resource = id.rawValue
        }
        if let text = try request.queryText("userId", maximum: 64), !text.isEmpty {
            guard let id = UserID(string: text) else { throw ClinicError.invalid("userId", "Give a user id.") }
            query.actor = id.rawValue
        }
        (query.from, query.to) = try period(request)
        // The ledger is read by period: a limit, no offset.
        query.limit = try Paging(limit: try request.queryText("limit", maximum: 12), offset: nil, sizes: .audit).limit
        let csv = try wantsCSV(request)
        let entries = try await AuditQueries(scope: scope, services: request.services).events(query)
        let events: [APIShapes.AuditEventList.Event] = entries.map { entry in
            .init(sequence: entry.sequence, occurredAt: Timestamp.string(entry.event.occurredAt),
                  actorId: entry.event.actor?.uuidString.lowercased(), action: entry.event.action,
                  resourceType: entry.event.resourceType, resourceId: entry.event.resource?.uuidString.lowercased(),
                  outcome: entry.event.outcome.rawValue, address: entry.event.address, requestId: entry.event.requestID,
                  detail: entry.event.detail)
        }
        guard csv else { return try await APIShapes.AuditEventList(events: events).encodeResponse(for: request) }
        var table = CSVTable(header: ["sequence", "occurredAt", "actorId", "action", "resourceType", "resourceId", "outcome", "address", "requestId", "detail"])
        for event in events {
            table.append([String(event.sequence), event.occurredAt, event.actorId, event.action, event.resourceType, event.resourceId,
                          event.outcome, event.address, event.requestId, event.detail])
        }
        return table.response(filename: "audit-\(scope.clinic).csv")
    }

    static func signInFailures(_ request: Request, scope: ClinicScope) async throws -> Response {
        let (from, to) = try period(request)
        let csv = try wantsCSV(request)
        let rows = try await AuditQueries(scope: scope, services: request.services).signInFailures(from: from, to: to)
        let answer = rows.map { APIShapes.SignInFailureList.Address(address: $0.address, failures: $0.failures, accounts: $0.accounts,
                                                                    lastAt: Timestamp.string($0.lastAt)) }
        guard csv else { return try await APIShapes.SignInFailureList(addresses: answer).encodeResponse(for: request) }
        var table = CSVTable(header: ["address", "failures", "accounts", "lastAt"])
        for row in answer { table.append([row.address, String(row.failures), String(row.accounts), row.lastAt]) }
        return table.response(filename: "sign-in-failures-\(scope.clinic).csv")
    }

    private static func period(_ request: Request) throws -> (Date?, Date?) {
        var from: Date?
        var to: Date?
        if let text = try request.queryText("from", maximum: 64), !text.isEmpty { from = try Timestamp.parse(text, field: "from") }
        if let text = try request.queryText("to", maximum: 64), !text.isEmpty { to = try Timestamp.parse(text, field: "to") }
        if let from, let to, from > to { throw ClinicError.invalid("to", "The end of the period comes before its start.") }
        return (from, to)
    }

    private static func wantsCSV(_ request: Request) throws -> Bool {
        switch try request.queryText("format", maximum: 8) ?? "json" {
        case "json", "": return false
        case "csv": return true
        default: throw ClinicError.invalid("format", "Give json or csv.")
        }
    }
}
