import AuditLedger
import ClinicDomain
import Foundation

/// Who is asking and from where: what every audit event of a request carries.
struct RequestContext: Sendable {
    var actor: UserID?
    var address: String?
    var requestID: String

    func event(chain: UUID, action: String, resourceType: String? = nil, resource: UUID? = nil,
               outcome: AuditEvent.Outcome = .success, detail: String? = nil) -> AuditEvent {
        AuditEvent(chain: chain, actor: actor?.rawValue, action: action, resourceType: resourceType, resource: resource,
                   outcome: outcome, address: address, requestID: requestID, detail: detail)
    }
}

/// A request's standing in one clinic, established server-side from its session and the
/// clinic's membership table before any handler runs.
struct ClinicScope: Sendable {
    let clinic: ClinicID
    let country: CountryCode
    let actor: UserID
    let roles: Set<Role>
    let context: RequestContext
    /// The clinic's wall clock, for pages and working hours.
    var timeZone: ClinicTimeZone = .utc
    /// The clinic's case-based access switch (`CaseAccess`). An integration's API token is
    /// never narrowed by it: its roles (receptionist, bookkeeper) read no clinical notes.
    var caseBasedAccess = false
    /// Set for the operator's read-only support identity: the grant it stands on. Its roles are
    /// empty and `SupportAccess` decides what it may do.
    var supportGrant: UUID?

    var realm: UUID { clinic.rawValue }

    func event(_ action: String, resourceType: String? = nil, resource: UUID? = nil,
               outcome: AuditEvent.Outcome = .success, detail: String? = nil) -> AuditEvent {
        context.event(chain: realm, action: action, resourceType: resourceType, resource: resource, outcome: outcome, detail: detail)
    }
}

extension ClinicScope {
    /// What the scope may do: the permission matrix for its roles, or `SupportAccess` for the
    /// operator's support identity. Routes and pages ask this one question.
    func may(_ resource: ClinicResource, _ action: ClinicAction) -> Bool {
        if supportGrant != nil { return SupportAccess.allows(resource, action) }
        return PermissionMatrix.standard.allows(roles, resource, action)
    }
}
