import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// `GET /v1/audio/voices` and `POST /v1/audio/speech`, to the inventory's TTS service through the upstream core
/// (its own gate and the audio group's). Audio is streamed back as it arrives, never held whole.
struct SpeechController {
    let inventory: Inventory
    let core: UpstreamCore
    let voices: VoiceCache

    static let bodyLimit = 256 * 1024

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/v1/audio/voices") { _, _ in
            try await core.observer.observing(route: "voices", upstream: ttsService()?.id ?? "none") {
                let service = try requireTTS()
                var response = Response.json(try await catalog(of: service).json)
                response.headers[UpstreamCore.upstreamHeader] = service.id
                return response
            }
        }
        router.post("/v1/audio/speech") { request, context in
            try await core.observer.observing(route: "speech", upstream: ttsService()?.id ?? "none") {
                try await speak(request, context: context)
            }
        }
    }

    func speak(_ request: Request, context: some RequestContext) async throws -> Response {
        let service = try requireTTS()
        let body = try await JSONBody.decode(SpeechRequest.self, request, context: context, limit: Self.bodyLimit)
        // The voice list is checked only when it can be had: a TTS that cannot list its voices still speaks.
        let known = try? await catalog(of: service)
        var checked = try body.validated(voices: known)
        let streams = service.api.streamedFormats.map { $0.contains(checked.responseFormat ?? "mp3") } ?? true
        checked.stream = (checked.stream ?? true) && streams
        let payload = ByteBuffer(bytes: try JSONEncoder().encode(checked))
        let outbound = UpstreamRequest(route: "speech", path: "/v1/audio/speech", body: .bytes(payload), streaming: checked.stream ?? true)
        return try await core.forward(outbound, to: Upstream(service: service))
    }

    /// The TTS service's voices, asked at most once a minute.
    func catalog(of service: ClusterService) async throws -> VoiceCatalog {
        if let cached = voices.fresh(for: service.id) { return cached }
        let answer = try await core.exchange(
            UpstreamRequest(route: "voices", method: .get, path: "/v1/audio/voices", contentType: nil),
            to: Upstream(service: service), limit: 1 << 20)
        guard answer.status == 200, let catalog = VoiceCatalog(upstreamAnswer: Data(buffer: answer.body)) else {
            throw APIError(
                .badGateway, type: "upstream_unavailable", code: "upstream_bad_answer",
                message: "The \(service.id) service's voice list could not be read (HTTP \(answer.status))."
            )
            .naming(service.id, waited: .zero)
        }
        voices.store(catalog, for: service.id)
        return catalog
    }

    func ttsService() -> ClusterService? { inventory.services(of: .tts).first }

    func requireTTS() throws -> ClusterService {
        guard let service = ttsService() else {
            throw APIError(
                .serviceUnavailable, type: "upstream_unavailable", code: "no_tts_service",
                message: "The inventory has no tts service; add one (Kokoro, port 8880) to use /v1/audio/speech.")
        }
        return service
    }
}

/// The voice lists last read from each TTS service, kept for a minute.
final class VoiceCache: Sendable {
    private let entries = Mutex<[String: (catalog: VoiceCatalog, at: ContinuousClock.Instant)]>([:])
    let lifetime: Duration

    init(lifetime: Duration = .seconds(60)) {
        self.lifetime = lifetime
    }

    func fresh(for service: String) -> VoiceCatalog? {
        entries.withLock { entries in
            guard let entry = entries[service], ContinuousClock.now - entry.at < lifetime else { return nil }
            return entry.catalog
        }
    }

    func store(_ catalog: VoiceCatalog, for service: String) {
        entries.withLock { $0[service] = (catalog, .now) }
    }
}
