import Vapor

/// The benchmark's W0′: a Vapor application with ClinicKeep's TLS settings (the same certificate,
/// key and minimum version) and nothing else: no middleware, no database, one route answering
/// `GET /healthz` with 200. W0 against it is what ClinicKeep's own middleware costs.
public enum BareHealthz {
    /// Serves until SIGINT or SIGTERM. `dataDirectory` is a ClinicKeep server's, whose
    /// certificate and key it uses.
    public static func serve(dataDirectory: String, port: Int) async throws {
        var settings = try ServerSettings.fromEnvironment()
        settings.dataDirectory = dataDirectory
        let app = try await Application.make(Environment(name: "production", arguments: ["clinickeep-bench", "serve"]))
        app.middleware = Middlewares()
        app.get("healthz") { _ in HTTPStatus.ok }
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = port
        app.http.server.configuration.tlsConfiguration = try TLSMaterial.load(settings).configuration
        do {
            try await app.execute()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
