import ClinicServer
import Foundation

// clinickeep-bench ledger [--seconds N] [--json FILE]
// clinickeep-bench bcrypt [--seconds N] [--cost C]   (one JSON line: password checks per second, all cores)
// clinickeep-bench bare-healthz --data-dir DIR --port P  (W0′: a bare Vapor /healthz with that server's TLS)
// clinickeep-bench history --data-dir DIR --clinic ID --appointments N --invoices M
//   (W7's fixture: a year of a demo clinic's diary and billing, written straight; a JSON line last)
//
// Measures the audit ledger on the database the environment names (DATABASE_URL and
// CLINICKEEP_MIGRATION_DATABASE_URL for PostgreSQL; otherwise SQLite in a fresh temporary data
// directory). Build it in release: bench/ledger does, and runs it on both databases.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("clinickeep-bench: \(message)\n".utf8))
    exit(2)
}

LedgerBenchmark.quietLogging()

var arguments = Array(CommandLine.arguments.dropFirst())
guard let benchmark = arguments.first, ["ledger", "bcrypt", "bare-healthz", "history"].contains(benchmark) else {
    fail("usage: clinickeep-bench ledger [--seconds N] [--json FILE] | bcrypt [--seconds N] [--cost C] | bare-healthz --data-dir DIR --port P"
         + " | history --data-dir DIR --clinic ID --appointments N --invoices M")
}
arguments.removeFirst()
var seconds = 5.0
var jsonPath: String?
var bcryptCost = ServerSettings().bcryptCost
var dataDirectory: String?
var port: Int?
var clinic: UUID?
var appointments = 100_000
var invoices = 20_000
while !arguments.isEmpty {
    let flag = arguments.removeFirst()
    guard let value = arguments.first else { fail("\(flag) needs a value") }
    arguments.removeFirst()
    switch flag {
    case "--seconds":
        guard let number = Double(value), number > 0, number <= 600 else { fail("--seconds takes 0 to 600") }
        seconds = number
    case "--json": jsonPath = value
    case "--data-dir": dataDirectory = value
    case "--port":
        guard let number = Int(value), (1...65535).contains(number) else { fail("--port takes 1 to 65535") }
        port = number
    case "--clinic":
        guard let id = UUID(uuidString: value) else { fail("--clinic takes a clinic id") }
        clinic = id
    case "--appointments":
        guard let number = Int(value), (1...1_000_000).contains(number) else { fail("--appointments takes 1 to 1000000") }
        appointments = number
    case "--invoices":
        guard let number = Int(value), (0...1_000_000).contains(number) else { fail("--invoices takes 0 to 1000000") }
        invoices = number
    case "--cost":
        guard let number = Int(value), (10...16).contains(number) else { fail("--cost takes 10 to 16, as CLINICKEEP_BCRYPT_COST does") }
        bcryptCost = number
    default: fail("unknown option \(flag)")
    }
}

if benchmark == "bare-healthz" {
    guard let dataDirectory, let port else { fail("bare-healthz needs --data-dir and --port") }
    do { try await BareHealthz.serve(dataDirectory: dataDirectory, port: port) } catch { fail("\(error)") }
    exit(0)
}

if benchmark == "history" {
    guard let dataDirectory, let clinic else { fail("history needs --data-dir and --clinic") }
    do {
        var settings = try ServerSettings.fromEnvironment()
        settings.dataDirectory = dataDirectory
        let report = try await SyntheticHistory.fill(settings: settings, clinic: clinic, appointments: appointments, invoices: invoices) { line in
            print("history: \(line)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    } catch {
        fail("\(error)")
    }
    exit(0)
}

if benchmark == "bcrypt" {
    do {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let report = try BcryptBenchmark.run(seconds: seconds, cost: bcryptCost)
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    } catch {
        fail("\(error)")
    }
    exit(0)
}

var settings: ServerSettings
do { settings = try ServerSettings.fromEnvironment() } catch { fail("\(error)") }
settings.dataDirectory = NSTemporaryDirectory() + "clinickeep-bench-" + UUID().uuidString
defer { try? FileManager.default.removeItem(atPath: settings.dataDirectory) }

let report: LedgerBenchmark.Report
do {
    report = try await LedgerBenchmark.run(settings: settings, seconds: seconds) { line in print(line) }
} catch {
    fail("\(error)")
}

print("")
print("database  writers  clinics  plain insert/s  ledger append/s  append/plain")
for figure in report.figures {
    print(String(format: "%-8@  %7d  %7d  %14.0f  %15.0f  %12.2f", report.database, figure.writers, figure.clinics,
                 figure.plainPerSecond, figure.appendPerSecond, figure.appendOverPlain))
}
print(String(format: "verify: %lld entries at %.0f entries/s", report.verifiedEntries, report.verifyPerSecond))

if let jsonPath {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
        try encoder.encode(report).write(to: URL(fileURLWithPath: jsonPath))
    } catch {
        fail("cannot write \(jsonPath): \(error)")
    }
}
