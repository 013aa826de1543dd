import ClinicDomain
import Foundation
import Vapor

/// `GET /api/v1/clinics/{clinicId}/kpis?from=YYYY-MM-DD&to=YYYY-MM-DD&practitionerId=`: the
/// practice's figures for a period in the clinic's time zone (`to` not included). A part a role
/// may not see is absent from the answer, not zeroed.
enum KPIsAPI {
    static func register(_ api: any RoutesBuilder) {
        api.grouped("clinics", ":clinicId", "kpis").inClinic(.GET, permission: (.report, .read), doc: doc, use: read)
        let settings = api.grouped("clinics", ":clinicId", "settings", "reports")
        settings.inClinic(.GET, permission: (.clinicSettings, .read), doc: readVisibilityDoc, use: readVisibility)
        settings.inClinic(.PUT, permission: (.clinicSettings, .update), doc: updateVisibilityDoc, use: updateVisibility)
    }

    /// `GET, PUT /api/v1/clinics/{clinicId}/settings/reports`: what owners open beyond the
    /// standard parts (owners change it; admins read it).
    struct Visibility: Content {
        let practitionersSeeOwnRevenue: Bool?
        let adminsSeeRevenue: Bool?

        init(_ visibility: ReportVisibility) {
            practitionersSeeOwnRevenue = visibility.practitionersSeeOwnRevenue
            adminsSeeRevenue = visibility.adminsSeeRevenue
        }
    }

    static func readVisibility(_ request: Request, scope: ClinicScope) async throws -> Visibility {
        Visibility(try await ReportSettings.read(scope: scope, services: request.services))
    }

    static func updateVisibility(_ request: Request, scope: ClinicScope) async throws -> Visibility {
        let body = try request.decodeBody(Visibility.self)
        return Visibility(try await ReportSettings.update(scope: scope, services: request.services,
                                                          practitionersSeeOwnRevenue: body.practitionersSeeOwnRevenue,
                                                          adminsSeeRevenue: body.adminsSeeRevenue))
    }

    static let visibilitySchema: JSONValue = [
        "type": "object", "required": ["practitionersSeeOwnRevenue", "adminsSeeRevenue"],
        "properties": ["practitionersSeeOwnRevenue": ["type": "boolean"], "adminsSeeRevenue": ["type": "boolean"]],
    ]
    static let readVisibilityDoc = APIDoc(
        summary: "Who sees money in the practice's figures beyond owners and bookkeepers (owners, admins)", tag: "clinics",
        answers: [.init(status: 200, description: "The switches.", schema: visibilitySchema)] + OpenAPIDocs.error)
    static let updateVisibilityDoc = APIDoc(
        summary: "Let practitioners see the revenue of their own invoices, or admins all revenue; a switch left out stays (owners)",
        tag: "clinics", body: visibilitySchema.droppingRequired,
        answers: [.init(status: 200, description: "The switches.", schema: visibilitySchema)] + OpenAPIDocs.error)

    struct Period: Content { let from, to, timeZone: String }

    struct Appointments: Content {
        let booked, attended, cancelled, lateCancelled, noShow: Int
        let noShowRate: Double
    }

    struct Utilisation: Content {
        let practitionerId: String
        let bookedMinutes, workingMinutes: Int
    }

    struct Patients: Content { let new, returning, seen: Int }

    struct Amount: Content {
        let id: String?
        let cents: Int
    }

    struct Revenue: Content {
        let invoicedCents, collectedCents, gstCents, outstandingCents: Int
        let byPractitioner: [Amount]
        let byAppointmentType: [Amount]
        let byProduct: [Amount]
    }

    struct OutstandingByAge: Content {
        let upTo30: Int, upTo60: Int, upTo90: Int, over90: Int

        enum CodingKeys: String, CodingKey {
            case upTo30 = "0-30", upTo60 = "31-60", upTo90 = "61-90", over90 = "90+"
        }
    }

    struct Report: Content {
        let period: Period
        let appointments: Appointments?
        let utilisation: [Utilisation]?
        let patients: Patients?
        let revenue: Revenue?
        let outstandingByAge: OutstandingByAge?
        let lowStock: [LowStock]?
        let topFormulas: [TopFormula]?
    }

    struct TopFormula: Content {
        let formulaId: String
        let name: String
        let count: Int
    }

    struct LowStock: Content {
        let productId: String
        let name: String
        let stock: Int
    }

