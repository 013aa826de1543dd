import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/api-tokens`: integrations' tokens. Owners issue and revoke them;
/// owners and admins see the list. The token itself is in the answer to its issue, once.
enum APITokensAPI {
    static func register(_ api: any RoutesBuilder) {
        let tokens = api.grouped("clinics", ":clinicId", "api-tokens")
        tokens.inClinic(.GET, permission: (.clinicSettings, .read), doc: OpenAPIDocs.listAPITokens, use: list)
        tokens.inClinic(.POST, permission: (.clinicSettings, .update), doc: OpenAPIDocs.issueAPIToken, use: issue)
        tokens.inClinic(.DELETE, ":tokenId", permission: (.clinicSettings, .update), doc: OpenAPIDocs.revokeAPIToken, use: revoke)
    }

    struct Body: Content {
        let label: String?
        let roles: [String]?
        let expiresInDays: Int?
    }

    struct Entry: Content {
        let id: String
        let label: String
        let roles: [String]
        let createdBy: String
        let createdAt: String
        let expiresAt: String
        let revokedAt: String?
        let lastUsedAt: String?
        /// Only in the answer to the issue.
        let token: String?

        init(_ entry: APITokens.Entry, token: String? = nil) {
            id = entry.id.uuidString.lowercased()
            label = entry.label
            roles = entry.roles.sorted().map(\.rawValue)
            createdBy = entry.createdBy.uuidString.lowercased()
            createdAt = Timestamp.string(entry.createdAt)
            expiresAt = Timestamp.string(entry.expiresAt)
            revokedAt = entry.revokedAt.map(Timestamp.string)
            lastUsedAt = entry.lastUsedAt.map(Timestamp.string)
            self.token = token
        }
    }

    struct EntryList: Content { let apiTokens: [Entry] }

    static func list(_ request: Request, scope: ClinicScope) async throws -> EntryList {
        EntryList(apiTokens: try await APITokens(scope: scope, services: request.services).list().map { Entry($0) })
    }

    static func issue(_ request: Request, scope: ClinicScope) async throws -> Response {
        let body = try request.decodeBody(Body.self)
        let issued = try await APITokens(scope: scope, services: request.services)
            .issue(label: body.label, roles: body.roles, expiresInDays: body.expiresInDays)
        let response = Response(status: .created)
        response.headers.cacheControl = .init(noStore: true)
        try response.content.encode(Entry(issued.entry, token: issued.token))
        return response
    }

    static func revoke(_ request: Request, scope: ClinicScope) async throws -> HTTPStatus {
        let id = try request.pathUUID("tokenId")
        try await APITokens(scope: scope, services: request.services).revoke(id)
        return .noContent
    }
}
