import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/security`: the clinic's MFA requirement and password minimum.
enum ClinicSecurityAPI {
    static func register(_ api: any RoutesBuilder) {
        let security = api.grouped("clinics", ":clinicId", "security")
        security.inClinic(.GET, permission: (.clinicSettings, .read), doc: OpenAPIDocs.readSecurity, use: read)
        security.inClinic(.PUT, permission: (.clinicSettings, .update), doc: OpenAPIDocs.updateSecurity, use: update)
        api.grouped("clinics", ":clinicId").inClinic(.DELETE, permission: (.clinicSettings, .delete), doc: OpenAPIDocs.deleteClinic,
                                                     use: deleteClinic)
    }

    struct DeletionBody: Content {
        let password: String?
        /// The clinic's id again, so a slip of the hand cannot delete a clinic.
        let confirmClinicId: String?
    }

    /// Deletes the clinic on its owner's request: the owner's password again, the clinic's id
    /// typed again, then `ClinicDeletion` (memberships gone, root key destroyed).
    static func deleteClinic(_ request: Request, scope: ClinicScope) async throws -> HTTPStatus {
        let body = try request.decodeBody(DeletionBody.self)
        guard let password = body.password, !password.isEmpty else {
            throw ClinicError.invalid("password", "Give your password to delete the clinic.", code: "required")
        }
        guard body.confirmClinicId?.lowercased() == scope.clinic.rawValue.uuidString.lowercased() else {
            throw ClinicError.invalid("confirmClinicId", "Type the clinic's id to confirm that its data is to be destroyed.", code: "confirmation_required")
        }
        try await MeAPI.requireCurrentPassword(password, of: scope.actor, field: "password", request: request)
        let services = request.services
        _ = try await ClinicDeletion(store: services.store, keyring: services.keyring, files: FileFolder(root: services.settings.filesPath)).delete(scope.realm, context: scope.context)
        return .noContent
    }

    struct Body: Content {
        let mfaRequiredRoles: [String]?
        let passwordMinimumLength: Int?
        let caseBasedAccess: Bool?
    }

    struct Settings: Content {
        let mfaRequiredRoles: [String]
        let passwordMinimumLength: Int
        let caseBasedAccess: Bool

        init(_ policy: ClinicSecuritySettings.Policy) {
            mfaRequiredRoles = policy.mfaRequiredRoles.sorted().map(\.rawValue)
            passwordMinimumLength = policy.passwordMinimum
            caseBasedAccess = policy.caseBasedAccess
        }
    }

    static func read(_ request: Request, scope: ClinicScope) async throws -> Settings {
        Settings(try await ClinicSecuritySettings(scope: scope, services: request.services).read())
    }

    static func update(_ request: Request, scope: ClinicScope) async throws -> Settings {
        let body = try request.decodeBody(Body.self)
        let settings = ClinicSecuritySettings(scope: scope, services: request.services)
        var policy = try await settings.read()
        if let names = body.mfaRequiredRoles {
            policy.mfaRequiredRoles = names.isEmpty ? [] : try Role.parseSubmitted(names, field: "mfaRequiredRoles")
        }
        if let minimum = body.passwordMinimumLength { policy.passwordMinimum = minimum }
        if let caseBased = body.caseBasedAccess { policy.caseBasedAccess = caseBased }
        let passwords = request.services.passwordPolicy
        try ClinicSecuritySettings.validate(policy, defaultMinimum: passwords.minimumLength, maximum: passwords.maximumLength)
        try await settings.update(to: policy)
        return Settings(policy)
    }
}
