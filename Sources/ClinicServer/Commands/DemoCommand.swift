import ClinicDomain
import Foundation
import Vapor

/// `clinickeep demo --clinics N --patients M`: fills the configured database with synthetic
/// clinics for demonstrations and benchmarks. Everything goes through the same repositories as
/// the API (sealed, audited), so a demo database is shaped like a real one.
struct DemoCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "clinics", help: "How many clinics (1-50, default 1)")
        var clinics: Int?
        @Option(name: "patients", help: "Patients per clinic (1-100000, default 200)")
        var patients: Int?
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
        @Flag(name: "patients-only", help: "Patients without appointments or notes (quicker; what bench/run needs)")
        var patientsOnly: Bool
    }

    let signature = Signature()
    var help: String { "Fills the database with synthetic clinics, staff, patients, appointments and signed notes (same environment as serve)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let clinics = signature.clinics ?? 1, patients = signature.patients ?? 200
        guard (1...50).contains(clinics) else { throw CommandFailure("--clinics takes a number from 1 to 50", exitCode: 2) }
        guard (1...100_000).contains(patients) else { throw CommandFailure("--patients takes a number from 1 to 100000", exitCode: 2) }
        try await ClinicKeepApp.configure(context.application, settings: try signature.settings(), migrate: true)
        let services = context.application.clinicServices
        let names = try SyntheticPeople(resources: ClinicKeepApp.resourcesPath)
        // One password for every demo account, shown once here: demo data is for trying the product.
        let password = SecureToken.generate().prefix(20).description
        let passwordHash = try await services.hashPassword(password)
        context.console.print("demo: every account's password is \(password)")
        for number in 1...clinics {
            let clinic = try await SyntheticClinic.create(number: number, services: services, names: names, passwordHash: passwordHash)
            context.console.print("demo: clinic \(number)/\(clinics) \(clinic.id) — owner \(clinic.ownerEmail)")
            try await clinic.fill(patients: patients, names: names, history: !signature.patientsOnly) { done in
                context.console.print("demo: clinic \(number)/\(clinics): \(done)/\(patients) patients")
            }
        }
        context.console.print("demo: done")
    }
}

/// Name lists for synthetic people (shipped copies of the project's shared lists).
struct SyntheticPeople: Sendable {
    let givenNames: [String]
    let surnames: [String]

    init(resources: String) throws {
        func list(_ file: String) throws -> [String] {
            try String(contentsOfFile: resources + "/" + file, encoding: .utf8).split(separator: "\n")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { $0.prefix(1).uppercased() + $0.dropFirst() }
        }
        givenNames = try list("given-names.txt")
        surnames = try list("surnames.txt")
    }

    func name() -> (given: String, family: String) { (givenNames.randomElement()!, surnames.randomElement()!) }
}
