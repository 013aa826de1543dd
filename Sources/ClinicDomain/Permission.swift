/// What a route needs before it runs. Every route names one of these; a test walks the routes.
public enum Permission: Hashable, Sendable, CustomStringConvertible {
    /// Anyone, signed in or not (health, sign-in, sign-up, the OpenAPI document).
    case anyone
    /// Any signed-in person, about themselves (`/me`).
    case signedIn
    /// A session that has passed the password and not yet the second factor, or a full one:
    /// only giving the second factor and signing out.
    case signingIn
    /// A member of the clinic in the path whose roles grant this action on this resource.
    case clinic(ClinicResource, ClinicAction)

    public var description: String {
        switch self {
        case .anyone: return "anyone"
        case .signedIn: return "signed-in"
        case .signingIn: return "signing-in"
        case let .clinic(resource, action): return "\(resource.rawValue).\(action.rawValue)"
        }
    }
}

public enum ClinicResource: String, CaseIterable, Sendable, Hashable {
    case patient          // demographics
    case schedule         // appointments
    case catalogue        // appointment types and products
    case stock            // counted changes to products' stock
    case contact          // referrers, insurers, suppliers
    case formulary        // the clinic's herbal formula library
    case clinicalNote     // consultations, prescriptions
    case document         // a patient's files: consent scans, referral letters, attachments
    case finance          // invoices, payments, revenue
    case staff
    case auditLog
    case clinicSettings
    case report           // the practice's figures; each role sees its parts (`ReportSections`)
    case analytics        // the pseudonymised visits export (`PseudonymisedVisits`)
    case export           // a file of every record of a kind that names people (`ExportKind`)
}

public enum ClinicAction: String, CaseIterable, Sendable, Hashable {
    case read, create, update, delete
}

/// The one declarative permission matrix: resource x action -> the roles allowed.
///
/// Receptionists handle demographics and bookings and never clinical notes or finances;
/// bookkeepers handle finances and never clinical notes; clinical staff never see revenue.
public struct PermissionMatrix: Sendable {
    private let grants: [ClinicResource: [ClinicAction: Set<Role>]]

    public init(_ grants: [ClinicResource: [ClinicAction: Set<Role>]]) { self.grants = grants }

    public func allows(_ roles: Set<Role>, _ resource: ClinicResource, _ action: ClinicAction) -> Bool {
        guard let allowed = grants[resource]?[action] else { return false }
        return !allowed.isDisjoint(with: roles)
    }

    public static let standard = PermissionMatrix([
        .patient: [
            .read: [.owner, .admin, .practitioner, .receptionist, .bookkeeper],
            .create: [.owner, .admin, .practitioner, .receptionist],
            .update: [.owner, .admin, .practitioner, .receptionist],
            .delete: [.owner, .admin],
        ],
        // Bookkeepers see the diary to invoice from it; they do not book.
        .schedule: [
            .read: [.owner, .admin, .practitioner, .receptionist, .bookkeeper],
            .create: [.owner, .admin, .practitioner, .receptionist],
            .update: [.owner, .admin, .practitioner, .receptionist],
            .delete: [],
        ],
        .catalogue: [
            .read: [.owner, .admin, .practitioner, .receptionist, .bookkeeper],
            .create: [.owner, .admin],
            .update: [.owner, .admin],
            .delete: [.owner, .admin],
        ],
        // The front desk sells and receives goods; bookkeepers count them. Prices are the catalogue's.
        .stock: [
            .update: [.owner, .admin, .receptionist, .bookkeeper],
        ],
        // Referrers and other contacts name people: the front desk and clinicians keep them,
        // bookkeepers read them to bill insurers; only owners and admins remove one.
        .contact: [
            .read: [.owner, .admin, .practitioner, .receptionist, .bookkeeper],
            .create: [.owner, .admin, .practitioner, .receptionist],
            .update: [.owner, .admin, .practitioner, .receptionist],
            .delete: [.owner, .admin],
        ],
        // Clinical knowledge rather than anyone's record: the people who prescribe keep it.
        .formulary: [
            .read: [.owner, .admin, .practitioner],
            .create: [.owner, .practitioner],
            .update: [.owner, .practitioner],
            .delete: [.owner, .practitioner],
        ],
        .clinicalNote: [
            .read: [.owner, .practitioner],
            .create: [.owner, .practitioner],
            .update: [.owner, .practitioner],
            .delete: [],
        ],
        // The front desk scans consent forms and referral letters in; bookkeepers never see them.
        // Every version is kept: nobody deletes one.
        .document: [
            .read: [.owner, .admin, .practitioner, .receptionist],
            .create: [.owner, .admin, .practitioner, .receptionist],
            .update: [.owner, .admin, .practitioner, .receptionist],
            .delete: [],
        ],
        .finance: [
            .read: [.owner, .bookkeeper],
            .create: [.owner, .bookkeeper],
            .update: [.owner, .bookkeeper],
            .delete: [.owner],
        ],
        .staff: [
            .read: [.owner, .admin],
            .create: [.owner, .admin],
            .update: [.owner, .admin],
            .delete: [.owner, .admin],
        ],
        .auditLog: [
            .read: [.owner, .admin],
        ],
        // Everyone may ask; what each role gets back is `ReportSections`' (finance to owners
        // and bookkeepers only; a practitioner their own activity).
        .report: [
            .read: [.owner, .admin, .practitioner, .receptionist, .bookkeeper],
        ],
        // Rows about every patient, pseudonymised but whole-clinic: the owners decide where they go.
        .analytics: [
            .read: [.owner],
        ],
        // A file of every patient, booking or contact is a different exposure from reading them
        // a page at a time: those who run the clinic take it away; nobody changes an export.
        .export: [
            .read: [.owner, .admin],
        ],
        // Deleting the clinic (its keys destroyed for good) is the owner's alone.
        .clinicSettings: [
            .read: [.owner, .admin],
            .update: [.owner],
            .delete: [.owner],
        ],
    ])
}
