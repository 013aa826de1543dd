import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/integration-secrets`: third-party credentials, stored sealed and
/// never answered back (only their kind, label and date). Owners store and remove them; owners
/// and admins see the list.
enum IntegrationSecretsAPI {
    static func register(_ api: any RoutesBuilder) {
        let secrets = api.grouped("clinics", ":clinicId", "integration-secrets")
        secrets.inClinic(.GET, permission: (.clinicSettings, .read), doc: OpenAPIDocs.listIntegrationSecrets, use: list)
        secrets.inClinic(.POST, permission: (.clinicSettings, .update), doc: OpenAPIDocs.storeIntegrationSecret, use: store)
        secrets.inClinic(.DELETE, ":secretId", permission: (.clinicSettings, .update), doc: OpenAPIDocs.deleteIntegrationSecret, use: delete)
    }

    struct Body: Content {
        let kind: String?
        let label: String?
        let value: String?
    }

    struct Entry: Content {
        let id: String
        let kind: String
        let label: String
        let createdAt: String

        init(_ entry: IntegrationSecrets.Entry) {
            id = entry.id.uuidString.lowercased()
            kind = entry.kind.rawValue
            label = entry.label
            createdAt = Timestamp.string(entry.createdAt)
        }
    }

    struct EntryList: Content { let integrationSecrets: [Entry] }

    static func list(_ request: Request, scope: ClinicScope) async throws -> EntryList {
        EntryList(integrationSecrets: try await IntegrationSecrets(scope: scope, services: request.services).list().map(Entry.init))
    }

    static func store(_ request: Request, scope: ClinicScope) async throws -> Response {
        let body = try request.decodeBody(Body.self)
        guard let kind = body.kind.flatMap(IntegrationSecretKind.init(rawValue:)) else {
            throw ClinicError.invalid("kind", "Use one of: " + IntegrationSecretKind.allCases.map(\.rawValue).joined(separator: ", ") + ".")
        }
        let entry = try await IntegrationSecrets(scope: scope, services: request.services)
            .store(kind, label: body.label ?? "", value: body.value ?? "")
        let response = Response(status: .created)
        try response.content.encode(Entry(entry))
        return response
    }

    static func delete(_ request: Request, scope: ClinicScope) async throws -> HTTPStatus {
        let id = try request.pathUUID("secretId")
        try await IntegrationSecrets(scope: scope, services: request.services).delete(id)
        return .noContent
    }
}
