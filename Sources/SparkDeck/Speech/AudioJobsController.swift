import Foundation
import HTTPTypes
import Hummingbird

/// `POST /v1/audio/diarizations`, transcriptions too long for one ASR call, and the audio jobs: the upload is spooled to the data folder, decoded by ffmpeg,
/// diarized chunk by chunk by the ASR service and merged onto the recording's speakers (see `AudioWork`). With
/// `async=true` the answer is `202` and a job to follow at `GET /v1/audio/jobs/{id}`; otherwise the call answers when
/// the work is done.
struct AudioJobsController {
    let jobs: AudioJobs
    let spool: AudioSpool
    let inventory: Inventory
    let core: UpstreamCore

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/audio/diarizations") { request, context in
            try await core.observer.observing(route: "diarizations", upstream: asrID) {
                try await submit(.diarization, request, context: context)
            }
        }
        // A job is its submitter's (their API key, or their address while the API is open): to anyone else it does
        // not exist, as a scrub session.
        router.get("/v1/audio/jobs/{id}") { request, context in
            let id = try context.parameters.require("id")
            guard let job = try await jobs.job(id), job.isUsable(by: RequestCaller.of(request, context: context)) else {
                throw Self.unknown(id)
            }
            return Response.json(job.json)
        }
        router.delete("/v1/audio/jobs/{id}") { request, context in
            let id = try context.parameters.require("id")
            guard let job = try await jobs.cancel(id, by: RequestCaller.of(request, context: context)) else { throw Self.unknown(id) }
            return Response.json(job.json)
        }
    }

    var asrID: String { inventory.services(of: .asr).first?.id ?? "none" }

    /// Spools the upload and runs it as a job: answered when done, or at once with `202` for `async=true`.
    func submit(_ kind: AudioJobRequest.Kind, _ request: Request, context: some RequestContext) async throws -> Response {
        guard inventory.services(of: .asr).first != nil else {
            throw APIError(
                .serviceUnavailable, type: "upstream_unavailable", code: "no_asr_service",
                message: "The inventory has no asr service; add one (parakeet-asr, port 8000) to process audio.")
        }
        let id = "audjob_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let summary = try await SpooledUpload.receive(request, context: context, spool: spool, id: id, limit: inventory.audioUploadLimit)
        let job: AudioJobRequest
        let async: Bool
        do {
            job = try AudioJobRequest.parse(kind, fields: summary.fields, fileName: summary.fileName)
            async = try AudioJobRequest.wantsJob(summary.fields)
        } catch {
            spool.remove(id)
            throw error
        }
        let task = try await jobs.start(id: id, request: job, stored: async, owner: RequestCaller.of(request, context: context))
        guard !async else {
            var response = Response.json(try await jobs.job(id)?.json ?? .object(["id": .string(id)]), status: .accepted)
            response.headers[.location] = "/v1/audio/jobs/\(id)"
            return response
        }
        // A synchronous job is nobody's once its client leaves: it stops with the request.
        let rendered = try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
        return Response(
            status: .ok, headers: [.contentType: rendered.contentType, UpstreamCore.upstreamHeader: asrID],
            body: .init(byteBuffer: .init(string: rendered.body)))
    }

    static func unknown(_ id: String) -> APIError {
        APIError.notFound("No audio job '\(id.prefix(80))'; finished jobs are kept for 7 days.")
    }
}
