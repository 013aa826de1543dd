import Foundation
import Keyring
import Vapor

/// Makes the configured key provider. The key file is created on first start; KMS is reached
/// through the application's HTTP client.
enum KeyProviders {
    static func make(_ settings: ServerSettings, client: any Client,
                     environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (provider: any KeyProvider, keyFileCreated: Bool) {
        switch settings.keyProvider {
        case .keyFile:
            let (provider, created) = try KeyFileProvider.openOrCreate(at: settings.keyFilePath)
            return (provider, created)
        case let .awsKMS(keyID, region, endpoint):
            guard let accessKey = environment["AWS_ACCESS_KEY_ID"], !accessKey.isEmpty,
                  let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
                throw SettingsError("CLINICKEEP_KEY_PROVIDER=aws-kms needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
            }
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            guard let url = endpoint.map({ URL(string: $0) }) ?? URL(string: "https://kms.\(region).amazonaws.com/") else {
                throw SettingsError("CLINICKEEP_KMS_ENDPOINT is not a URL")
            }
            do {
                let previous = (environment["CLINICKEEP_KMS_PREVIOUS_KEY_IDS"] ?? "").split(separator: ",")
                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                let provider = try AWSKMSProvider(keyID: keyID, previousKeyIDs: previous, region: region, endpoint: url,
                                                  credentials: AWSCredentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: token),
                                                  transport: { try await exchange($0, client: client) })
                return (provider, false)
            } catch KeyringError.keyProvider(let problem) {
                throw SettingsError("CLINICKEEP_KMS_ENDPOINT: \(problem)")
            }
        }
    }

    private static func exchange(_ request: KMSExchange, client: any Client) async throws -> (status: Int, body: Data) {
        let headers = HTTPHeaders(request.headers.map { ($0.name, $0.value) })
        let response = try await client.send(ClientRequest(method: .POST, url: URI(string: request.url.absoluteString), headers: headers,
                                                           body: ByteBuffer(data: request.body), timeout: .seconds(15)))
        return (Int(response.status.code), response.body.map { Data(buffer: $0) } ?? Data())
    }
}
