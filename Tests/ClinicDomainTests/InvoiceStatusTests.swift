import ClinicDomain
import Testing

@Suite("Invoice status")
struct InvoiceStatusTests {
    @Test("a draft is the only invoice whose lines change; paid and void are final")
    func onlyDraftsChange() throws {
        try InvoiceStatus.draft.checkedChange()
        for status in [InvoiceStatus.issued, .paid, .void] {
            #expect(throws: InvoiceStatus.locked, "\(status)") { try status.checkedChange() }
        }
        #expect(InvoiceStatus.paid.next.isEmpty && InvoiceStatus.void.next.isEmpty)
    }

    @Test("issuing a draft makes it issued, or paid when it charges nothing; nothing else issues")
    func issuing() throws {
        #expect(try InvoiceStatus.draft.checkedIssue(totalCents: 8_000) == .issued)
        #expect(try InvoiceStatus.draft.checkedIssue(totalCents: 0) == .paid)
        for status in [InvoiceStatus.issued, .paid, .void] {
            #expect(throws: InvoiceStatus.locked, "\(status)") { try status.checkedIssue(totalCents: 100) }
        }
    }

    @Test("a payment is taken against an issued invoice only, never past its balance; the settling one marks it paid")
    func payments() throws {
        #expect(try InvoiceStatus.issued.checkedPayment(amountCents: 3_000, balanceCents: 8_000) == .issued)
        #expect(try InvoiceStatus.issued.checkedPayment(amountCents: 8_000, balanceCents: 8_000) == .paid)
        #expect(throws: InvoiceStatus.overpaid) { try InvoiceStatus.issued.checkedPayment(amountCents: 8_001, balanceCents: 8_000) }
        for status in [InvoiceStatus.draft, .paid, .void] {
            #expect(throws: InvoiceStatus.notIssued, "\(status)") { try status.checkedPayment(amountCents: 1, balanceCents: 8_000) }
        }
    }

    @Test("a draft or an issued invoice with nothing paid is voided; one with payments, or already final, is not")
    func voiding() throws {
        try InvoiceStatus.draft.checkedVoid(paidCents: 0)
        try InvoiceStatus.issued.checkedVoid(paidCents: 0)
        #expect(throws: InvoiceStatus.hasPayments) { try InvoiceStatus.issued.checkedVoid(paidCents: 1) }
        for status in [InvoiceStatus.paid, .void] {
            #expect(throws: InvoiceStatus.locked, "\(status)") { try status.checkedVoid(paidCents: 0) }
        }
    }

    @Test("every move the checks allow is one `next` lists")
    func checksAgreeWithNext() {
        for status in InvoiceStatus.allCases {
            #expect(status.canIssue == status.next.contains(.issued), "\(status)")
            #expect(status.takesPayments == (status.next.contains(.paid) && !status.canIssue), "\(status)")
            #expect(status.canVoid(paidCents: 0) == status.next.contains(.void), "\(status)")
        }
    }
}
