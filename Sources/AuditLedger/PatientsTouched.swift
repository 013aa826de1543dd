import Foundation

/// Which patients an event shows its actor, read from its ids: the patient it names, the
/// `patient=` of a clinical record's event, the `patients=` a list showed, or the bare ids a
/// patient list or search returned. What a breach assessment needs to name who to notify.
public enum PatientsTouched {
    public static func patients(in event: AuditEvent) -> Set<UUID> {
        var found = Set<UUID>()
        if event.resourceType == "patient", let resource = event.resource { found.insert(resource) }
        guard let detail = event.detail else { return found }
        for part in detail.split(separator: " ") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2 {
                guard pair[0] == "patient" || pair[0] == "patients" else { continue }
                found.formUnion(pair[1].split(separator: ",").compactMap { UUID(uuidString: String($0)) })
            } else if event.action == "patient.list" || event.action == "patient.search" {
                found.formUnion(part.split(separator: ",").compactMap { UUID(uuidString: String($0)) })
            }
        }
        return found
    }
}
