import Foundation
import Hummingbird

/// Writes a `multipart/form-data` upload's file to an audio job's spool folder as it arrives (never whole in
/// memory) and reads its text fields. Stops with 413 as soon as the file passes the limit; whatever goes wrong, a
/// refused upload leaves nothing in the spool.
enum SpooledUpload {
    static func receive(
        _ request: Request, context: some RequestContext, spool: AudioSpool, id: String, limit: Int
    ) async throws -> MultipartTap.Summary {
        let contentType = request.headers[.contentType]
        guard let tap = MultipartTap(contentType: contentType, limit: limit, capturesFile: true) else {
            throw APIError.invalidRequest(
                "Send the audio as multipart/form-data with a `file` field, as the OpenAI SDKs do"
                    + (contentType.map { " (got \($0.prefix(80)))." } ?? "."), status: .unsupportedMediaType)
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit + 64 * 1024 {
            throw tooLarge(limit)
        }
        do {
            _ = try spool.folder(for: id)
            try await FileIO().writeFile(contents: tap.tapping(request.body), path: spool.uploadPath(for: id), context: context)
        } catch {
            spool.remove(id)
            if let refusal = tap.refusal { throw refusal }
            throw APIError.invalidRequest("The upload could not be read to its end: \(error)")
        }
        let summary = tap.summary
        guard summary.fileField != nil else {
            spool.remove(id)
            throw APIError.invalidRequest("The form has no file part; send the recording in a field named `file`.", param: "file")
        }
        guard summary.fileBytes > 0 else {
            spool.remove(id)
            throw APIError.invalidRequest("The file is empty; send a recording.", param: "file")
        }
        guard summary.fileComplete else {
            spool.remove(id)
            throw APIError.invalidRequest("The upload was cut short before the file part ended; send it again.", param: "file")
        }
        return summary
    }

    static func tooLarge(_ limit: Int) -> APIError {
        APIError.invalidRequest(
            "The file is over \(limit / 1024 / 1024) MB, the most this SparkDeck takes in one upload (inventory audio.upload_limit_mb).",
            param: "file", status: .contentTooLarge)
    }
}
