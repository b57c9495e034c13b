import Foundation
import NIOCore

/// An ASR service's transcription answer in the form OpenAI's API gives it: parakeet-asr may send `text`, `srt`
/// and `vtt` back as a JSON string literal; the client gets the text itself, with that format's content type. Its
/// `verbose_json` (one segment per word) becomes OpenAI's: sentence segments, and `words` when asked for; one already
/// in sentences passes as it is. Pure.
enum TranscriptionAnswer {
    static let formats = ["json", "text", "srt", "verbose_json", "vtt"]

    static func normalized(_ body: ByteBuffer, format: String, words: Bool = false) -> (contentType: String, body: ByteBuffer) {
        switch format {
        case "verbose_json":
            // Reshaped only from parakeet's one word per segment; an ASR that already answers in sentences (Whisper
            // servers, in OpenAI's own shape) is passed on as it is.
            guard let transcription = try? UpstreamTranscript.transcription(Array(buffer: body)), let segments = transcription.segments,
                segments.allSatisfy({ !$0.text.trimmingSpaces.contains(" ") })
            else {
                return ("application/json", body)
            }
            let rendered = TranscriptFormat.verboseJSON.render(transcription.transcript(), includeWords: words)
            return (rendered.contentType, ByteBuffer(string: rendered.body))
        case "text", "srt", "vtt":
            let type = format == "vtt" ? "text/vtt; charset=utf-8" : "text/plain; charset=utf-8"
            let data = Data(buffer: body)
            if let text = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? String {
                return (type, ByteBuffer(string: text))
            }
            return (type, body)
        default:
            return ("application/json", body)
        }
    }
}
