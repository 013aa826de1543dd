import ClinicDomain

/// Every table of a clinic's data that holds sealed values, and which columns: what key
/// operations count, move forward and check before a version is retired. A column sealed with a
/// clinic's keys and missing here would keep its old version and be lost when it is retired;
/// `KeyRotationTests` reads every kind of record back after a retirement to catch exactly that.
struct SealedTable: Sendable {
    let name: String
    let columns: [String]

    /// Patients also carry blind indexes and name tokens; `PatientRepository.reseal` moves them.
    static let patients = SealedTable(name: PatientRepository.table, columns: PatientRepository.sealedColumns)

    static let clinic: [SealedTable] = [
        patients,
        SealedTable(name: AppointmentBook.table, columns: ["reason"]),
        SealedTable(name: ConsultationRecords.table, columns: ConsultationNote.parts),
        SealedTable(name: ConsultationRecords.amendmentsTable, columns: ["reason"] + ConsultationNote.parts),
        SealedTable(name: PrescriptionRecords.table, columns: ["content"]),
        SealedTable(name: IntegrationSecrets.table, columns: ["secret"]),
        SealedTable(name: ContactBook.table, columns: ContactBook.sealedColumns),
        SealedTable(name: InvoiceRecords.table, columns: InvoiceRecords.sealedColumns),
        SealedTable(name: InvoiceRecords.paymentsTable, columns: ["reference"]),
        // A file's bytes are sealed under a key of its own; only that key (and the name and
        // hash) are sealed with the clinic's keys, so rotation never rewrites a file.
        SealedTable(name: PatientFiles.filesTable, columns: ["name"]),
        SealedTable(name: PatientFiles.versionsTable, columns: ["file_key", "sha256"]),
        SealedTable(name: BreakGlass.table, columns: ["reason"]),
        SealedTable(name: PatientMessages.table, columns: PatientMessages.sealedColumns),
    ]
}
