import ClinicDomain
import Foundation
import Vapor

/// The operator's one-time sign-in link (`clinickeep support-access login`). Opening it shows a
/// button, so a link previewer or prefetcher that fetches the page spends nothing; pressing
/// it signs the support identity in and opens the clinic's patient list.
enum SupportSignInPages {
    static func register(_ pages: any RoutesBuilder) {
        pages.anyone(.GET, "support-sign-in", use: page)
        pages.anyone(.POST, "support-sign-in", use: signIn)
    }

    struct Form: Encodable {
        let token: String
        let loginToken: String
    }

    static func page(_ request: Request) async throws -> Response {
        let token = try request.queryText("token", maximum: 200) ?? ""
        return try await Pages.withLoginToken(request) { loginToken in
            try await request.render("support-sign-in", Layout("Support sign-in", request: request), Form(token: token, loginToken: loginToken))
        }
    }

    struct Body: Content { let token: String? }

    static func signIn(_ request: Request) async throws -> Response {
        try Pages.checkLoginToken(request)
        try await SignInThrottle(services: request.services).limit([(.supportAddress, request.sourceAddress)])
        let token = String((try request.content.decode(Body.self).token ?? "").prefix(200))
        guard let (issued, clinic) = try await SupportGrants(services: request.services)
            .signIn(token: token, client: request.sessionClient, context: request.requestContext) else {
            throw ClinicError(status: 404, code: "not_found",
                              message: "This support sign-in link is not valid: it was used, replaced, is over 15 minutes old, or the clinic's grant has ended.")
        }
        let response = request.redirect(to: "/clinics/\(clinic)/patients")
        response.cookies[SessionStore.cookieName] = .session(issued.token)
        return response
    }
}
