import Foundation

/// One medication as prescribed.
public struct Medication: Sendable, Equatable, Codable {
    public var name: String
    public var dose: String
    public var route: String
    public var frequency: String
    public var quantity: Int
    public var repeats: Int

    public init(name: String, dose: String, route: String, frequency: String, quantity: Int, repeats: Int) {
        self.name = name
        self.dose = dose
        self.route = route
        self.frequency = frequency
        self.quantity = quantity
        self.repeats = repeats
    }
}

/// One herb of a formula and its dose in grams (to a tenth of a gram).
public struct HerbDose: Sendable, Equatable, Codable {
    public var herb: String
    public var grams: Double

    public init(herb: String, grams: Double) {
        self.herb = herb
        self.grams = grams
    }
}

/// A herbal formula: in the clinic's library with default doses, or copied into a
/// prescription and adjusted for one patient.
public struct HerbalFormula: Sendable, Equatable, Codable {
    public var name: String
    public var herbs: [HerbDose]
    public var instructions: String?

    public init(name: String, herbs: [HerbDose], instructions: String? = nil) {
        self.name = name
        self.herbs = herbs
        self.instructions = instructions
    }
}

/// What a prescription says. Sealed as a whole: the medicines a person takes say what they have.
public struct PrescriptionContent: Sendable, Equatable, Codable {
    public var medications: [Medication]
    public var formula: HerbalFormula?
    /// The library formula this one was copied from, when it was.
    public var formulaSource: String?

    public init(medications: [Medication] = [], formula: HerbalFormula? = nil, formulaSource: String? = nil) {
        self.medications = medications
        self.formula = formula
        self.formulaSource = formulaSource
    }
}

/// Submitted shapes, as typed: checked by `validated()`.
public struct MedicationSubmission: Sendable, Codable {
    public var name: String?
    public var dose: String?
    public var route: String?
    public var frequency: String?
    public var quantity: Int?
    public var repeats: Int?

    public init(name: String?, dose: String?, route: String?, frequency: String?, quantity: Int?, repeats: Int?) {
        self.name = name
        self.dose = dose
        self.route = route
        self.frequency = frequency
        self.quantity = quantity
        self.repeats = repeats
    }

    public func validated(at index: Int) throws(ClinicError) -> Medication {
        let prefix = "medications[\(index)]."
        guard let quantity, (1...10_000).contains(quantity) else {
            throw .invalid(prefix + "quantity", "Give a quantity from 1 to 10000.")
        }
        let repeats = self.repeats ?? 0
        guard (0...12).contains(repeats) else { throw .invalid(prefix + "repeats", "Give from 0 to 12 repeats.") }
        return Medication(name: try ClinicalText.required(name, field: prefix + "name", maximum: 200),
                          dose: try ClinicalText.required(dose, field: prefix + "dose", maximum: 100),
                          route: try ClinicalText.required(route, field: prefix + "route", maximum: 50),
                          frequency: try ClinicalText.required(frequency, field: prefix + "frequency", maximum: 100),
                          quantity: quantity, repeats: repeats)
    }
}

public struct HerbDoseSubmission: Sendable, Codable {
    public var herb: String?
    public var grams: Double?

    public init(herb: String?, grams: Double?) {
        self.herb = herb
        self.grams = grams
    }

    public func validated(at index: Int) throws(ClinicError) -> HerbDose {
        let herb = try ClinicalText.required(herb, field: "herbs[\(index)].herb", maximum: 100)
        guard let grams, grams.isFinite, grams >= 0.1, grams <= 500 else {
            throw .invalid("herbs[\(index)].grams", "Give a dose from 0.1 to 500 grams.")
        }
        return HerbDose(herb: herb, grams: (grams * 10).rounded() / 10)
    }
}

public struct FormulaSubmission: Sendable, Codable {
    public var name: String?
    public var herbs: [HerbDoseSubmission]?
    public var instructions: String?

    public init(name: String?, herbs: [HerbDoseSubmission]?, instructions: String? = nil) {
        self.name = name
        self.herbs = herbs
        self.instructions = instructions
    }

    public func validated() throws(ClinicError) -> HerbalFormula {
        let name = try ClinicalText.required(name, field: "name", maximum: 200)
        guard let herbs, !herbs.isEmpty else { throw .invalid("herbs", "Give at least one herb.", code: "required") }
        guard herbs.count <= 40 else { throw .invalid("herbs", "Use at most 40 herbs.") }
        var checked: [HerbDose] = []
        for (index, herb) in herbs.enumerated() { checked.append(try herb.validated(at: index)) }
        return HerbalFormula(name: name, herbs: checked,
                             instructions: try ClinicalText.optional(instructions, field: "instructions", maximum: 2_000))
    }
}

extension PrescriptionContent {
    /// Checks a prescription: at least one medication, or a formula.
    public static func validated(medications: [MedicationSubmission]?, formula: HerbalFormula?, formulaSource: String?) throws(ClinicError) -> PrescriptionContent {
        let submitted = medications ?? []
        guard submitted.count <= 20 else { throw .invalid("medications", "Use at most 20 medications.") }
        var checked: [Medication] = []
        for (index, medication) in submitted.enumerated() { checked.append(try medication.validated(at: index)) }
        guard !checked.isEmpty || formula != nil else {
            throw .invalid("medications", "Give at least one medication, or a formula.", code: "required")
        }
        return PrescriptionContent(medications: checked, formula: formula, formulaSource: formulaSource)
    }
}
