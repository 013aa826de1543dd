import Logging
import Vapor

/// The executable's entry: one application, ClinicKeep's commands, redacted logging.
public enum ClinicKeepMain {
    public static func run() async -> Int32 {
        let level = (try? ServerSettings.fromEnvironment().logLevel) ?? .info
        LoggingSystem.bootstrap { label in RedactingLogHandler(label: label, level: level) }
        var environment: Environment
        do {
            environment = try Environment.detect()
        } catch {
            FileHandle.standardError.write(Data("clinickeep: \(error)\n".utf8))
            return 2
        }
        let app: Application
        do {
            app = try await Application.make(environment)
        } catch {
            FileHandle.standardError.write(Data("clinickeep: could not start: \(error)\n".utf8))
            return 1
        }
        app.asyncCommands.use(ServeClinicCommand(), as: "serve", isDefault: true)
        app.asyncCommands.use(MigrateClinicCommand(), as: "migrate")
        app.asyncCommands.use(AuditCommands(), as: "audit")
        app.asyncCommands.use(KeysCommands(), as: "keys")
        app.asyncCommands.use(ClinicCommands(), as: "clinic")
        app.asyncCommands.use(AnalyticsCommands(), as: "analytics")
        app.asyncCommands.use(FiguresCommands(), as: "figures")
        app.asyncCommands.use(ReportingCommands(), as: "reporting")
        app.asyncCommands.use(UserCommands(), as: "user")
        app.asyncCommands.use(SupportAccessCommands(), as: "support-access")
        app.asyncCommands.use(DemoCommand(), as: "demo")
        app.asyncCommands.use(SecurityReportCommand(), as: "security-report")
        var status: Int32 = 0
        do {
            try await app.startup()
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("clinickeep: \(failure.description)\n".utf8))
            status = failure.exitCode
        } catch let refusal as SettingsError {
            // Names the setting and the rule, never the value given: nothing to scrub.
            FileHandle.standardError.write(Data("clinickeep: \(refusal.description)\n".utf8))
            status = 2
        } catch {
            FileHandle.standardError.write(Data("clinickeep: \(RedactingLogHandler.scrub(String(describing: error)))\n".utf8))
            status = 1
        }
        try? await app.asyncShutdown()
        return status
    }
}
