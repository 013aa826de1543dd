import Testing
import ClinicDomain

@Suite("Permission matrix")
struct PermissionMatrixTests {
    let matrix = PermissionMatrix.standard

    // DAO-15, DC-11
    @Test("receptionists and bookkeepers never read clinical notes")
    func clinicalNotes() {
        #expect(!matrix.allows([.receptionist], .clinicalNote, .read))
        #expect(!matrix.allows([.bookkeeper], .clinicalNote, .read))
        #expect(matrix.allows([.practitioner], .clinicalNote, .read))
    }

    // PRX-5
    @Test("clinical staff and receptionists never read finances")
    func finances() {
        #expect(!matrix.allows([.practitioner], .finance, .read))
        #expect(!matrix.allows([.receptionist], .finance, .read))
        #expect(matrix.allows([.bookkeeper], .finance, .read))
    }

    @Test("roles add up: a practitioner who is also a bookkeeper may read both")
    func rolesCombine() {
        #expect(matrix.allows([.practitioner, .bookkeeper], .finance, .read))
        #expect(matrix.allows([.practitioner, .bookkeeper], .clinicalNote, .read))
    }

    @Test("no role may do what the matrix does not name")
    func closedByDefault() {
        #expect(!matrix.allows(Set(Role.allCases), .auditLog, .delete))
        #expect(!matrix.allows([], .patient, .read))
    }

    // DAO-6: every version of a file is kept
    @Test("patients' files are the front desk's and clinicians', never the bookkeeper's, and nobody deletes one")
    func documents() {
        #expect(matrix.allows([.receptionist], .document, .create) && matrix.allows([.practitioner], .document, .read))
        #expect(!matrix.allows([.bookkeeper], .document, .read))
        #expect(!matrix.allows(Set(Role.allCases), .document, .delete))
    }
}
