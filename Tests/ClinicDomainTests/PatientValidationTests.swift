import Foundation
import Testing
import ClinicDomain

@Suite("Patient validation")
struct PatientValidationTests {
    // DC-16
    @Test("names are required", arguments: ["givenName", "familyName"])
    func namesRequired(_ field: String) {
        var submission = PatientSubmission(givenName: "Ada", familyName: "Lovelace")
        if field == "givenName" { submission.givenName = "  " } else { submission.familyName = nil }
        do {
            _ = try submission.validatedForCreation(country: .australia)
            Issue.record("accepted a missing \(field)")
        } catch {
            #expect(error.field == field)
            #expect(error.status == 400)
        }
    }

    @Test("each bad field is named", arguments: [
        ("birthDate", "31/12/1980"), ("birthDate", "2999-01-01"), ("birthDate", "1980-02-30"),
        ("email", "not-an-email"), ("phone", "12"), ("medicareNumber", "2123456781"), ("address", "bad\u{0007}bell"),
    ])
    func badFieldNamed(_ field: String, _ value: String) {
        var submission = PatientSubmission(givenName: "Ada", familyName: "Lovelace")
        switch field {
        case "birthDate": submission.birthDate = value
        case "email": submission.email = value
        case "phone": submission.phone = value
        case "medicareNumber": submission.medicareNumber = value
        default: submission.address = value
        }
        do {
            _ = try submission.validatedForCreation(country: .australia)
            Issue.record("accepted \(field)=\(value)")
        } catch {
            #expect(error.field == field)
        }
    }

    @Test("a valid patient is normalised: E.164 phone, lower-case e-mail, compact Medicare number")
    func normalised() throws {
        let details = try PatientSubmission(givenName: " Ada ", familyName: "Lovelace", birthDate: "1985-12-10", phone: "0412 345 678",
                                            email: "Ada@Example.ORG", medicareNumber: "2123 45670 1").validatedForCreation(country: .australia)
        #expect(details.givenName == "Ada")
        #expect(details.phone?.e164 == "+61412345678")
        #expect(details.email?.value == "ada@example.org")
        #expect(details.medicareNumber?.value == "2123456701")
    }

    @Test("a change leaves absent fields alone and clears empty ones")
    func partialChange() throws {
        let existing = try PatientSubmission(givenName: "Ada", familyName: "Lovelace", phone: "0412345678", email: "a@b.example")
            .validatedForCreation(country: .australia)
        let changed = try PatientSubmission(email: "").applied(to: existing, country: .australia)
        #expect(changed.phone == existing.phone)
        #expect(changed.email == nil)
        #expect(PatientDetails.fieldNames(changedFrom: existing, to: changed) == ["email"])
    }

    @Test("name tokens fold case and accents and split on punctuation")
    func nameTokens() {
        #expect(NameTokens.tokens("Zoë O'Brien-Smith") == ["zoe", "o", "brien", "smith"])
        #expect(NameTokens.tokens("ANNA anna") == ["anna"])
    }
}
