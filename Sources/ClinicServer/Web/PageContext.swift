import ClinicDomain
import Vapor

/// What every page's layout needs.
struct Layout: Encodable {
    let title: String
    let signedIn: Bool
    let csrfToken: String?
    let clinicId: String?
    /// The clinic's links a role may follow: the menu offers nothing the matrix would refuse.
    var showInvoices = false
    var showStaff = false
    var showSettings = false
    /// The zone the page's times are in.
    var timeZone = "UTC"

    init(_ title: String, request: Request, clinicId: String? = nil) {
        self.title = title
        let session = request.staffSession.flatMap { $0.stage == .full ? $0 : nil }
        self.signedIn = session != nil
        self.csrfToken = session?.csrfToken
        self.clinicId = clinicId
    }

    init(_ title: String, request: Request, scope: ClinicScope) {
        self.init(title, request: request, clinicId: scope.clinic.description)
        showInvoices = scope.may(.finance, .read)
        showStaff = scope.may(.staff, .read)
        showSettings = scope.may(.clinicSettings, .read)
        timeZone = scope.timeZone.identifier
    }
}

/// A page's own values beside the layout's, flattened into one Leaf context.
struct Page<Content: Encodable>: Encodable {
    let layout: Layout
    let content: Content

    func encode(to encoder: any Encoder) throws {
        try layout.encode(to: encoder)
        try content.encode(to: encoder)
    }
}

extension Request {
    func render<C: Encodable>(_ template: String, _ layout: Layout, _ content: C, status: HTTPResponseStatus = .ok) async throws -> Response {
        let view = try await self.view.render(template, Page(layout: layout, content: content))
        let response = try await view.encodeResponse(for: self)
        response.status = status
        return response
    }
}

/// Turns errors on page routes into pages: not signed in goes to the login page, the rest
/// shows a message with the right status.
struct PageErrorMiddleware: AsyncMiddleware {
    struct Message: Encodable { let message: String }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            let (status, detail, headers) = ErrorResponseMiddleware.describe(error)
            if status == .unauthorized { return request.redirect(to: "/login") }
            // A clinic that requires two-step sign-in sends a member without it to set it up first.
            if detail.code == ClinicError.mfaEnrolmentRequired.code.rawValue { return request.redirect(to: TwoStepPages.path) }
            if status.code >= 500 { _ = ErrorResponseMiddleware.response(for: error, request: request) }
            let title = status == .notFound ? "Not found" : status == .forbidden ? "Not allowed"
                : status == .tooManyRequests ? "Too many attempts" : "Something went wrong"
            let response = try await request.render("message", Layout(title, request: request), Message(message: detail.message), status: status)
            for (name, value) in headers where name.lowercased() == "retry-after" { response.headers.replaceOrAdd(name: name, value: value) }
            return response
        }
    }
}
