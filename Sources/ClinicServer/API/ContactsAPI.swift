import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/contacts`: referrers, insurers and suppliers; every field but the
/// kind is sealed, and every read is in the ledger.
enum ContactsAPI {
    static func register(_ api: any RoutesBuilder) {
        let contacts = api.grouped("clinics", ":clinicId", "contacts")
        contacts.inClinic(.GET, permission: (.contact, .read), doc: CatalogueDocs.listContacts, use: list)
        contacts.inClinic(.POST, permission: (.contact, .create), doc: CatalogueDocs.createContact, use: create)
        contacts.inClinic(.GET, ":contactId", permission: (.contact, .read), doc: CatalogueDocs.readContact, use: read)
        contacts.inClinic(.PATCH, ":contactId", permission: (.contact, .update), doc: CatalogueDocs.updateContact, use: update)
        contacts.inClinic(.DELETE, ":contactId", permission: (.contact, .delete), doc: CatalogueDocs.deleteContact, use: delete)
    }

    struct Contact: Content {
        let id: String
        let kind: String
        let name: String
        let organisation: String?
        let phone: String?
        let email: String?
        let providerNumber: String?
        let notes: String?
        let createdAt: String
        let updatedAt: String

        init(_ record: ContactRecord) {
            id = record.id.description
            kind = record.details.kind.rawValue
            name = record.details.name
            organisation = record.details.organisation
            phone = record.details.phone?.e164
            email = record.details.email?.value
            providerNumber = record.details.providerNumber?.value
            notes = record.details.notes
            createdAt = Timestamp.string(record.createdAt)
            updatedAt = Timestamp.string(record.updatedAt)
        }
    }

    struct ContactList: Content { let contacts: [Contact] }

    static func list(_ request: Request, scope: ClinicScope) async throws -> ContactList {
        var filter = ContactFilter()
        if let kind = try request.queryText("kind", maximum: 20) {
            guard let parsed = ContactKind(rawValue: kind) else {
                throw ClinicError.invalid("kind", "Use one of: " + ContactKind.allCases.map(\.rawValue).joined(separator: ", ") + ".")
            }
            filter.kind = parsed
        }
        filter.paging = try request.paging(.registers)
        return ContactList(contacts: try await ContactBook(scope: scope, services: request.services).list(filter).map(Contact.init))
    }

    static func create(_ request: Request, scope: ClinicScope) async throws -> Response {
        let details = try request.decodeBody(ContactSubmission.self).validatedForCreation(country: scope.country)
        return try AppointmentsAPI.created(Contact(try await ContactBook(scope: scope, services: request.services).create(details)))
    }

    static func read(_ request: Request, scope: ClinicScope) async throws -> Contact {
        Contact(try await ContactBook(scope: scope, services: request.services).find(try request.pathID("contactId")))
    }

    static func update(_ request: Request, scope: ClinicScope) async throws -> Contact {
        let id: ContactID = try request.pathID("contactId")
        let submission = try request.decodeBody(ContactSubmission.self)
        return Contact(try await ContactBook(scope: scope, services: request.services).update(id, with: submission))
    }

    static func delete(_ request: Request, scope: ClinicScope) async throws -> HTTPStatus {
        try await ContactBook(scope: scope, services: request.services).delete(try request.pathID("contactId"))
        return .noContent
    }
}
