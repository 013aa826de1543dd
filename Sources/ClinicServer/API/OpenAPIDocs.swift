import ClinicDomain
/// The descriptions of the API routes and the schemas they use, for the OpenAPI document.
enum OpenAPIDocs {
    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
    static let error: [APIDoc.Answer] = [
        .init(status: 400, description: "Bad input; `field` names it.", schema: ref("Error")),
        .init(status: 401, description: "Not signed in.", schema: ref("Error")),
        .init(status: 403, description: "Missing permission, or CSRF token missing.", schema: ref("Error")),
        .init(status: 404, description: "Not found, or another clinic's.", schema: ref("Error")),
        .init(status: 429, description: "Too many attempts; `Retry-After` says when to try again.", schema: ref("Error")),
    ]

    static let signUp = APIDoc(summary: "Sign up a clinic and its first owner (when sign-up is open)", tag: "clinics",
                               body: ref("SignUpRequest"),
                               answers: [.init(status: 201, description: "Created.", schema: ref("SignUpResponse")),
                                         .init(status: 409, description: "E-mail address already in use.", schema: ref("Error"))] + error)
    static let login = APIDoc(summary: "Sign in with e-mail and password", tag: "auth", body: ref("LoginRequest"),
                              answers: [.init(status: 200, description: "Signed in; the session cookie is set.", schema: ref("LoginResponse"))] + error)
    static let secondFactor = APIDoc(summary: "Second step of sign-in: a TOTP code or a recovery code", tag: "auth", body: ref("CodeRequest"),
                                     answers: [.init(status: 200, description: "Signed in; a new session cookie is set.", schema: ref("LoginResponse")),
                                               .init(status: 409, description: "This session has no second step pending (already signed in).", schema: ref("Error"))] + error)
    static let requestPasswordReset = APIDoc(summary: "E-mail a password-reset link (always 202, account or not)", tag: "auth",
                                             body: ["type": "object", "required": ["email"], "properties": ["email": string]],
                                             answers: [.init(status: 202, description: "Accepted.")] + error)
    static let completePasswordReset = APIDoc(summary: "Set a new password with a reset link's token; every session ends", tag: "auth",
                                              body: ["type": "object", "required": ["token", "newPassword"], "properties": ["token": string, "newPassword": string]],
                                              answers: [.init(status: 204, description: "Password set.")] + error)
    static let beginTOTP = APIDoc(summary: "Start setting up an authenticator app (needs your password)", tag: "me",
                                  body: ["type": "object", "required": ["password"], "properties": ["password": string]],
                                  answers: [.init(status: 201, description: "The secret, shown once.", schema: ref("TOTPEnrolment")),
                                            .init(status: 409, description: "Already set up.", schema: ref("Error"))] + error)
    static let confirmTOTP = APIDoc(summary: "Confirm the authenticator with a code; answers ten recovery codes, shown once", tag: "me",
                                    body: ref("CodeRequest"),
                                    answers: [.init(status: 200, description: "Recovery codes.", schema: ref("RecoveryCodes"))] + error)
    static let disableTOTP = APIDoc(summary: "Turn the authenticator off (needs your password)", tag: "me",
                                    body: ["type": "object", "required": ["password"], "properties": ["password": string]],
                                    answers: [.init(status: 204, description: "Turned off.")] + error)
    static let regenerateRecoveryCodes = APIDoc(summary: "Replace your recovery codes with ten new ones, shown once (needs your password)", tag: "me",
                                                body: ["type": "object", "required": ["password"], "properties": ["password": string]],
                                                answers: [.init(status: 200, description: "The new recovery codes; every earlier one stops working.",
                                                                schema: ref("RecoveryCodes")),
                                                          .init(status: 409, description: "No authenticator is set up.", schema: ref("Error"))] + error)
    static let revokeOtherSessions = APIDoc(summary: "End every session of yours but this one", tag: "me",
                                            answers: [.init(status: 200, description: "How many ended.",
                                                            schema: ["type": "object", "required": ["ended"], "properties": ["ended": ["type": "integer"]]])] + error)
    static let readSecurity = APIDoc(summary: "The clinic's sign-in policy", tag: "clinics",
                                     answers: [.init(status: 200, description: "The policy.", schema: ref("SecurityPolicy"))] + error)
    static let updateSecurity = APIDoc(summary: "Require MFA for roles; set the password minimum (below 12 only when every role needs MFA)", tag: "clinics",
                                       body: ref("SecurityPolicy"),
                                       answers: [.init(status: 200, description: "The policy.", schema: ref("SecurityPolicy"))] + error)
    static let listIntegrationSecrets = APIDoc(
        summary: "The clinic's stored third-party credentials: kind, label and date only, never the value (owners, admins)", tag: "clinics",
        answers: [.init(status: 200, description: "The credentials.", schema: ["type": "object", "properties": ["integrationSecrets": ["type": "array", "items": ref("IntegrationSecret")]]])] + error)
    static let storeIntegrationSecret = APIDoc(
        summary: "Store a third-party credential, sealed like patient data; replaces one of the same kind and label (owners)", tag: "clinics",
        body: ["type": "object", "required": ["kind", "label", "value"],
               "properties": ["kind": ["type": "string", "enum": .array(IntegrationSecretKind.allCases.map { .string($0.rawValue) })],
                              "label": ["type": "string", "maxLength": 100], "value": ["type": "string", "maxLength": 4096]]],
        answers: [.init(status: 201, description: "Stored; the value is not answered back.", schema: ref("IntegrationSecret"))] + error)
    static let deleteIntegrationSecret = APIDoc(summary: "Remove a stored credential (owners)", tag: "clinics",
                                                answers: [.init(status: 204, description: "Removed.")] + error)
    static let listAPITokens = APIDoc(
        summary: "The clinic's integration API tokens: label, roles, dates; never the token (owners, admins)", tag: "clinics",
        answers: [.init(status: 200, description: "The tokens.",
                        schema: ["type": "object", "required": ["apiTokens"], "properties": ["apiTokens": ["type": "array", "items": ref("APIToken")]]])] + error)
    static let issueAPIToken = APIDoc(
        summary: "Issue an API token for an integration (receptionist or bookkeeper roles only); the token is in this answer and never again (owners)",
        tag: "clinics",
        body: ["type": "object", "required": ["label", "roles"], "properties": [
            "label": ["type": "string", "maxLength": 100],
            "roles": ["type": "array", "items": ["type": "string", "enum": .array(APITokenRules.grantableRoles.sorted().map { .string($0.rawValue) })]],
            "expiresInDays": ["type": "integer", "minimum": 1, "maximum": 365]]],
        answers: [.init(status: 201, description: "Issued; send it as `Authorization: Bearer <token>`.", schema: ref("APIToken"))] + error)
    static let revokeAPIToken = APIDoc(summary: "Revoke an API token at once (owners)", tag: "clinics",
                                       answers: [.init(status: 204, description: "Revoked.")] + error)
    static let fileErrors: [APIDoc.Answer] = [
        .init(status: 413, description: "Larger than the server takes (`CLINICKEEP_MAX_UPLOAD_MB`).", schema: ref("Error")),
        .init(status: 415, description: "Not a kind of file ClinicKeep keeps (told from its content, not its name).", schema: ref("Error")),
        .init(status: 409, description: "The clinic's file storage is full (`storage_full`, `CLINICKEEP_CLINIC_STORAGE_QUOTA`).", schema: ref("Error")),
    ]
    static let fileBody: JSONValue = ["type": "string", "format": "binary"]
    static let listFiles = APIDoc(summary: "A patient's files, newest first, each with its versions", tag: "files",
                                  answers: [.init(status: 200, description: "The files.",
                                                  schema: ["type": "object", "required": ["files"], "properties": ["files": ["type": "array", "items": ref("StoredFile")]]])] + error)
    static let uploadFile = APIDoc(
        summary: "Upload a file for a patient (the raw bytes as the body, streamed and encrypted in chunks); its kind is told from its content",
        tag: "files", query: [.init(name: "name", description: "The file's name, shown to staff and offered on download")],
        body: fileBody, bodyMediaType: "application/octet-stream",
        answers: [.init(status: 201, description: "Stored as version 1.", schema: ref("StoredFile"))] + error + fileErrors)
    static let describeFile = APIDoc(summary: "One file and every version of it", tag: "files",
                                     answers: [.init(status: 200, description: "The file.", schema: ref("StoredFile"))] + error)
    static let uploadFileVersion = APIDoc(
        summary: "Upload a new version of a file; every earlier version is kept", tag: "files",
        body: fileBody, bodyMediaType: "application/octet-stream",
        answers: [.init(status: 201, description: "The file with its new version last.", schema: ref("StoredFile"))] + error + fileErrors)
    static let downloadFile = APIDoc(
        summary: "A file's content, streamed (the current version, or `version`); `Repr-Digest` carries its SHA-256", tag: "files",
        query: [.init(name: "version", description: "A version number (default: the current one)", schema: ["type": "integer", "minimum": 1])],
        answers: [.init(status: 200, description: "The file's bytes, as its kind.", schema: fileBody, mediaType: "application/octet-stream",
                        alsoAs: FileKind.allCases.map { String($0.mediaType.split(separator: ";")[0]) })] + error)
    static let deleteClinic = APIDoc(
        summary: "Delete the clinic: nobody signs in to it again and its keys are destroyed, so its data is unreadable everywhere, backups included (owners; re-authentication)",
        tag: "clinics",
        body: ["type": "object", "required": ["password", "confirmClinicId"],
               "properties": ["password": ["type": "string"], "confirmClinicId": ["type": "string", "format": "uuid"]]],
        answers: [.init(status: 204, description: "Deleted.")] + error)
    static let logout = APIDoc(summary: "Sign out", tag: "auth", answers: [.init(status: 204, description: "Signed out.")] + error)
    static let me = APIDoc(summary: "The signed-in person and their clinics", tag: "auth",
                           answers: [.init(status: 200, description: "You.", schema: ref("Me"))] + error)
    static let listPatients = APIDoc(
        summary: "List or search patients", tag: "patients",
        query: [.init(name: "q", description: "Name tokens, all of which must match whole words of the name"),
                .init(name: "phone", description: "Phone number, national (in the clinic's country) or E.164"),
                .init(name: "email", description: "E-mail address")] + APIDoc.paging(.records),
        answers: [.init(status: 200, description: "Patients.", schema: ref("PatientList"))] + error)
    static let createPatient = APIDoc(summary: "Create a patient", tag: "patients", body: ref("PatientInput"),
                                      answers: [.init(status: 201, description: "Created.", schema: ref("Patient"))] + error)
    static let readPatient = APIDoc(summary: "Read one patient", tag: "patients",
                                    answers: [.init(status: 200, description: "The patient.", schema: ref("Patient"))] + error)
    static let updatePatient = APIDoc(summary: "Change a patient (fields left out stay; empty clears)", tag: "patients", body: ref("PatientInput"),
                                      answers: [.init(status: 200, description: "The patient.", schema: ref("Patient"))] + error)
    static let deletePatient = APIDoc(summary: "Delete a patient (refused while clinical records or files name them)", tag: "patients",
                                      answers: [.init(status: 204, description: "Deleted."),
                                                .init(status: 409, description: "Records or files name this patient; they are kept.", schema: ref("Error"))] + error)
    static let audit = APIDoc(
        summary: "The clinic's audit ledger", tag: "audit",
        query: [.init(name: "patientId", description: "Events about this patient (read directly or shown in a list)", schema: ["type": "string", "format": "uuid"]),
                .init(name: "userId", description: "Events by this person", schema: ["type": "string", "format": "uuid"]),
                .init(name: "from", description: "From this time (ISO 8601)", schema: ["type": "string", "format": "date-time"]),
                .init(name: "to", description: "Up to this time (ISO 8601)", schema: ["type": "string", "format": "date-time"]),
                APIDoc.limit(.audit), format],
        answers: [.init(status: 200, description: "Events, oldest first (text/csv with format=csv).", schema: ref("AuditEventList"), alsoAs: ["text/csv"])] + error)

