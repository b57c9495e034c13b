import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /v1/audio/transcriptions`: the upload streams through to the inventory's ASR service as it arrives (never
/// whole in memory), read on the way for its `response_format`; the answer comes back in OpenAI's form.
struct TranscriptionController {
    let inventory: Inventory
    let core: UpstreamCore
    /// Spools, chunks and stitches an upload larger than the ASR takes at once.
    let long: AudioJobsController?
    /// The most one upload to the ASR may hold: parakeet-asr refuses more than 200 MB.
    var uploadLimit = 200 * 1024 * 1024

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/audio/transcriptions") { request, context in
            try await core.observer.observing(route: "transcriptions", upstream: asrService()?.id ?? "none") {
                let length = request.headers[.contentLength].flatMap { Int($0) }
                // Past what the ASR takes in one call: cut into pieces and stitched (an upload of unknown length
                // streams through, and is stopped at the limit).
                if let long, let length, length > uploadLimit + 64 * 1024 {
                    return try await long.submit(.transcription, request, context: context)
                }
                // An ASR that answers only some formats: the same path, which asks for verbose_json and renders the
                // format asked for itself (the format is inside the upload, so it cannot be known before).
                if let long, asrService()?.api.formats != nil {
                    return try await long.submit(.transcription, request, context: context)
                }
                return try await transcribe(request)
            }
        }
    }

    func transcribe(_ request: Request) async throws -> Response {
        let service = try requireASR()
        let contentType = request.headers[.contentType]
        guard let tap = MultipartTap(contentType: contentType, limit: uploadLimit) else {
            throw APIError.invalidRequest(
                "Send the audio as multipart/form-data with a `file` field and a `model` field, as the OpenAI SDKs do"
                    + (contentType.map { " (got \($0))." } ?? "."), status: .unsupportedMediaType)
        }
        let length = request.headers[.contentLength].flatMap { Int($0) }
        if let length, length > uploadLimit + 64 * 1024 {
            throw APIError.invalidRequest(
                "The upload is over \(uploadLimit / 1024 / 1024) MB, the most the ASR takes at once.",
                param: "file", status: .contentTooLarge)
        }
        let outbound = UpstreamRequest(
            route: "transcriptions", path: "/v1/audio/transcriptions",
            body: .stream(tap.tapping(request.body), length: length), contentType: contentType)
        let answer: UpstreamCore.WholeAnswer
        do {
            answer = try await core.exchange(outbound, to: Upstream(service: service))
        } catch {
            // The tap stopped the upload (too large, malformed): that is the answer, not the broken send.
            if let refusal = tap.refusal { throw refusal.naming(service.id, waited: .zero) }
            throw error
        }
        if let refusal = tap.refusal { throw refusal.naming(service.id, waited: answer.waited) }
        var headers: HTTPFields = [
            UpstreamCore.upstreamHeader: service.id,
            UpstreamCore.queueHeader: "\(UpstreamCore.milliseconds(answer.waited))",
        ]
        guard answer.status < 400 else {
            headers[.contentType] = "application/json"
            return Response(
                status: .init(code: answer.status), headers: headers,
                body: .init(byteBuffer: UpstreamErrorAnswer.enveloped(status: answer.status, body: answer.body, upstream: service.id)))
        }
        let summary = tap.summary
        let format = summary.fields["response_format"]?.last ?? "json"
        let granularities = (summary.fields["timestamp_granularities[]"] ?? []) + (summary.fields["timestamp_granularities"] ?? [])
        let (type, body) = TranscriptionAnswer.normalized(answer.body, format: format, words: granularities.contains("word"))
        headers[.contentType] = type
        return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: body))
    }

    func asrService() -> ClusterService? { inventory.services(of: .asr).first }

    func requireASR() throws -> ClusterService {
        guard let service = asrService() else {
            throw APIError(
                .serviceUnavailable, type: "upstream_unavailable", code: "no_asr_service",
                message: "The inventory has no asr service; add one (parakeet-asr, port 8000) to transcribe.")
        }
        return service
    }
}
