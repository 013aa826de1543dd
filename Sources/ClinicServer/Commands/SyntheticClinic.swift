import ClinicDomain
import Foundation

/// One synthetic clinic: an owner, two practitioners, a receptionist and a bookkeeper, three
/// appointment types, three products in stock and two referrers; `fill` adds patients with a
/// month of appointments around today, and for past ones signed consultations, some
/// prescriptions and an issued invoice, most of them paid. Every value is made up.
struct SyntheticClinic: Sendable {
    let id: ClinicID
    let ownerEmail: String
    let services: ClinicServices
    let owner: UserID
    let practitioners: [UserID]
    let receptionist: UserID
    let bookkeeper: UserID
    let types: [AppointmentTypeID]

    static let country = CountryCode.australia
    static let context = RequestContext(actor: nil, address: nil, requestID: "demo")

    static func create(number: Int, services: ClinicServices, names: SyntheticPeople, passwordHash: String) async throws -> SyntheticClinic {
        let tag = String((0..<6).map { _ in "bcdfghjkmnpqrstvwxz".randomElement()! })
        let ownerName = names.name()
        let ownerEmail = "owner.\(tag)@demo-\(number).clinickeep.example"
        let outcome = try await IdentityDirectory(services: services).createClinic(
            name: "\(ownerName.family) Street Clinic", country: country, ownerEmail: try EmailAddress(parsing: ownerEmail),
            ownerName: "\(ownerName.given) \(ownerName.family)", passwordHash: passwordHash, context: context)
        guard case let .created(created) = outcome else { throw CommandFailure("demo: the generated owner e-mail is already in use; run again") }
        let ownerScope = scope(created.clinic, actor: created.owner, roles: [.owner])
        let staff = StaffDirectory(scope: ownerScope, services: services)
        func member(_ role: Role, _ index: Int) async throws -> UserID {
            let name = names.name()
            let issued = try await staff.invite(email: try EmailAddress(parsing: "\(role.rawValue)\(index).\(tag)@demo-\(number).clinickeep.example"),
                                                name: "\(name.given) \(name.family)", roles: [role])
            let invitations = InvitationAcceptance(services: services)
            guard let pending = try await invitations.pending(token: issued.token),
                  let accepted = try await invitations.accept(pending, joining: .newPerson(name: nil, passwordHash: passwordHash), context: context) else {
                throw CommandFailure("demo: an invitation was not accepted")
            }
            return accepted.user
        }
        let practitioners = [try await member(.practitioner, 1), try await member(.practitioner, 2)]
        let receptionist = try await member(.receptionist, 1)
        let bookkeeper = try await member(.bookkeeper, 1)
        // Every day 08:00 to 18:00 (the clinic's zone is UTC): the visits below fall inside, and
        // the reports page has working time to set them against.
        let week = WorkingWeek(periods: WorkingPeriod.Weekday.allCases.map { WorkingPeriod(weekday: $0, startMinute: 8 * 60, endMinute: 18 * 60) })
        for (index, practitioner) in practitioners.enumerated() {
            try await staff.setProviderNumber(of: practitioner, to: try ProviderNumber(parsing: "\(212_340 + index)\(index + 1)A"))
            try await WorkingHours(scope: ownerScope, services: services).replace(of: practitioner, with: week)
        }
        let catalogue = AppointmentTypes(scope: ownerScope, services: services)
        var types: [AppointmentTypeID] = []
        for (name, minutes, price) in [("Initial consultation", 60, 12_000), ("Follow-up", 30, 8_000), ("Acupuncture", 45, 9_500)] {
            types.append(try await catalogue.create(AppointmentKind(name: name, durationMinutes: minutes, priceCents: price)).id)
        }
        let products = ProductCatalogue(scope: ownerScope, services: services)
        for (name, price, gst, received) in [("Arnica cream 50 g", 1_850, true, 24), ("Magnesium powder 200 g", 3_200, true, 12),
                                             ("Herbal granules, per gram", 45, false, 2_000)] {
            let product = try await products.create(ProductDetails(name: name, priceCents: price, gstApplies: gst))
            _ = try await products.changeStock(product.id, by: try StockChange(delta: received, reason: "received"))
        }
        let contacts = ContactBook(scope: ownerScope, services: services)
        for index in 1...2 {
            let name = names.name()
            _ = try await contacts.create(ContactDetails(kind: .referrer, name: "Dr \(name.given) \(name.family)", organisation: "\(names.name().family) Medical Centre",
                                                         phone: try PhoneNumber(parsing: "02 9\(index)00 0000", country: country),
                                                         providerNumber: try ProviderNumber(parsing: "\(240_000 + index * 1_111)\(index)A")))
        }
        return SyntheticClinic(id: created.clinic, ownerEmail: ownerEmail, services: services, owner: created.owner,
                               practitioners: practitioners, receptionist: receptionist, bookkeeper: bookkeeper, types: types)
    }

    static func scope(_ clinic: ClinicID, actor: UserID, roles: Set<Role>) -> ClinicScope {
        ClinicScope(clinic: clinic, country: country, actor: actor, roles: roles,
                    context: RequestContext(actor: actor, address: nil, requestID: "demo"))
    }