    static func read(_ request: Request, scope: ClinicScope) async throws -> Report {
        let period = try ReportPeriod(from: try request.queryText("from", maximum: 10), to: try request.queryText("to", maximum: 10),
                                      timeZone: scope.timeZone)
        let practitioner: UserID? = try request.queryID("practitionerId")
        let threshold = try request.queryInt("lowStockBelow", default: PracticeReport.defaultLowStock, range: 1...100_000)
        let figures = try await PracticeReport(scope: scope, services: request.services)
            .figures(for: period, practitioner: practitioner, lowStockBelow: threshold)
        return Report(
            period: Period(from: period.from, to: period.to, timeZone: period.timeZone.identifier),
            appointments: figures.appointments.map {
                Appointments(booked: $0.booked, attended: $0.attended, cancelled: $0.cancelled, lateCancelled: $0.lateCancelled,
                             noShow: $0.noShow, noShowRate: $0.noShowRate)
            },
            utilisation: figures.utilisation?.map {
                Utilisation(practitionerId: $0.practitioner.description, bookedMinutes: $0.bookedMinutes, workingMinutes: $0.workingMinutes)
            },
            patients: figures.patients.map { Patients(new: $0.new, returning: $0.returning, seen: $0.seen) },
            revenue: figures.revenue.map {
                Revenue(invoicedCents: $0.invoicedCents, collectedCents: $0.collectedCents, gstCents: $0.gstCents,
                        outstandingCents: $0.outstandingCents,
                        byPractitioner: $0.byPractitioner.map { Amount(id: $0.practitioner?.description, cents: $0.cents) },
                        byAppointmentType: $0.byAppointmentType.map { Amount(id: $0.type?.description, cents: $0.cents) },
                        byProduct: $0.byProduct.map { Amount(id: $0.product.description, cents: $0.cents) })
            },
            outstandingByAge: figures.revenue.map {
                OutstandingByAge(upTo30: $0.outstandingByAge.upTo30, upTo60: $0.outstandingByAge.upTo60, upTo90: $0.outstandingByAge.upTo90,
                                 over90: $0.outstandingByAge.over90)
            },
            lowStock: figures.lowStock?.map { LowStock(productId: $0.product.description, name: $0.name, stock: $0.stock) },
            topFormulas: figures.topFormulas?.map { TopFormula(formulaId: $0.formula.description, name: $0.name, count: $0.count) })
    }

    static let count: JSONValue = ["type": "integer", "minimum": 0]
    static let amounts: JSONValue = ["type": "array", "items": ["type": "object", "required": ["cents"],
                                                                "properties": ["id": AppointmentDocs.uuid, "cents": count]]]
    static let report: JSONValue = [
        "type": "object", "required": ["period"],
        "properties": [
            "period": ["type": "object", "required": ["from", "to", "timeZone"],
                       "properties": ["from": ["type": "string", "format": "date"], "to": ["type": "string", "format": "date"],
                                      "timeZone": ["type": "string"]]],
            "appointments": ["type": "object", "required": ["booked", "attended", "cancelled", "lateCancelled", "noShow", "noShowRate"],
                             "properties": ["booked": count, "attended": count, "cancelled": count, "lateCancelled": count, "noShow": count,
                                            "noShowRate": ["type": "number", "minimum": 0, "maximum": 1]]],
            "utilisation": ["type": "array", "items": ["type": "object", "required": ["practitionerId", "bookedMinutes", "workingMinutes"],
                                                       "properties": ["practitionerId": AppointmentDocs.uuid, "bookedMinutes": count,
                                                                      "workingMinutes": count]]],
            "patients": ["type": "object", "required": ["new", "returning", "seen"],
                         "properties": ["new": count, "returning": count, "seen": count]],
            "revenue": ["type": "object",
                        "required": ["invoicedCents", "collectedCents", "gstCents", "outstandingCents", "byPractitioner", "byAppointmentType",
                                     "byProduct"],
                        "properties": ["invoicedCents": count, "collectedCents": count, "gstCents": count, "outstandingCents": count,
                                       "byPractitioner": amounts, "byAppointmentType": amounts, "byProduct": amounts]],
            "outstandingByAge": ["type": "object", "required": ["0-30", "31-60", "61-90", "90+"],
                                 "properties": ["0-30": count, "31-60": count, "61-90": count, "90+": count]],
            "lowStock": ["type": "array", "items": ["type": "object", "required": ["productId", "name", "stock"],
                                                    "properties": ["productId": AppointmentDocs.uuid, "name": ["type": "string"], "stock": count]]],
            "topFormulas": ["type": "array", "maxItems": 10,
                            "items": ["type": "object", "required": ["formulaId", "name", "count"],
                                      "properties": ["formulaId": AppointmentDocs.uuid, "name": ["type": "string"], "count": count]]],
        ],
    ]
    static let doc = APIDoc(
        summary: "The practice's figures for a period (days in the clinic's time zone, `to` not included); each role gets the parts it may see",
        tag: "clinics",
        query: [.init(name: "from", description: "The first day (YYYY-MM-DD), required", schema: ["type": "string", "format": "date"]),
                .init(name: "to", description: "The day after the last (YYYY-MM-DD), required; at most 366 days after from",
                      schema: ["type": "string", "format": "date"]),
                .init(name: "practitionerId", description: "One practitioner's figures", schema: AppointmentDocs.uuid),
                .init(name: "lowStockBelow", description: "Products with fewer than this in stock are listed (default 5)",
                      schema: ["type": "integer", "minimum": 1, "maximum": 100_000])],
        answers: [.init(status: 200, description: "The figures.", schema: report)] + OpenAPIDocs.error)
}