    static let signInFailures = APIDoc(
        summary: "Failed sign-ins of the clinic's members, by address", tag: "audit",
        query: [.init(name: "from", description: "From this time (ISO 8601)", schema: ["type": "string", "format": "date-time"]),
                .init(name: "to", description: "Up to this time (ISO 8601)", schema: ["type": "string", "format": "date-time"]),
                format],
        answers: [.init(status: 200, description: "Addresses, most failures first (text/csv with format=csv).", schema: ref("SignInFailureList"), alsoAs: ["text/csv"])] + error)

    private static let format = APIDoc.Query(name: "format", description: "json (default) or csv", schema: ["type": "string", "enum": ["json", "csv"]])

    static let listStaff = APIDoc(summary: "The clinic's members and open invitations", tag: "staff",
                                  answers: [.init(status: 200, description: "Staff.", schema: ref("StaffList"))] + error)
    static let invite = APIDoc(summary: "Invite a person with roles", tag: "staff", body: ref("InviteRequest"),
                               answers: [.init(status: 201, description: "The invitation; its token is shown once.", schema: ref("Invitation")),
                                         .init(status: 409, description: "Already a member.", schema: ref("Error"))] + error)
    static let changeRoles = APIDoc(summary: "Replace a member's roles", tag: "staff", body: ref("RolesRequest"),
                                    answers: [.init(status: 200, description: "The member.", schema: ref("Member")),
                                              .init(status: 409, description: "The last owner keeps the owner role.", schema: ref("Error"))] + error)
    static let removeMember = APIDoc(summary: "Remove a member", tag: "staff",
                                     answers: [.init(status: 204, description: "Removed."),
                                               .init(status: 409, description: "The last owner cannot be removed.", schema: ref("Error"))] + error)
    static let acceptInvitation = APIDoc(summary: "Accept an invitation: a new person chooses a password; an existing account accepts while signed in as it",
                                         tag: "staff", body: ref("AcceptRequest"),
                                         answers: [.init(status: 201, description: "Now a member.", schema: ref("Accepted")),
                                                   .init(status: 409, description: "The address already has an account: sign in with it, then accept (`sign_in_to_accept`).",
                                                         schema: ref("Error"))] + error)
    static let revokeInvitation = APIDoc(summary: "Revoke a pending invitation: its link stops working", tag: "staff",
                                         answers: [.init(status: 204, description: "Revoked.")] + error)
    static let listSessions = APIDoc(summary: "Your live sessions", tag: "me",
                                     answers: [.init(status: 200, description: "Sessions.", schema: ref("SessionList"))] + error)
    static let revokeSession = APIDoc(summary: "End one of your sessions", tag: "me", answers: [.init(status: 204, description: "Ended.")] + error)
    static let changePassword = APIDoc(summary: "Change your password; every other session of yours ends", tag: "me", body: ref("PasswordChange"),
                                       answers: [.init(status: 204, description: "Changed.")] + error)

