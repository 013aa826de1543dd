import Vapor

enum HealthAPI {
    static func register(_ app: any RoutesBuilder) {
        app.anyone(.GET, "healthz") { _ in HTTPStatus.ok }
        // RFC 9116. The contact and policy are the operator's (CLINICKEEP_SECURITY_CONTACT,
        // CLINICKEEP_SECURITY_POLICY_URL); `security-report` fails while the placeholder is served.
        app.anyone(.GET, ".well-known", "security.txt") { request -> Response in
            let settings = request.services.settings
            let expires = Timestamp.string(Date().addingTimeInterval(180 * 24 * 3600))
            let body = """
            Contact: \(settings.securityContact ?? ServerSettings.placeholderSecurityContact)
            Expires: \(expires)
            Preferred-Languages: en
            Policy: \(settings.securityPolicyURL)

            """
            return plainText(body)
        }
        app.anyone(.GET, ".well-known", "security-policy") { request -> Response in
            let contact = request.services.settings.securityContact ?? ServerSettings.placeholderSecurityContact
            return plainText("""
            Reporting a vulnerability in this ClinicKeep server

            Write to \(contact). Say what you found, how to reproduce it, and how to reach you.
            We acknowledge every report within 24 hours, tell you what we will do within 72 hours,
            and tell you when it is fixed. Test only against accounts and clinics you own; do not
            read, keep or change anyone else's data, and do not degrade the service for others.
            We will not take action against research done in good faith within these lines.

            """)
        }
    }

    private static func plainText(_ body: String) -> Response {
        let response = Response(status: .ok, body: .init(string: body))
        response.headers.contentType = .plainText
        return response
    }
}
