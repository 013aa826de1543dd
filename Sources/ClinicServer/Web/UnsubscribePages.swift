import ClinicDomain
import Vapor

/// `/unsubscribe?token=…`: where a reminder's link leads. The page asks before it changes
/// anything (mail scanners open links); its button, and a mail program's one-click `POST`
/// (RFC 8058), stop e-mail to that patient from that clinic. No sign-in: the token is the
/// permission, and it can do nothing else.
enum UnsubscribePages {
    static func register(_ pages: any RoutesBuilder) {
        pages.anyone(.GET, "unsubscribe", use: confirmPage)
        pages.anyone(.POST, "unsubscribe", use: unsubscribe)
    }

    struct Confirm: Encodable {
        let clinicName: String
        let token: String
        var done = false
    }

    static func token(_ request: Request) throws -> String {
        try request.queryText("token", maximum: 200) ?? ""
    }

    static func confirmPage(_ request: Request) async throws -> Response {
        let token = try token(request)
        guard let clinic = await Communications.unsubscribeClinic(token: token, services: request.services) else { return try await invalid(request) }
        return try await request.render("unsubscribe", Layout("Stop reminders", request: request), Confirm(clinicName: clinic, token: token))
    }

    static func unsubscribe(_ request: Request) async throws -> Response {
        let token = try token(request)
        let clinic: String?
        do {
            clinic = try await Communications.unsubscribe(token: token, services: request.services, context: request.requestContext)
        } catch {
            request.logger.warning("unsubscribe failed", metadata: ["error_type": .string(String(reflecting: type(of: error)))])
            clinic = nil
        }
        guard let clinic else { return try await invalid(request) }
        return try await request.render("unsubscribe", Layout("Reminders stopped", request: request),
                                        Confirm(clinicName: clinic, token: "", done: true))
    }

    private static func invalid(_ request: Request) async throws -> Response {
        try await request.render("message", Layout("Link not valid", request: request),
                                 PageErrorMiddleware.Message(message: "This link is not valid. To change how the clinic contacts you, please contact the clinic."),
                                 status: .notFound)
    }
}