    static let string: JSONValue = ["type": "string"]
    static let nullableString: JSONValue = ["type": ["string", "null"]]

    /// Every schema the routes refer to, from each area's descriptions.
    static var allSchemas: JSONValue {
        var pairs: [(String, JSONValue)] = []
        for case let .object(more) in [schemas, AppointmentDocs.schemas, ClinicalDocs.schemas, CatalogueDocs.schemas, InvoiceDocs.schemas] { pairs += more }
        return .object(pairs)
    }

    static let schemas: JSONValue = [
        "Error": ["type": "object", "required": ["error"], "properties": [
            "error": ["type": "object", "required": ["code", "message"], "properties": [
                "code": string, "message": string, "field": nullableString]]]],
        "SignUpRequest": ["type": "object", "required": ["name", "owner"], "properties": [
            "name": string, "country": ["type": "string", "description": "ISO 3166 code, default AU"],
            "owner": ["type": "object", "required": ["email", "name", "password"], "properties": [
                "email": ["type": "string", "format": "email"], "name": string,
                "password": ["type": "string", "minLength": 12, "maxLength": 128]]]]],
        "SignUpResponse": ["type": "object", "required": ["clinic", "user"], "properties": [
            "clinic": ["type": "object", "required": ["id", "name"], "properties": ["id": ["type": "string", "format": "uuid"], "name": string]],
            "user": ["type": "object", "required": ["id"], "properties": ["id": ["type": "string", "format": "uuid"]]]]],
        "LoginRequest": ["type": "object", "required": ["email", "password"], "properties": ["email": string, "password": string]],
        "LoginResponse": ["type": "object", "required": ["next", "csrfToken"], "properties": [
            "next": ["type": "string", "enum": ["done", "mfa"]], "csrfToken": string, "mfaEnrolmentRequired": ["type": "boolean"]]],
        "CodeRequest": ["type": "object", "required": ["code"], "properties": ["code": string]],
        "TOTPEnrolment": ["type": "object", "required": ["secret", "otpauthUrl"], "properties": ["secret": string, "otpauthUrl": string]],
        "RecoveryCodes": ["type": "object", "required": ["recoveryCodes"], "properties": [
            "recoveryCodes": ["type": "array", "minItems": 10, "maxItems": 10, "items": string]]],
        "IntegrationSecret": ["type": "object", "required": ["id", "kind", "label", "createdAt"], "properties": [
            "id": ["type": "string", "format": "uuid"], "kind": string, "label": string, "createdAt": ["type": "string", "format": "date-time"]]],
        "APIToken": ["type": "object", "required": ["id", "label", "roles", "createdBy", "createdAt", "expiresAt"], "properties": [
            "id": ["type": "string", "format": "uuid"], "label": string, "roles": ["type": "array", "items": ref("Role")],
            "createdBy": ["type": "string", "format": "uuid"], "createdAt": ["type": "string", "format": "date-time"],
            "expiresAt": ["type": "string", "format": "date-time"], "revokedAt": ["type": "string", "format": "date-time"],
            "lastUsedAt": ["type": "string", "format": "date-time"], "token": string]],
        "StoredFile": ["type": "object", "required": ["id", "patientId", "name", "createdAt", "versions"], "properties": [
            "id": ["type": "string", "format": "uuid"], "patientId": ["type": "string", "format": "uuid"], "name": string,
            "createdAt": ["type": "string", "format": "date-time"],
            "versions": ["type": "array", "items": ["type": "object", "required": ["version", "size", "mediaType", "sha256", "createdBy", "createdAt"], "properties": [
                "version": ["type": "integer"], "size": ["type": "integer"], "mediaType": string, "sha256": string,
                "createdBy": ["type": "string", "format": "uuid"], "createdAt": ["type": "string", "format": "date-time"]]]]]],
        "SecurityPolicy": ["type": "object", "properties": [
            "mfaRequiredRoles": ["type": "array", "items": ref("Role")],
            "passwordMinimumLength": ["type": "integer", "minimum": 8, "maximum": 128],
            "caseBasedAccess": ["type": "boolean"]]],
        "Me": ["type": "object", "required": ["user", "memberships", "mfa"], "properties": [
            "user": ["type": "object", "required": ["id", "email", "name"], "properties": ["id": string, "email": string, "name": string]],
            "memberships": ["type": "array", "items": ["type": "object", "required": ["clinicId", "clinicName", "roles"], "properties": [
                "clinicId": string, "clinicName": string,
                "roles": ["type": "array", "items": ["type": "string", "enum": ["owner", "admin", "practitioner", "receptionist", "bookkeeper"]]]]]],
            "mfa": ["type": "object", "required": ["totp", "passkeys"], "properties": ["totp": ["type": "boolean"], "passkeys": ["type": "integer"]]]]],
        "PatientInput": ["type": "object", "properties": [
            "givenName": string, "familyName": string, "birthDate": ["type": "string", "description": "YYYY-MM-DD"],
            "phone": string, "email": string, "address": string, "medicareNumber": string,
            "sex": ["type": "string", "description": "female, male, other or unknown; empty clears it"],
            "postcode": ["type": "string", "description": "4 digits in Australia and New Zealand; empty clears it"]]],
        "Patient": ["type": "object", "required": ["id", "givenName", "familyName", "createdAt", "updatedAt"], "properties": [
            "id": ["type": "string", "format": "uuid"], "givenName": string, "familyName": string,
            "birthDate": string, "phone": ["type": "string", "description": "E.164"], "email": string, "address": string,
            "medicareNumber": string, "sex": ["type": "string", "enum": ["female", "male", "other", "unknown"]], "postcode": string,
            "createdAt": ["type": "string", "format": "date-time"], "updatedAt": ["type": "string", "format": "date-time"]]],
        "PatientList": ["type": "object", "required": ["patients"], "properties": ["patients": ["type": "array", "items": ref("Patient")]]],
        "InviteRequest": ["type": "object", "required": ["email", "name", "roles"], "properties": [
            "email": string, "name": string, "roles": ["type": "array", "minItems": 1, "items": ref("Role")]]],
        "Role": ["type": "string", "enum": ["owner", "admin", "practitioner", "receptionist", "bookkeeper"]],
        "Invitation": ["type": "object", "required": ["id", "inviteToken", "expiresAt"], "properties": [
            "id": string, "inviteToken": string, "expiresAt": ["type": "string", "format": "date-time"]]],
        "RolesRequest": ["type": "object", "required": ["roles"], "properties": ["roles": ["type": "array", "minItems": 1, "items": ref("Role")]]],
        "Member": ["type": "object", "required": ["userId", "name", "email", "roles", "mfa"], "properties": [
            "userId": string, "name": string, "email": string, "roles": ["type": "array", "items": ref("Role")],
            "mfa": ["type": "object", "required": ["totp"], "properties": ["totp": ["type": "boolean"]]], "providerNumber": string]],
        "StaffList": ["type": "object", "required": ["staff", "invitations"], "properties": [
            "staff": ["type": "array", "items": ref("Member")],
            "invitations": ["type": "array", "items": ["type": "object", "required": ["id", "email", "roles", "expiresAt"], "properties": [
                "id": string, "email": string, "roles": ["type": "array", "items": ref("Role")], "expiresAt": string]]]]],
        "AcceptRequest": ["type": "object", "required": ["inviteToken"], "properties": [
            "inviteToken": string, "name": string, "password": string]],
        "Accepted": ["type": "object", "required": ["userId", "clinicId"], "properties": ["userId": string, "clinicId": string]],
        "SessionList": ["type": "object", "required": ["sessions"], "properties": ["sessions": ["type": "array", "items": [
            "type": "object", "required": ["id", "current", "createdAt", "lastSeenAt"], "properties": [
                "id": string, "current": ["type": "boolean"], "createdAt": string, "lastSeenAt": string,
                "address": string, "userAgent": string]]]]],
        "PasswordChange": ["type": "object", "required": ["currentPassword", "newPassword"], "properties": [
            "currentPassword": string, "newPassword": ["type": "string", "minLength": 12, "maxLength": 128]]],
        "AuditEventList": ["type": "object", "required": ["events"], "properties": ["events": ["type": "array", "items": [
            "type": "object", "required": ["sequence", "occurredAt", "action", "outcome"], "properties": [
                "sequence": ["type": "integer"], "occurredAt": ["type": "string", "format": "date-time"],
                "actorId": string, "action": string, "resourceType": string, "resourceId": string, "outcome": string,
                "address": string, "requestId": string, "detail": string]]]]],
        "SignInFailureList": ["type": "object", "required": ["addresses"], "properties": ["addresses": ["type": "array", "items": [
            "type": "object", "required": ["address", "failures", "accounts", "lastAt"], "properties": [
                "address": string, "failures": ["type": "integer"], "accounts": ["type": "integer"],
                "lastAt": ["type": "string", "format": "date-time"]]]]]],
    ]
}
