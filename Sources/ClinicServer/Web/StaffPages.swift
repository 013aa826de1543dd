import ClinicDomain
import Foundation
import Vapor

/// The clinic's people: who is a member with which roles, open invitations, inviting someone,
/// and practitioners' provider numbers; and the page an invited person accepts on.
enum StaffPages {
    static func register(clinic: any RoutesBuilder, pages: any RoutesBuilder) {
        clinic.inClinic(.GET, "staff", permission: (.staff, .read), use: list)
        clinic.inClinic(.POST, "staff", permission: (.staff, .create), use: invite)
        clinic.inClinic(.POST, "staff", ":userId", "provider-number", permission: (.staff, .update), use: setProviderNumber)
        clinic.inClinic(.POST, "staff", "invitations", ":invitationId", "revoke", permission: (.staff, .delete), use: revokeInvitation)
        pages.anyone(.GET, "invitations", "accept", use: acceptPage)
        pages.anyone(.POST, "invitations", "accept", use: accept)
    }

    struct MemberView: Encodable {
        let userId, name, email, roles: String
        let twoStep: Bool
        let isPractitioner: Bool
        let providerNumber: String?
    }

    struct PendingView: Encodable { let id, email, roles, expires: String }

    struct InviteForm: Content {
        var email: String?
        var name: String?
        var roles: [String]?
    }

    struct RoleChoice: Encodable { let value: String; let checked: Bool }

    struct ListContent: Encodable {
        let members: [MemberView]
        let pending: [PendingView]
        let canInvite, canChange, canRevoke: Bool
        let roles: [RoleChoice]
        let form: InviteForm
        /// Shown once, right after an invitation is made: the link to hand to the person.
        let invitationLink: String?
        let error: String?
    }

    static func list(_ request: Request, scope: ClinicScope) async throws -> Response {
        try await render(request, scope, form: InviteForm())
    }

    static func render(_ request: Request, _ scope: ClinicScope, form: InviteForm, invitationLink: String? = nil,
                       error: ClinicError? = nil) async throws -> Response {
        let (members, pending) = try await StaffDirectory(scope: scope, services: request.services).list()
        // Only an owner deals in the owner role; the form offers no more than the actor may give.
        let offered = Role.allCases.filter { Role.may(scope.roles, grantOrRevoke: [$0]) }
        let content = ListContent(
            members: members.map {
                MemberView(userId: $0.user.description, name: $0.name, email: $0.email, roles: $0.roles.sorted().map(\.rawValue).joined(separator: ", "),
                           twoStep: $0.hasTOTP, isPractitioner: $0.roles.contains(.practitioner), providerNumber: $0.providerNumber)
            },
            pending: pending.map { PendingView(id: $0.id.uuidString.lowercased(), email: $0.email, roles: $0.roles.sorted().map(\.rawValue).joined(separator: ", "),
                                               expires: PageClock(scope).time($0.expiresAt)) },
            canInvite: scope.may(.staff, .create), canChange: scope.may(.staff, .update), canRevoke: scope.may(.staff, .delete),
            roles: offered.map { RoleChoice(value: $0.rawValue, checked: form.roles?.contains($0.rawValue) ?? false) },
            form: form, invitationLink: invitationLink, error: error?.message)
        return try await request.render("staff", Layout("Staff", request: request, scope: scope), content, status: error?.pageStatus ?? .ok)
    }

    static func invite(_ request: Request, scope: ClinicScope) async throws -> Response {
        let form = try request.content.decode(InviteForm.self)
        do {
            let email = try EmailAddress(parsing: form.email ?? "")
            let name = try FieldText.required(form.name, field: "name", maximum: 200, singleLine: true, message: "Give the person's name.")
            let roles = try Role.parseSubmitted(form.roles)
            let issued = try await StaffDirectory(scope: scope, services: request.services).invite(email: email, name: name, roles: roles)
            let link = "/invitations/accept?token=" + issued.token
            return try await render(request, scope, form: InviteForm(), invitationLink: link)
        } catch let error as ClinicError where error.belongsOnForm {
            return try await render(request, scope, form: form, error: error)
        }
    }

    static func revokeInvitation(_ request: Request, scope: ClinicScope) async throws -> Response {
        let id = try request.pathUUID("invitationId")
        try await StaffDirectory(scope: scope, services: request.services).revokeInvitation(id)
        return request.redirect(to: "/clinics/\(scope.clinic)/staff")
    }

    struct ProviderNumberForm: Content { let providerNumber: String? }

    static func setProviderNumber(_ request: Request, scope: ClinicScope) async throws -> Response {
        let user = try StaffAPI.userID(request)
        let text = try request.content.decode(ProviderNumberForm.self).providerNumber ?? ""
        do {
            let number = FieldText.isBlank(text) ? nil : try ProviderNumber(parsing: text)
            try await StaffDirectory(scope: scope, services: request.services).setProviderNumber(of: user, to: number)
            return request.redirect(to: "/clinics/\(scope.clinic)/staff")
        } catch let error as ClinicError where error.belongsOnForm {
            return try await render(request, scope, form: InviteForm(), error: error)
        }
    }

    // MARK: Accepting an invitation

    /// What the invitation page offers: a new person chooses a password; the holder of an
    /// existing account joins while signed in as it, and is asked to sign in otherwise.
    enum AcceptMode: String, Encodable { case newPerson, join, signIn, invalid }

    struct AcceptForm: Encodable {
        let token, loginToken: String
        var mode: AcceptMode = .newPerson
        var name: String?
        var error: String?
    }

    static func mode(for token: String, request: Request) async throws -> AcceptMode {
        guard let pending = try await InvitationAcceptance(services: request.services).pending(token: token) else { return .invalid }
        guard let existing = pending.existingAccount else { return .newPerson }
        guard let session = request.staffSession, session.stage == .full, session.user == existing else { return .signIn }
        return .join
    }

    static func acceptPage(_ request: Request) async throws -> Response {
        let token = try request.queryText("token", maximum: 200) ?? ""
        let mode = try await mode(for: token, request: request)
        return try await Pages.withLoginToken(request) { loginToken in
            try await request.render("invitation", Layout("Join a clinic", request: request), AcceptForm(token: token, loginToken: loginToken, mode: mode))
        }
    }

    struct AcceptBody: Content { let token, name, password: String? }

    /// A new person's form carries the same login-CSRF token as the login page, and a signed-in
    /// member's carries the session's CSRF token: another site cannot make a browser accept.
    static func accept(_ request: Request) async throws -> Response {
        let body = try request.content.decode(AcceptBody.self)
        let joiningAsSelf = request.staffSession != nil && (body.password ?? "").isEmpty
        if !joiningAsSelf { try Pages.checkLoginToken(request) }
        do {
            let accepted = try await StaffAPI.acceptInvitation(token: body.token, name: body.name, password: body.password, request: request)
            let response = request.redirect(to: joiningAsSelf ? "/clinics/\(accepted.clinic)/today" : "/login")
            response.cookies[Pages.loginCookie] = .expiredSession
            return response
        } catch let error as ClinicError where error.belongsOnForm {
            let mode = try await mode(for: body.token ?? "", request: request)
            return try await Pages.withLoginToken(request) { loginToken in
                try await request.render("invitation", Layout("Join a clinic", request: request),
                                         AcceptForm(token: body.token ?? "", loginToken: loginToken, mode: mode, name: body.name, error: error.message),
                                         status: error.pageStatus)
            }
        }
    }
}
