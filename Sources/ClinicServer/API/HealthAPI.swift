import Vapor

enum HealthAPI {
    static func register(_ app: any RoutesBuilder) {
        app.anyone(.GET, "healthz") { _ in HTTPStatus.ok }
        app.anyone(.GET, ".well-known", "security.txt") { request -> Response in
            let expires = Timestamp.string(Date().addingTimeInterval(180 * 24 * 3600))
            let body = """
            Contact: mailto:security@clinickeep.invalid
            Expires: \(expires)
            Preferred-Languages: en
            Policy: \(request.services.settings.publicURL)/.well-known/security-policy
            # Operators: replace the contact with your own (see docs/threat_model.md). Reports are answered within 24 hours.

            """
            let response = Response(status: .ok, body: .init(string: body))
            response.headers.contentType = .plainText
            return response
        }
    }
}