    func fill(patients: Int, names: SyntheticPeople, history: Bool = true, progress: (Int) -> Void) async throws {
        let desk = Self.scope(id, actor: receptionist, roles: [.receptionist])
        let book = AppointmentBook(scope: desk, services: services)
        let today = Calendar(identifier: .gregorian).startOfDay(for: Date())
        for index in 1...patients {
            let name = names.name()
            let digits = (0..<8).map { _ in String(Int.random(in: 0...9)) }.joined()
            let submission = PatientSubmission(
                givenName: name.given, familyName: name.family,
                birthDate: String(format: "%04d-%02d-%02d", Int.random(in: 1935...2020), Int.random(in: 1...12), Int.random(in: 1...28)),
                phone: "04" + digits, email: "\(name.given).\(name.family)\(index)@mail.example".lowercased(),
                address: "\(Int.random(in: 1...300)) \(names.name().family) Road",
                // Mostly two cities, so the analytics export has groups large enough to keep.
                sex: ["female", "female", "male", "male", "other", ""].randomElement()!,
                postcode: ["2000", "2000", "2010", "3000", "3000", "4000", "6000"].randomElement()!)
            let patient = try await PatientRepository(scope: desk, services: services).create(try submission.validatedForCreation(country: Self.country)).id
            for _ in 0..<(history ? Int.random(in: 1...2) : 0) {
                let practitioner = practitioners.randomElement()!
                let start = today.addingTimeInterval(Double(Int.random(in: -14...14)) * 86_400 + Double(Int.random(in: 18...33)) * 1_800)
                let booking = Booking(patient: patient, practitioner: practitioner, type: types.randomElement()!, start: start,
                                      durationMinutes: nil, reason: nil)
                let appointment: AppointmentRecord
                do {
                    appointment = try await book.book(booking)
                } catch let error as ClinicError where error.code == "slot_taken" {
                    continue
                }
                guard start < Date() else { continue }
                if Int.random(in: 0..<10) == 0 {
                    _ = try await book.setStatus(appointment.id, to: .noShow)
                    continue
                }
                _ = try await book.setStatus(appointment.id, to: .completed)
                try await writeNotes(patient: patient, appointment: appointment.id, practitioner: practitioner)
                try await bill(patient: patient, appointment: appointment)
            }
            if index % 100 == 0 || index == patients { progress(index) }
        }
    }

    private func writeNotes(patient: PatientID, appointment: AppointmentID, practitioner: UserID) async throws {
        let clinician = Self.scope(id, actor: practitioner, roles: [.practitioner])
        let notes = ConsultationRecords(scope: clinician, services: services)
        let sample = Self.notes.randomElement()!
        let consultation = try await notes.create(patient: patient, appointment: appointment,
                                                  note: ConsultationNote(subjective: sample.0, objective: sample.1, assessment: sample.2, plan: sample.3))
        _ = try await notes.sign(consultation.id)
        guard Bool.random() else { return }
        let medication = MedicationSubmission(name: "Paracetamol", dose: "500 mg", route: "oral", frequency: "up to four times daily",
                                              quantity: 20, repeats: 0)
        _ = try await PrescriptionRecords(scope: clinician, services: services).create(
            PrescriptionRequest(patient: patient, consultation: consultation.id, medications: [medication], formulaSource: nil, formula: nil))
    }

    /// The visit's invoice, issued; four in five are paid in full.
    private func bill(patient: PatientID, appointment: AppointmentRecord) async throws {
        let invoices = InvoiceRecords(scope: Self.scope(id, actor: bookkeeper, roles: [.bookkeeper]), services: services)
        let draft = try await invoices.create(InvoiceRequest(patient: patient, practitioner: nil, appointment: .some(appointment.id),
                                                             lines: [InvoiceLineSubmission(appointmentTypeId: appointment.type.description)], notes: nil))
        let issued = try await invoices.issue(draft.id)
        guard issued.balanceCents > 0, Int.random(in: 0..<5) > 0 else { return }
        _ = try await invoices.pay(draft.id, try PaymentSubmission(amountCents: issued.balanceCents, method: "eftpos", reference: nil))
    }

    static let notes: [(String, String, String, String)] = [
        ("Lower back pain for two weeks after lifting.", "Reduced lumbar flexion; no neurological signs.", "Mechanical low back pain.",
         "Heat, gentle movement, review in two weeks."),
        ("Poor sleep and fatigue for a month.", "Tongue pale, pulse thin.", "Heart and spleen deficiency pattern.",
         "Herbal formula for four weeks; sleep hygiene advice."),
        ("Sore throat and fever since yesterday.", "Temperature 38.1, tonsils red, no exudate.", "Viral pharyngitis.",
         "Fluids, rest, paracetamol; return if worse."),
        ("Right shoulder pain reaching overhead.", "Painful arc 70-120 degrees.", "Rotator cuff tendinopathy.",
         "Exercises given; review in three weeks."),
    ]
}
