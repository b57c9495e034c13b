import Foundation
import NIOCore

/// The calls a job makes to the inventory's ASR service, each through the upstream core (its gate and the audio
/// group's). A job waits out a busy or loading ASR, within bounds, instead of failing on the first 503.
struct ASRClient: Sendable {
    let core: UpstreamCore
    let service: ClusterService
    /// The most attempts per call while the ASR answers 503 or the gates are full.
    var attempts = 8

    /// Diarizes one clip. The upstream always gets `speaker_names` (without it, a 2-3 speaker answer comes back with
    /// hard-coded names); these are slot names, since the merge names the recording's speakers.
    func diarize(_ clip: ByteBuffer, maxSpeakers: Int?, label: String) async throws -> UpstreamTranscript.Diarization {
        var form = MultipartForm()
        let slots = min(maxSpeakers ?? DiarizerLimits.speakerSlots, DiarizerLimits.speakerSlots)
        form.fields = [
            ("speaker_names", (0..<DiarizerLimits.speakerSlots).map { "speaker_\($0)" }.joined(separator: ",")),
            ("max_speakers", "\(slots)"), ("transcribe_audio", "true"), ("response_format", "json"),
        ]
        let body = try await call("diarizations", path: "/v1/audio/diarizations", form: form, clip: clip, label: label)
        do {
            return try UpstreamTranscript.diarization(Array(buffer: body))
        } catch {
            throw badAnswer("its diarization of \(label)", error)
        }
    }

    /// Transcribes one clip with a time for every word.
    func transcribe(_ clip: ByteBuffer, model: String?, language: String?, label: String) async throws -> UpstreamTranscript.Transcription {
        var form = MultipartForm()
        form.fields = [("model", model ?? "parakeet"), ("response_format", "verbose_json"), ("timestamp_granularities[]", "word")]
        if let language { form.fields.append(("language", language)) }
        let body = try await call("transcriptions", path: "/v1/audio/transcriptions", form: form, clip: clip, label: label)
        do {
            return try UpstreamTranscript.transcription(Array(buffer: body))
        } catch {
            throw badAnswer("its transcription of \(label)", error)
        }
    }

    func call(_ route: String, path: String, form: MultipartForm, clip: ByteBuffer, label: String) async throws -> ByteBuffer {
        let request = UpstreamRequest(
            route: route, path: path, body: .bytes(form.body(file: clip, fileName: "chunk.wav")), contentType: form.contentType)
        let upstream = Upstream(service: service)
        var attempt = 1
        while true {
            try Task.checkCancellation()
            var retryAfter: Int?
            do {
                let answer = try await core.exchange(request, to: upstream)
                if answer.status < 400 { return answer.body }
                guard Self.mayRetry(status: answer.status, attempt: attempt, of: attempts) else {
                    throw APIError(
                        .badGateway, type: "upstream_error", code: "upstream_error",
                        message: "The \(service.id) service answered HTTP \(answer.status) for \(label): "
                            + String(String(buffer: answer.body).prefix(300)))
                }
                retryAfter = 2
            } catch let error as APIError
                where error.code != "upstream_bad_answer" && Self.mayRetry(status: error.status.code, attempt: attempt, of: attempts)
            {
                retryAfter = error.headers[.retryAfter].flatMap(Int.init) ?? 2
            }
            // Backs off a little more each time, within what the ASR asked for and half a minute.
            let wait = min(30, max(1, retryAfter ?? 2) * min(attempt, 4))
            try await Task.sleep(for: .seconds(wait))
            attempt += 1
        }
    }

    /// A chunk call is idempotent, so it is asked again: while the ASR is busy or loading (503) up to `attempts`
    /// times; after a gateway error (a reset, a timeout: 502, 504) twice more, since one may cost a long timeout.
    static func mayRetry(status: Int, attempt: Int, of attempts: Int) -> Bool {
        switch status {
        case 503: attempt < attempts
        case 502, 504: attempt < min(3, attempts)
        default: false
        }
    }

    func badAnswer(_ what: String, _ error: any Error) -> APIError {
        APIError(
            .badGateway, type: "upstream_error", code: "upstream_bad_answer",
            message: "The \(service.id) service's answer could not be read as \(what): \(error)")
    }
}
