import ClinicDomain
import Foundation
import Vapor

/// A patient's files: `/api/v1/clinics/{clinicId}/patients/{patientId}/files` and
/// `/api/v1/clinics/{clinicId}/files/{fileId}`. Uploads are the raw bytes as the request body,
/// taken as they arrive; downloads are sent chunk by chunk as they are opened.
enum FilesAPI {
    static func register(_ api: any RoutesBuilder) {
        let clinic = api.grouped("clinics", ":clinicId")
        clinic.inClinic(.GET, "patients", ":patientId", "files", permission: (.document, .read), doc: OpenAPIDocs.listFiles, use: list)
        clinic.inClinic(.POST, "patients", ":patientId", "files", permission: (.document, .create), doc: OpenAPIDocs.uploadFile,
                        body: .stream, use: upload)
        clinic.inClinic(.GET, "files", ":fileId", permission: (.document, .read), doc: OpenAPIDocs.describeFile, use: describe)
        clinic.inClinic(.POST, "files", ":fileId", "versions", permission: (.document, .update), doc: OpenAPIDocs.uploadFileVersion,
                        body: .stream, use: uploadVersion)
        clinic.inClinic(.GET, "files", ":fileId", "content", permission: (.document, .read), doc: OpenAPIDocs.downloadFile, use: download)
    }

    struct Version: Content {
        let version: Int64
        let size: Int64
        let mediaType: String
        let sha256: String
        let createdBy: String
        let createdAt: String
    }

    struct File: Content {
        let id: String
        let patientId: String
        let name: String
        let createdAt: String
        let versions: [Version]

        init(_ file: StoredFile) {
            id = file.id.uuidString.lowercased()
            patientId = file.patient.description
            name = file.name
            createdAt = Timestamp.string(file.createdAt)
            versions = file.versions.map {
                Version(version: $0.version, size: $0.size, mediaType: $0.kind.mediaType, sha256: $0.sha256,
                        createdBy: $0.createdBy.uuidString.lowercased(), createdAt: Timestamp.string($0.createdAt))
            }
        }
    }

    struct FileList: Content { let files: [File] }

    static func list(_ request: Request, scope: ClinicScope) async throws -> FileList {
        FileList(files: try await PatientFiles(scope: scope, services: request.services).list(patient: patientID(request)).map(File.init))
    }

    static func upload(_ request: Request, scope: ClinicScope) async throws -> Response {
        try refuseDeclaredOversize(request)
        let file = try await PatientFiles(scope: scope, services: request.services)
            .create(patient: patientID(request), name: request.query[String.self, at: "name"], body: request.body)
        return try created(file)
    }

    static func uploadVersion(_ request: Request, scope: ClinicScope) async throws -> Response {
        try refuseDeclaredOversize(request)
        let file = try await PatientFiles(scope: scope, services: request.services).addVersion(to: fileID(request), body: request.body)
        return try created(file)
    }

    static func describe(_ request: Request, scope: ClinicScope) async throws -> File {
        File(try await PatientFiles(scope: scope, services: request.services).describe(fileID(request)))
    }

    static func download(_ request: Request, scope: ClinicScope) async throws -> Response {
        var number: Int64?
        if let text = request.query[String.self, at: "version"] {
            guard let value = Int64(text), value >= 1 else { throw ClinicError.invalid("version", "A version is a whole number from 1.") }
            number = value
        }
        let files = PatientFiles(scope: scope, services: request.services)
        let download = try await files.download(fileID(request), version: number)
        let folder = files.folder, clinic = scope.realm, version = download.version, key = download.key, logger = request.logger
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: version.kind.mediaType)
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename*=UTF-8''" + percentEncoded(FileName.forDownload(download.file.name, kind: version.kind)))
        headers.replaceOrAdd(name: "Repr-Digest", value: "sha-256=:\(Data(hex: version.sha256)?.base64EncodedString() ?? ""):")
        let body = Response.Body(managedAsyncStream: { writer in
            do {
                try await folder.read(clinic: clinic, version: version.id, key: key, size: version.size) { try await writer.writeBuffer($0) }
            } catch {
                // The status is already sent: the connection is cut short, and the failure is named without the file's name.
                logger.error("file content failed its integrity check", metadata: ["file": "\(download.file.id)", "version": "\(version.version)",
                                                                                 "error": "\(type(of: error))"])
                throw error
            }
        }, count: Int(version.size))
        return Response(status: .ok, headers: headers, body: body)
    }

    // MARK: - Helpers

    /// A body that says up front it is too large is refused before a byte is read; one that
    /// does not say, or says less than it sends, is cut off when it passes the limit.
    static func refuseDeclaredOversize(_ request: Request) throws {
        let limit = request.services.settings.maximumUploadBytes
        if let declared = request.headers.first(name: .contentLength).flatMap(Int64.init), declared > limit {
            throw FileRefusal.tooLarge(limit).clinicError
        }
    }

    static func created(_ file: StoredFile) throws -> Response {
        let response = Response(status: .created)
        try response.content.encode(File(file))
        return response
    }

    static func patientID(_ request: Request) throws -> PatientID {
        let id = try request.pathID("patientId", as: PatientID.self)
        return id
    }

    static func fileID(_ request: Request) throws -> UUID {
        let id = try request.pathUUID("fileId")
        return id
    }

    /// RFC 8187 encoding for `filename*`: everything but unreserved characters percent-encoded,
    /// so no name can break out of the header.
    static func percentEncoded(_ name: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return name.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "file"
    }
}

extension Data {
    /// Bytes from lowercase or uppercase hex; nil for anything else.
    init?(hex: String) {
        guard hex.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
