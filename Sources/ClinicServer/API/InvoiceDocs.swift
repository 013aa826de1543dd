/// OpenAPI descriptions of invoices and payments.
enum InvoiceDocs {
    static let ref = OpenAPIDocs.ref
    static let error = OpenAPIDocs.error
    static let string = OpenAPIDocs.string
    static let uuid = AppointmentDocs.uuid
    static let time = AppointmentDocs.time
    static let cents: JSONValue = ["type": "integer", "minimum": 0]

    static let locked = APIDoc.Answer(status: 409, description: "The invoice is no longer a draft (`invoice_locked`).", schema: ref("Error"))

    static let list = APIDoc(summary: "Invoices, newest first (the patients they name are in the audit ledger)", tag: "invoices",
                             query: [.init(name: "patientId", description: "Only this patient's", schema: uuid),
                                     .init(name: "status", description: "Only in this status", schema: ref("InvoiceStatus"))] + APIDoc.paging(.registers),
                             answers: [.init(status: 200, description: "Invoices.", schema: ref("InvoiceList"))] + error)
    static let create = APIDoc(summary: "Write a draft invoice: lines from appointment types, products, or your own", tag: "invoices",
                               body: ref("InvoiceCreate"),
                               answers: [.init(status: 201, description: "The draft.", schema: ref("Invoice"))] + error)
    static let read = APIDoc(summary: "Read one invoice with its payments", tag: "invoices",
                             answers: [.init(status: 200, description: "The invoice.", schema: ref("Invoice"))] + error)
    static let update = APIDoc(summary: "Change a draft (what is left out stays; an empty id or notes clears it)", tag: "invoices",
                               body: ref("InvoiceInput"),
                               answers: [.init(status: 200, description: "The draft.", schema: ref("Invoice")), locked] + error)
    static let issue = APIDoc(summary: "Issue a draft: it takes the clinic's next number and never changes again", tag: "invoices",
                              answers: [.init(status: 200, description: "The issued invoice (paid at once when its total is 0).", schema: ref("Invoice")),
                                        locked] + error)
    static let void = APIDoc(summary: "Void a draft or an unpaid issued invoice; it is kept with its number", tag: "invoices",
                             body: ["type": "object", "required": ["reason"], "properties": ["reason": ["type": "string", "minLength": 1, "maxLength": 500]]],
                             answers: [.init(status: 200, description: "The void invoice.", schema: ref("Invoice")),
                                       .init(status: 409, description: "Paid in part or in full (`invoice_has_payments`), or already void or paid (`invoice_locked`).",
                                             schema: ref("Error"))] + error)
    static let pay = APIDoc(summary: "Record a payment; the one that settles the balance marks the invoice paid", tag: "invoices",
                            body: ["type": "object", "required": ["amountCents", "method"], "properties": [
                                "amountCents": ["type": "integer", "minimum": 1, "maximum": 100_000_000],
                                "method": ["type": "string", "enum": ["cash", "card", "eftpos", "transfer", "medicare", "insurer"]],
                                "reference": ["type": "string", "maxLength": 100]]],
                            answers: [.init(status: 201, description: "The invoice with the payment.", schema: ref("Invoice")),
                                      .init(status: 409, description: "Not issued or already paid (`invoice_not_issued`), or more than is owed (`payment_exceeds_balance`).",
                                            schema: ref("Error"))] + error)

    static let setProviderNumber = APIDoc(
        summary: "Set a practitioner's Medicare provider number at this clinic (empty clears it); invoices issued afterwards carry it", tag: "staff",
        body: ["type": "object", "properties": ["providerNumber": ["type": "string", "maxLength": 40]]],
        answers: [.init(status: 204, description: "Set.")] + error)

    static let lineInput: JSONValue = ["type": "object", "properties": [
        "appointmentTypeId": uuid, "productId": uuid, "description": ["type": "string", "maxLength": 200],
        "quantity": ["type": "integer", "minimum": 1, "maximum": 1000], "unitCents": ["type": "integer", "minimum": 0, "maximum": 100_000_000],
        "gstApplies": ["type": "boolean"]]]
    static let inputFields: JSONValue = [
        "patientId": uuid, "practitionerId": string, "appointmentId": string, "notes": ["type": "string", "maxLength": 2000],
        "lines": ["type": "array", "minItems": 1, "maxItems": 50, "items": lineInput]]

    static let schemas: JSONValue = [
        "InvoiceStatus": ["type": "string", "enum": ["draft", "issued", "paid", "void"]],
        "InvoiceInput": ["type": "object", "properties": inputFields],
        "InvoiceCreate": ["type": "object", "required": ["patientId", "lines"], "properties": inputFields],
        "InvoiceLine": ["type": "object", "required": ["description", "quantity", "unitCents", "totalCents", "gstCents", "gstApplies"], "properties": [
            "description": string, "quantity": ["type": "integer"], "unitCents": cents, "totalCents": cents, "gstCents": cents,
            "gstApplies": ["type": "boolean"], "appointmentTypeId": uuid, "productId": uuid]],
        "Payment": ["type": "object", "required": ["id", "amountCents", "method", "recordedBy", "receivedAt"], "properties": [
            "id": uuid, "amountCents": cents, "method": string, "reference": string, "recordedBy": uuid, "receivedAt": time]],
        "Invoice": ["type": "object",
                    "required": ["id", "status", "patientId", "lines", "totalCents", "gstCents", "paidCents", "balanceCents", "createdAt", "updatedAt", "payments"],
                    "properties": [
                        "id": uuid, "number": ["type": "integer", "minimum": 1], "status": ref("InvoiceStatus"), "patientId": uuid,
                        "practitionerId": uuid, "appointmentId": uuid, "providerNumber": string,
                        "lines": ["type": "array", "items": ref("InvoiceLine")], "totalCents": cents, "gstCents": cents, "paidCents": cents,
                        "balanceCents": cents, "notes": string, "voidReason": string, "issuedAt": time, "createdAt": time, "updatedAt": time,
                        "payments": ["type": "array", "items": ref("Payment")]]],
        "InvoiceList": ["type": "object", "required": ["invoices"], "properties": ["invoices": ["type": "array", "items": ref("Invoice")]]],
    ]
}
