import ClinicDomain
import Foundation
import Vapor

/// The operator's SMS provider, from `CLINICKEEP_SMS_PROVIDER=twilio` and its settings.
struct SMSSettings: Sendable, Equatable {
    let accountSID: String
    let authToken: String
    let from: String
    /// `https://api.twilio.com` unless pointed elsewhere (http only to this machine).
    let baseURL: String
}

/// What a send to the provider came to.
enum SMSOutcome: Sendable, Equatable {
    case sent
    /// The provider refused this message for good (a bad number: 4xx); trying again is useless.
    case refused(String)
    /// The provider or the way to it failed (5xx, timeout); try again later.
    case failed(String)
}

/// Sends SMS and WhatsApp messages through Twilio's Messages resource: one form-encoded POST to
/// `/2010-04-01/Accounts/{sid}/Messages.json`, Basic auth, `To`, `From` and `Body`; WhatsApp is
/// the same call with `whatsapp:` before both numbers. Written here: no Twilio package is among
/// those this project may use, and the call is one request.
struct TwilioSMS: Sendable {
    let settings: SMSSettings
    let client: any Client

    func send(to e164: String, body: String, whatsapp: Bool) async -> SMSOutcome {
        guard PhoneNumber.isE164(e164) else { return .refused("not an E.164 number") }
        let prefix = whatsapp ? "whatsapp:" : ""
        var form = URLComponents()
        form.queryItems = [URLQueryItem(name: "To", value: prefix + e164), URLQueryItem(name: "From", value: prefix + settings.from),
                           URLQueryItem(name: "Body", value: body)]
        // URLComponents leaves "+" as is; in a form body it would read as a space.
        let encoded = (form.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        var headers = HTTPHeaders()
        headers.basicAuthorization = BasicAuthorization(username: settings.accountSID, password: settings.authToken)
        headers.contentType = .urlEncodedForm
        let sid = settings.accountSID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let url = URI(string: settings.baseURL + "/2010-04-01/Accounts/\(sid)/Messages.json")
        do {
            let response = try await client.send(ClientRequest(method: .POST, url: url, headers: headers, body: ByteBuffer(string: encoded),
                                                               timeout: .seconds(15)))
            switch response.status.code {
            case 200..<300: return .sent
            // The account, not the message: a wrong or suspended credential, or too many at once.
            // Tried again with back-off (and marked failed after the last try), never given up at once.
            case 401, 403, 429: return .failed("provider answered \(response.status.code)")
            case 400..<500: return .refused("provider answered \(response.status.code)\(Self.errorCode(response).map { " (code \($0))" } ?? "")")
            default: return .failed("provider answered \(response.status.code)")
            }
        } catch {
            return .failed("provider not reached")
        }
    }


    /// Twilio's numeric error code from a refusal's JSON body: a number, safe to store and show.
    private static func errorCode(_ response: ClientResponse) -> Int? {
        guard let body = response.body, let json = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else { return nil }
        return json["code"] as? Int
    }
}
