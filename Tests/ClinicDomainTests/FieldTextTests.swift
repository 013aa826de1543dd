import ClinicDomain
import Testing

@Suite("Free-text fields")
struct FieldTextTests {
    /// Found by schemathesis: a note of 20,000 letters each carrying combining marks passed the
    /// server's check and broke the document's `maxLength`, which counts code points.
    @Test("a length limit counts code points, as the OpenAPI document does, not letters with their marks")
    func limitsCountCodePoints() throws {
        let marked = String(repeating: "e\u{301}\u{316}", count: 10)
        #expect(marked.count == 10 && marked.unicodeScalars.count == 30)
        #expect(throws: ClinicError.self) { try FieldText.checked(marked, field: "name", maximum: 20) }
        #expect(try FieldText.checked(marked, field: "name", maximum: 30) == marked)
        #expect(throws: ClinicError.self) { try ClinicalText.optional(marked, field: "plan", maximum: 29) }
    }
}
