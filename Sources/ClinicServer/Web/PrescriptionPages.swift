import ClinicDomain
import Foundation
import Vapor

/// Writing a prescription (a library formula, one medication, or both) and printing it.
enum PrescriptionPages {
    static func register(patients: any RoutesBuilder, clinic: any RoutesBuilder) {
        patients.inClinic(.GET, ":patientId", "prescriptions", "new", permission: (.clinicalNote, .create), use: newForm)
        patients.inClinic(.POST, ":patientId", "prescriptions", "new", permission: (.clinicalNote, .create), use: create)
        clinic.inClinic(.GET, "prescriptions", ":prescriptionId", "print", permission: (.clinicalNote, .read), use: print)
    }

    /// Text fields as typed, so a refused form comes back exactly as it was sent.
    struct Form: Content {
        var formulaId: String?
        var name: String?
        var dose: String?
        var route: String?
        var frequency: String?
        var quantity: String?
        var repeats: String?

        var hasMedication: Bool { [name, dose, route, frequency, quantity].contains { !($0 ?? "").trimmingCharacters(in: .whitespaces).isEmpty } }

        func medication() throws -> MedicationSubmission {
            func number(_ text: String?, field: String, _ message: String) throws -> Int? {
                guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
                guard let value = Int(text) else { throw ClinicError.invalid(field, message) }
                return value
            }
            return MedicationSubmission(name: name, dose: dose, route: route, frequency: frequency,
                                        quantity: try number(quantity, field: "quantity", "Give a quantity from 1 to 10000."),
                                        repeats: try number(repeats, field: "repeats", "Give from 0 to 12 repeats."))
        }
    }

    struct FormContent: Encodable {
        let action, chartLink: String
        let showFormulas: Bool
        let formulas: [Choice]
        let form: Form
        let error: String?
    }

    static func newForm(_ request: Request, scope: ClinicScope) async throws -> Response {
        try await render(request, scope, patient: try PatientsAPI.patientID(request), form: Form())
    }

    static func render(_ request: Request, _ scope: ClinicScope, patient: PatientID, form: Form, error: ClinicError? = nil) async throws -> Response {
        let showFormulas = scope.may(.formulary, .read)
        let formulas = showFormulas ? try await Formulary(scope: scope, services: request.services).list() : []
        let base = "/clinics/\(scope.clinic)/patients/\(patient)"
        let content = FormContent(action: base + "/prescriptions/new", chartLink: base + "/chart", showFormulas: showFormulas,
                                  formulas: formulas.map { Choice(value: $0.id.description, label: $0.formula.name,
                                                                  selected: $0.id.description == form.formulaId) },
                                  form: form, error: error?.message)
        return try await request.render("prescription-form", Layout("New prescription", request: request, scope: scope),
                                        content, status: error?.pageStatus ?? .ok)
    }

    static func create(_ request: Request, scope: ClinicScope) async throws -> Response {
        let patient = try PatientsAPI.patientID(request)
        let form = try request.content.decode(Form.self)
        do {
            // A formula id from a role that may not read the library is ignored, as the page never offered it.
            let formula: FormulaID? = scope.may(.formulary, .read) ? try BodyValue.optionalID(form.formulaId, field: "formulaId") : nil
            let prescription = PrescriptionRequest(patient: patient, consultation: nil,
                                                   medications: form.hasMedication ? [try form.medication()] : nil,
                                                   formulaSource: formula, formula: nil)
            let record = try await PrescriptionRecords(scope: scope, services: request.services).create(prescription)
            return request.redirect(to: "/clinics/\(scope.clinic)/prescriptions/\(record.id)/print")
        } catch let error as ClinicError where error.belongsOnForm {
            return try await render(request, scope, patient: patient, form: form, error: error)
        }
    }

    static func summary(_ content: PrescriptionContent) -> String {
        (content.medications.map { "\($0.name) \($0.dose)" } + [content.formula?.name].compactMap { $0 }).joined(separator: "; ")
    }

    struct MedicationLine: Encodable { let name, dose, route, frequency: String; let quantity, repeats: Int }
    struct HerbLine: Encodable { let herb, grams: String }

    struct PrintContent: Encodable {
        let patientName: String?
        let birthDate: String?
        let address: String?
        let chartLink: String
        let writtenAt, prescriber: String
        let medications: [MedicationLine]
        let hasMedications: Bool
        let formulaName: String?
        let herbs: [HerbLine]
        let instructions: String?
    }

    static func print(_ request: Request, scope: ClinicScope) async throws -> Response {
        let record = try await PrescriptionRecords(scope: scope, services: request.services).find(try request.pathID("prescriptionId"))
        let patient = scope.may(.patient, .read) ? try await PatientRepository(scope: scope, services: request.services).find(record.patient) : nil
        let content = record.content
        let page = PrintContent(
            patientName: patient.map(PageFormat.patientName), birthDate: patient?.details.birthDate?.description, address: patient?.details.address,
            chartLink: "/clinics/\(scope.clinic)/patients/\(record.patient)/chart", writtenAt: PageClock(scope).time(record.createdAt),
            prescriber: record.prescriber == scope.actor ? "you" : record.prescriber.description,
            medications: content.medications.map {
                MedicationLine(name: $0.name, dose: $0.dose, route: $0.route, frequency: $0.frequency, quantity: $0.quantity, repeats: $0.repeats)
            },
            hasMedications: !content.medications.isEmpty, formulaName: content.formula?.name,
            herbs: content.formula?.herbs.map { HerbLine(herb: $0.herb, grams: String(format: "%.1f", $0.grams)) } ?? [],
            instructions: content.formula?.instructions)
        return try await request.render("prescription-print", Layout("Prescription", request: request, scope: scope), page)
    }
}
