import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/security`: the clinic's MFA requirement and password minimum.
enum ClinicSecurityAPI {
    static func register(_ api: any RoutesBuilder) {
        let security = api.grouped("clinics", ":clinicId", "security")
        security.inClinic(.GET, permission: (.clinicSettings, .read), doc: OpenAPIDocs.readSecurity, use: read)
        security.inClinic(.PUT, permission: (.clinicSettings, .update), doc: OpenAPIDocs.updateSecurity, use: update)
    }

    struct Body: Content {
        let mfaRequiredRoles: [String]?
        let passwordMinimumLength: Int?
    }

    struct Settings: Content {
        let mfaRequiredRoles: [String]
        let passwordMinimumLength: Int

        init(_ policy: ClinicSecuritySettings.Policy) {
            mfaRequiredRoles = policy.mfaRequiredRoles.sorted().map(\.rawValue)
            passwordMinimumLength = policy.passwordMinimum
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
        let passwords = request.services.passwordPolicy
        try ClinicSecuritySettings.validate(policy, defaultMinimum: passwords.minimumLength, maximum: passwords.maximumLength)
        try await settings.update(to: policy)
        return Settings(policy)
    }
}
