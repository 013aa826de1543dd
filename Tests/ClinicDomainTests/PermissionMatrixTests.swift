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

    @Test("the front desk and bookkeepers count stock but only owners and admins price products; nobody deletes a product")
    func productsAndStock() {
        #expect(matrix.allows([.receptionist], .stock, .update) && matrix.allows([.bookkeeper], .stock, .update))
        #expect(!matrix.allows([.practitioner], .stock, .update))
        #expect(!matrix.allows([.receptionist, .bookkeeper], .catalogue, .update) && matrix.allows([.admin], .catalogue, .update))
        #expect(!matrix.allows(Set(Role.allCases), .stock, .delete))
    }

    @Test("contacts are kept by the front desk and clinicians, read by bookkeepers, removed by owners and admins only")
    func contacts() {
        #expect(matrix.allows([.receptionist], .contact, .create) && matrix.allows([.practitioner], .contact, .update))
        #expect(matrix.allows([.bookkeeper], .contact, .read) && !matrix.allows([.bookkeeper], .contact, .create))
        #expect(!matrix.allows([.receptionist, .practitioner], .contact, .delete) && matrix.allows([.admin], .contact, .delete))
    }
}
