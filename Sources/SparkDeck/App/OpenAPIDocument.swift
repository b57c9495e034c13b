import Foundation
import Hummingbird

/// The OpenAPI 3.1 description of SparkDeck's HTTP API (`App/OpenAPI/openapi.json`), served at `/openapi.json`
/// with this build's version filled in. A test holds it to the router: every route is described, nothing else.
public struct OpenAPIDocument: Sendable {
    let bytes: ByteBuffer

    public static func bundled() throws -> OpenAPIDocument {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json", subdirectory: "OpenAPI") else {
            throw Missing()
        }
        return try OpenAPIDocument(data: Data(contentsOf: url), version: SparkDeckVersion.version)
    }

    init(data: Data, version: String) throws {
        guard var document = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            var info = document["info"] as? [String: Any]
        else { throw Missing() }
        info["version"] = version
        document["info"] = info
        bytes = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String { "openapi.json is missing from SparkDeck's resources or is not an OpenAPI document; reinstall SparkDeck" }
    }

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: bytes))
        }
    }
}
