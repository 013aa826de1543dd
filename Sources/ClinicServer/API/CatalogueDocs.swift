/// OpenAPI descriptions of contacts and products.
enum CatalogueDocs {
    static let ref = OpenAPIDocs.ref
    static let error = OpenAPIDocs.error
    static let string = OpenAPIDocs.string
    static let uuid = AppointmentDocs.uuid
    static let time = AppointmentDocs.time
    static let listContacts = APIDoc(summary: "Contacts, newest first (each one shown is in the audit ledger)", tag: "contacts",
                                     query: [.init(name: "kind", description: "Only this kind", schema: ref("ContactKind"))] + APIDoc.paging(.registers),
                                     answers: [.init(status: 200, description: "Contacts.", schema: ref("ContactList"))] + error)
    static let createContact = APIDoc(summary: "Add a contact", tag: "contacts", body: ref("ContactCreate"),
                                      answers: [.init(status: 201, description: "Created.", schema: ref("Contact"))] + error)
    static let readContact = APIDoc(summary: "Read one contact", tag: "contacts",
                                    answers: [.init(status: 200, description: "The contact.", schema: ref("Contact"))] + error)
    static let updateContact = APIDoc(summary: "Change a contact (fields left out stay; empty clears)", tag: "contacts", body: ref("ContactInput"),
                                      answers: [.init(status: 200, description: "The contact.", schema: ref("Contact"))] + error)
    static let deleteContact = APIDoc(summary: "Remove a contact", tag: "contacts",
                                      answers: [.init(status: 204, description: "Removed.")] + error)

    static let listProducts = APIDoc(summary: "Products, by name", tag: "products",
                                     query: [.init(name: "includeInactive", description: "`true` to include retired products",
                                                   schema: ["type": "string", "enum": ["true", "false"]])] + APIDoc.paging(.diary),
                                     answers: [.init(status: 200, description: "Products.", schema: ref("ProductList"))] + error)
    static let createProduct = APIDoc(summary: "Add a product (stock starts at 0)", tag: "products", body: ref("ProductCreate"),
                                      answers: [.init(status: 201, description: "Created.", schema: ref("Product"))] + error)
    static let readProduct = APIDoc(summary: "Read one product", tag: "products",
                                    answers: [.init(status: 200, description: "The product.", schema: ref("Product"))] + error)
    static let updateProduct = APIDoc(summary: "Change a product (what is left out stays; stock moves only by counted changes)", tag: "products",
                                      body: ref("ProductInput"),
                                      answers: [.init(status: 200, description: "The product.", schema: ref("Product"))] + error)
    static let changeStock = APIDoc(
        summary: "A counted change to the stock: received (+), sold, used, written off (-), or a count's correction", tag: "products",
        body: ["type": "object", "required": ["change", "reason"], "properties": [
            "change": ["type": "integer", "minimum": -1_000_000, "maximum": 1_000_000, "not": ["const": 0]],
            "reason": ["type": "string", "enum": ["received", "sold", "used", "written_off", "counted"]]]],
        answers: [.init(status: 200, description: "The product with its new stock.", schema: ref("Product")),
                  .init(status: 409, description: "Not that much in stock (`stock_insufficient`), or over 1,000,000 units (`stock_limit`); nothing changed.",
                        schema: ref("Error"))] + error)

    /// A change sends any of these; a new record needs the `required` ones of its Create schema.
    static let contactFields: JSONValue = [
        "kind": ref("ContactKind"), "name": ["type": "string", "maxLength": 200], "organisation": ["type": "string", "maxLength": 200],
        "phone": string, "email": string, "providerNumber": ["type": "string", "maxLength": 40],
        "notes": ["type": "string", "maxLength": 2000]]
    static let productFields: JSONValue = [
        "name": ["type": "string", "maxLength": 200], "sku": ["type": "string", "maxLength": 64],
        "priceCents": ["type": "integer", "minimum": 0, "maximum": 100_000_000], "gstApplies": ["type": "boolean"], "active": ["type": "boolean"]]

    static let schemas: JSONValue = [
        "ContactKind": ["type": "string", "enum": ["referrer", "insurer", "supplier", "other"]],
        "ContactInput": ["type": "object", "properties": contactFields],
        "ContactCreate": ["type": "object", "required": ["kind", "name"], "properties": contactFields],
        "Contact": ["type": "object", "required": ["id", "kind", "name", "createdAt", "updatedAt"], "properties": [
            "id": uuid, "kind": ref("ContactKind"), "name": string, "organisation": string, "phone": string, "email": string,
            "providerNumber": string, "notes": string, "createdAt": time, "updatedAt": time]],
        "ContactList": ["type": "object", "required": ["contacts"], "properties": ["contacts": ["type": "array", "items": ref("Contact")]]],
        "ProductInput": ["type": "object", "properties": productFields],
        "ProductCreate": ["type": "object", "required": ["name", "priceCents"], "properties": productFields],
        "Product": ["type": "object", "required": ["id", "name", "priceCents", "gstApplies", "stock", "active", "createdAt", "updatedAt"], "properties": [
            "id": uuid, "name": string, "sku": string, "priceCents": ["type": "integer"], "gstApplies": ["type": "boolean"],
            "stock": ["type": "integer", "minimum": 0], "active": ["type": "boolean"], "createdAt": time, "updatedAt": time]],
        "ProductList": ["type": "object", "required": ["products"], "properties": ["products": ["type": "array", "items": ref("Product")]]],
    ]
}
