import ServiceLifecycle
import Vapor

/// `clinickeep serve`: migrate, then serve HTTPS until SIGINT or SIGTERM.
struct ServeClinicCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "hostname", short: "H", help: "Address to listen on (default 127.0.0.1)")
        var hostname: String?
        @Option(name: "port", short: "p", help: "Port to listen on (default 8443)")
        var port: String?
        @Option(name: "data-dir", help: "Data directory: SQLite database, key file, certificate (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String { "Serves ClinicKeep over HTTPS.\n" + ServerSettings.environmentHelp }

    func run(using context: CommandContext, signature: Signature) async throws {
        var settings = try signature.settings()
        if let hostname = signature.hostname { settings.hostname = hostname }
        if let port = signature.port { settings.port = try ServerSettings.port(port) }
        let app = context.application
        // First, so that start-up work is counted too.
        var services: [any Service] = []
        if let port = settings.metricsPort {
            services.append(try await MetricsEndpoint.start(host: settings.metricsHostname, port: port, group: app.eventLoopGroup))
            context.console.print("Metrics at http://\(settings.metricsHostname):\(port)/metrics")
        }
        let startup = try await ClinicKeepApp.configure(app, settings: settings, migrate: true)
        if startup.keyFileCreated {
            context.console.print("Created the key-encryption key at \(startup.keyFilePath) (mode 0600). Back it up apart from the database: without it the data cannot be read.")
        }
        if startup.certificateGenerated, let path = startup.certificatePath {
            context.console.print("Generated a self-signed TLS certificate at \(path).")
        }
        // Stopped in the reverse of this order on SIGTERM or SIGINT: first the HTTP server (no
        // new connections; requests under way are answered), then the chores and the outbox
        // (a run under way finishes), the metrics port, and only then, when `serve` returns,
        // the database pools.
        // Always: even with nothing configured here, a clinic may have stored its own SMS account.
        var smtp = try settings.smtpURL.map { try SMTPServer(url: $0) }
        smtp?.trustedCAFile = settings.smtpCAFile
        let sms = settings.sms.map { TwilioSMS(settings: $0, client: app.client) }
        services.append(OutboxDelivery(services: app.clinicServices, smtp: smtp, sms: sms, client: app.client, logger: app.logger))
        let clinic = app.clinicServices, store = clinic.store
        // Checkpoints every chain that went quiet with entries not yet covered by one, once per
        // checkpoint interval (at most once a minute).
        let checkpointPeriod = max(1, min(60_000, store.checkpointing.intervalMilliseconds))
        services.append(ServerChore("audit checkpoints signed", every: .milliseconds(checkpointPeriod), logger: app.logger) {
            try await store.checkpointing.sweep(store: store)
        })
        // Hourly: a summary goes out once a clinic's last one is a day old.
        services.append(ServerChore("break-glass summaries queued", every: .seconds(3600), logger: app.logger) {
            try await BreakGlassSummary(services: clinic).run()
        })
        // The scheduler: reminders now; later work that runs on the clock joins it here.
        services.append(ServerChore("reminders queued", every: .milliseconds(Int64(settings.schedulerInterval * 1000)), logger: app.logger) {
            try await Reminders.queueDue(services: clinic, logger: app.logger)
        })
        // Sessions, reset links, invitations, throttle counters and sent mail past their use: a
        // minute after start (a server restarted often still purges), then hourly.
        services.append(ServerChore("expired rows purged", every: .seconds(3600), firstAfter: .seconds(60), logger: app.logger) {
            try await ExpiredRows(services: clinic).purge().total
        })
        // Reporting roles' tables (PostgreSQL), made again from the clinic's visits every hour.
        services.append(ServerChore("reporting tables refreshed", every: .seconds(3600), logger: app.logger) {
            try await ReportingGrants(services: clinic).refreshAll(context: RequestContext(actor: nil, address: nil, requestID: "reporting-refresh"),
                                                                 logger: app.logger)
        })
        services.append(HTTPService(app: app, settings: settings, console: context.console))
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: app.logger)
        // Past this, what is still running is cancelled; the HTTP server's own wait for its
        // requests is shorter (Vapor's shutdown timeout, 10 s).
        configuration.maximumGracefulShutdownDuration = .seconds(30)
        try await ServiceGroup(configuration: configuration).run()
    }
}

/// The HTTP server (and its plain-HTTP redirect) as a service of the group. It starts inside the
/// group, whose signal handlers are already in place: a SIGTERM sent the moment `/healthz` first
/// answers is a clean stop, not a kill. On the signal it stops accepting and lets the requests
/// in flight finish.
private struct HTTPService: Service {
    let app: Application
    let settings: ServerSettings
    let console: any Console

    func run() async throws {
        try await app.server.start(address: .hostname(settings.hostname, port: settings.port))
        console.print("ClinicKeep is serving at \(settings.publicURL)")
        var redirect: PlainHTTPRedirect?
        if settings.tlsEnabled, let httpPort = settings.plainHTTPPort {
            redirect = try await PlainHTTPRedirect.start(host: settings.hostname, port: httpPort, httpsBase: settings.publicURL,
                                                         group: app.eventLoopGroup)
            console.print("Plain HTTP on port \(httpPort) redirects to \(settings.publicURL)")
        }
        if let token = try await SetupLink(services: app.clinicServices).issueIfUnclaimed() {
            // The link is for the operator's eyes, so it goes to the console, not the log.
            console.print("Set up the first clinic (this link works once): \(settings.publicURL)/setup?token=\(token)")
        }
        try? await gracefulShutdown()
        console.print("Stopping.")
        await redirect?.stop()
        await app.server.shutdown()
    }
}
