import ClinicDomain
import Keyring
import Vapor

/// The one place an error becomes a response, in the API's error shape
/// `{"error": {"code", "message", "field"}}`. Bad input is a 4xx naming the field; only a
/// fault of ours is a 500, and its details go to the log (redacted), never to the client.
struct ErrorResponseMiddleware: AsyncMiddleware {
    struct Body: Content {
        struct Detail: Content {
            let code: String
            let message: String
            let field: String?
        }
        let error: Detail
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            return Self.response(for: error, request: request)
        }
    }

    static func describe(_ error: any Error) -> (status: HTTPResponseStatus, detail: Body.Detail, headers: HTTPHeaders) {
        switch error {
        case let error as ClinicError:
            var headers = HTTPHeaders()
            if let seconds = error.retryAfter { headers.replaceOrAdd(name: .retryAfter, value: String(seconds)) }
            return (HTTPResponseStatus(statusCode: error.status), .init(code: error.code.rawValue, message: error.message, field: error.field), headers)
        case is ConnectionPoolTimeoutError:
            // Every database connection stayed busy for the pool's whole wait: a load problem
            // the client can retry, not a fault in the request.
            return (.serviceUnavailable, .init(code: "busy", message: "The server is busy; try again in a few seconds.", field: nil),
                    [HTTPHeaders.Name.retryAfter.description: "5"])
        case KeyringError.realmKeysDestroyed:
            // Only a copy of the database from before a clinic's deletion still lets a request
            // this far; its data is gone for good.
            return (.gone, .init(code: "clinic_deleted", message: "This clinic was deleted; its data can no longer be read.", field: nil), [:])
        case let error as DecodingError:
            let (field, message) = decodingProblem(error)
            return (.badRequest, .init(code: "invalid_body", message: message, field: field), [:])
        case let error as any AbortError:
            let code: String
            switch error.status {
            case .notFound: code = "not_found"
            case .methodNotAllowed: code = "method_not_allowed"
            case .payloadTooLarge: code = "body_too_large"
            case .unsupportedMediaType: code = "unsupported_media_type"
            case .unauthorized: code = "not_signed_in"
            case .forbidden: code = "forbidden"
            case .tooManyRequests: code = "too_many_requests"
            default: code = error.status.code < 500 ? "bad_request" : "internal"
            }
            let message = error.status == .notFound ? "Not found." : error.reason
            return (error.status, .init(code: code, message: message, field: nil), error.headers)
        default:
            return (.internalServerError, .init(code: "internal", message: "Something went wrong on our side; it has been logged.", field: nil), [:])
        }
    }

    static func response(for error: any Error, request: Request) -> Response {
        let (status, detail, extraHeaders) = describe(error)
        if status.code >= 500 {
            // The type and code only: an error's description can carry values from the request.
            request.logger.error("request failed", metadata: ["error_type": .string(String(reflecting: type(of: error))),
                                                              "status": .stringConvertible(status.code)])
        }
        var headers = extraHeaders
        headers.contentType = .json
        let response = Response(status: status, headers: headers)
        do {
            try response.content.encode(Body(error: detail), as: .json)
        } catch {
            response.body = .init(string: #"{"error":{"code":"internal","message":"error"}}"#)
        }
        return response
    }

    private static func decodingProblem(_ error: DecodingError) -> (field: String?, message: String) {
        func path(_ context: DecodingError.Context, appending key: (any CodingKey)? = nil) -> String? {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            let joined = keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return joined.isEmpty ? nil : joined
        }
        switch error {
        case let .keyNotFound(key, context):
            return (path(context, appending: key), "This field is required.")
        case let .typeMismatch(type, context):
            return (path(context), "This field must be \(describe(type)).")
        case let .valueNotFound(type, context):
            return (path(context), "This field must be \(describe(type)), not null.")
        case let .dataCorrupted(context):
            return (path(context), context.codingPath.isEmpty ? "The body is not valid JSON." : "This field has an invalid value.")
        @unknown default:
            return (nil, "The body could not be read.")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "a whole number"
        case is Bool.Type: return "true or false"
        case is [Any].Type: return "an array"
        case is [String: Any].Type: return "an object"
        default: return "a \(type)"
        }
    }
}
