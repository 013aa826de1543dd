import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/staff` and `/api/v1/invitations/accept`.
enum StaffAPI {
    static func register(_ api: any RoutesBuilder) {
        let staff = api.grouped("clinics", ":clinicId", "staff")
        staff.inClinic(.GET, permission: (.staff, .read), doc: OpenAPIDocs.listStaff, use: list)
        staff.inClinic(.POST, permission: (.staff, .create), doc: OpenAPIDocs.invite, use: invite)
        staff.inClinic(.PATCH, ":userId", permission: (.staff, .update), doc: OpenAPIDocs.changeRoles, use: changeRoles)
        staff.inClinic(.DELETE, ":userId", permission: (.staff, .delete), doc: OpenAPIDocs.removeMember, use: remove)
        staff.inClinic(.PUT, ":userId", "provider-number", permission: (.staff, .update), doc: InvoiceDocs.setProviderNumber, use: setProviderNumber)
        api.grouped("clinics", ":clinicId", "invitations")
            .inClinic(.DELETE, ":invitationId", permission: (.staff, .delete), doc: OpenAPIDocs.revokeInvitation, use: revokeInvitation)
        api.anyone(.POST, "invitations", "accept", doc: OpenAPIDocs.acceptInvitation, use: accept)
    }

    struct InviteBody: Content { let email: String?; let name: String?; let roles: [String]? }
    struct Invitation: Content { let id: String; let inviteToken: String; let expiresAt: String }
    struct RolesBody: Content { let roles: [String]? }
    struct MFAState: Content { let totp: Bool }
    struct Member: Content { let userId: String; let name: String; let email: String; let roles: [String]; let mfa: MFAState; var providerNumber: String? = nil }
    struct ProviderNumberBody: Content { let providerNumber: String? }
    struct Pending: Content { let id: String; let email: String; let roles: [String]; let expiresAt: String }
    struct StaffList: Content { let staff: [Member]; let invitations: [Pending] }
    struct AcceptBody: Content { let inviteToken: String?; let name: String?; let password: String? }
    struct Accepted: Content { let userId: String; let clinicId: String }

    static func userID(_ request: Request) throws -> UserID {
        let id = try request.pathID("userId", as: UserID.self)
        return id
    }

    static func invite(_ request: Request, scope: ClinicScope) async throws -> Response {
        let body = try request.decodeBody(InviteBody.self)
        let email = try EmailAddress(parsing: body.email ?? "")
        let name = (body.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.unicodeScalars.count <= 200 else { throw ClinicError.invalid("name", "Give the person's name (at most 200 characters).", code: "required") }
        let roles = try Role.parseSubmitted(body.roles)
        let issued = try await StaffDirectory(scope: scope, services: request.services).invite(email: email, name: name, roles: roles)
        let response = Response(status: .created)
        try response.content.encode(Invitation(id: issued.id.uuidString.lowercased(), inviteToken: issued.token, expiresAt: Timestamp.string(issued.expiresAt)))
        return response
    }

    static func list(_ request: Request, scope: ClinicScope) async throws -> StaffList {
        let (members, pending) = try await StaffDirectory(scope: scope, services: request.services).list()
        return StaffList(
            staff: members.map { Member(userId: $0.user.description, name: $0.name, email: $0.email, roles: $0.roles.sorted().map(\.rawValue),
                                        mfa: MFAState(totp: $0.hasTOTP), providerNumber: $0.providerNumber) },
            invitations: pending.map { Pending(id: $0.id.uuidString.lowercased(), email: $0.email, roles: $0.roles.sorted().map(\.rawValue),
                                               expiresAt: Timestamp.string($0.expiresAt)) })
    }

    /// The member's sessions end with the change (ASVS 3.2.1: a new session at any change of
    /// privilege); when you change your own roles, your session is replaced by a new one.
    static func changeRoles(_ request: Request, scope: ClinicScope) async throws -> Response {
        let user = try userID(request)
        let roles = try Role.parseSubmitted(try request.decodeBody(RolesBody.self).roles)
        let directory = StaffDirectory(scope: scope, services: request.services)
        let replacement = try await directory.changeRoles(of: user, to: roles, client: request.sessionClient,
                                                          assurance: request.staffSession?.assurance ?? .password)
        let identity = IdentityDirectory(services: request.services)
        guard let person = try await identity.person(user) else { throw ClinicError.notFound }
        let response = Response(status: .ok)
        try response.content.encode(Member(userId: user.description, name: person.name, email: person.email, roles: roles.sorted().map(\.rawValue),
                                           mfa: MFAState(totp: try await SecondFactors(services: request.services).isEnrolled(user))))
        if let replacement {
            response.cookies[SessionStore.cookieName] = .session(replacement.token)
            response.headers.replaceOrAdd(name: "X-CSRF-Token", value: replacement.csrfToken)
        }
        return response
    }

    /// An empty or absent number clears it.
    static func setProviderNumber(_ request: Request, scope: ClinicScope) async throws -> HTTPStatus {
        let user = try userID(request)
        let text = try request.decodeBody(ProviderNumberBody.self).providerNumber ?? ""
        let number = FieldText.isBlank(text) ? nil : try ProviderNumber(parsing: text)
        try await StaffDirectory(scope: scope, services: request.services).setProviderNumber(of: user, to: number)
        return .noContent
    }

    static func remove(_ request: Request, scope: ClinicScope) async throws -> HTTPStatus {
        try await StaffDirectory(scope: scope, services: request.services).remove(try userID(request))
        return .noContent
    }

    static func revokeInvitation(_ request: Request, scope: ClinicScope) async throws -> HTTPStatus {
        let id = try request.pathUUID("invitationId")
        try await StaffDirectory(scope: scope, services: request.services).revokeInvitation(id)
        return .noContent
    }

    static func accept(_ request: Request) async throws -> Response {
        let body = try request.decodeBody(AcceptBody.self)
        let accepted = try await acceptInvitation(token: body.inviteToken, name: body.name, password: body.password, request: request)
        let response = Response(status: .created)
        try response.content.encode(Accepted(userId: accepted.user.description, clinicId: accepted.clinic.description))
        return response
    }

    /// Accepting an invitation, for the API and the invitation page alike.
    ///
    /// Failed tokens are counted per source address before anything else (ASVS 2.2.1); the
    /// token is looked up before any password is hashed. An invitation to an existing account is
    /// accepted only by that account's signed-in session, with its CSRF token: without one the
    /// answer is 409 `sign_in_to_accept` and no password is checked, so the route is no oracle.
    static func acceptInvitation(token: String?, name: String?, password: String?, request: Request) async throws -> InvitationAcceptance.Accepted {
        guard let token, !token.isEmpty else { throw ClinicError.invalid("inviteToken", "Give the invitation's token.", code: "required") }
        if let name, name.unicodeScalars.count > 200 { throw ClinicError.invalid("name", "Use at most 200 characters.") }
        let services = request.services
        let throttle = SignInThrottle(services: services)
        let subjects = try await throttle.subjects([(.invitationAddress, request.sourceAddress)])
        if case let .refused(retryAfter) = try await throttle.admit(subjects) {
            try await IdentityDirectory(services: services).recordThrottled(action: "invitation.accept", context: request.requestContext)
            throw ClinicError.tooManyAttempts(retryAfter: retryAfter)
        }
        let invitations = InvitationAcceptance(services: services)
        guard let pending = try await invitations.pending(token: token) else {
            _ = try await throttle.failed(subjects[0])
            throw ClinicError.invitationNotFound
        }
        let presentsPassword = !(password ?? "").isEmpty
        let joining: InvitationAcceptance.Joining
        if let existing = pending.existingAccount {
            guard request.staffSession != nil else { throw ClinicError.signInToAccept }
            let session = try await RequestGuards.requireSession(request)
            guard session.user == existing else { throw ClinicError.invitationNotFound }
            joining = .existingAccount(existing)
        } else if !presentsPassword, request.staffSession != nil {
            // Signed in and accepting as oneself, but the invitation is for another address.
            throw ClinicError.invitationNotFound
        } else {
            guard let password, presentsPassword else { throw ClinicError.invalid("password", "Choose a password.", code: "required") }
            try await services.checkNewPassword(password, field: "password")
            joining = .newPerson(name: name, passwordHash: try await services.hashPassword(password))
        }
        guard let accepted = try await invitations.accept(pending, joining: joining, context: request.requestContext) else {
            throw ClinicError.invitationNotFound
        }
        try await throttle.succeeded(subjects[0])
        return accepted
    }
}

extension ClinicError {
    static let invitationNotFound = ClinicError(status: 404, code: "invitation_not_found", message: "This invitation is not valid, has expired, or has been used.")
    static let signInToAccept = ClinicError.conflict("sign_in_to_accept",
                                                     "This e-mail address already has an account: sign in with it, then accept the invitation.")
}
