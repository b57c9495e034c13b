import Foundation
import HTTPTypes
import MultipartKit
import NIOCore
import Synchronization

/// Watches a `multipart/form-data` upload as it streams past: keeps its small text fields (`response_format`,
/// `model`, ...), counts the file's bytes, and stops the upload past a size limit. The bytes pass on unchanged to an
/// upstream, or (`capturesFile`) only the file part's contents go on, to the spool; they are never held whole.
final class MultipartTap: Sendable {
    /// What the upload held, once it has passed.
    struct Summary: Sendable, Equatable {
        /// Text fields by name, in order (a field may repeat: `timestamp_granularities[]`).
        var fields: [String: [String]] = [:]
        var fileField: String?
        var fileName: String?
        var fileBytes = 0
        /// The file part ended with its boundary (an upload cut short has not).
        var fileComplete = false
    }

    /// Why the upload was stopped; becomes the answer.
    struct Refusal: Error {
        var error: APIError
    }

    /// The longest text field kept; longer ones are not SparkDeck's to read.
    static let longestField = 4096

    private final class Reader {
        let parser: MultipartParser
        var summary = Summary()
        var name: String?
        var isFile = false
        var value: [UInt8] = []
        var refusal: APIError?
        /// The file's bytes read since they were last taken, when the tap keeps them (a spooled upload).
        var captured: [ByteBuffer] = []
        let capturesFile: Bool

        init(boundary: String, limit: Int, capturesFile: Bool) {
            self.capturesFile = capturesFile
            parser = MultipartParser(boundary: boundary)
            parser.onHeader = { [unowned self] header, value in
                guard header.lowercased() == "content-disposition" else { return }
                let parameters = Self.parameters(value)
                name = parameters["name"]
                isFile = parameters["filename"] != nil
                if isFile {
                    summary.fileField = name
                    summary.fileName = parameters["filename"]
                }
            }
            parser.onBody = { [unowned self] body in
                if isFile {
                    summary.fileBytes += body.readableBytes
                    if capturesFile, refusal == nil { captured.append(body) }
                    if summary.fileBytes > limit, refusal == nil {
                        refusal = APIError.invalidRequest(
                            "The file is over \(limit / 1024 / 1024) MB, the most this service takes in one upload.", param: "file",
                            status: .contentTooLarge)
                    }
                } else if value.count < MultipartTap.longestField {
                    value.append(contentsOf: body.readableBytesView.prefix(MultipartTap.longestField - value.count))
                }
            }
            parser.onPartComplete = { [unowned self] in
                if isFile { summary.fileComplete = true }
                if let name, !isFile { summary.fields[name, default: []].append(String(decoding: value, as: UTF8.self)) }
                name = nil
                isFile = false
                value.removeAll(keepingCapacity: true)
            }
        }

        /// `form-data; name="file"; filename="a.wav"` -> ["name": "file", "filename": "a.wav"].
        static func parameters(_ value: String) -> [String: String] {
            var result: [String: String] = [:]
            for part in value.split(separator: ";").dropFirst() {
                let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2 else { continue }
                var text = pair[1]
                if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = String(text.dropFirst().dropLast()) }
                result[pair[0].lowercased()] = text
            }
            return result
        }
    }

    private let reader: Mutex<Reader>
    /// The tap keeps the file part's bytes and yields only them (an upload spooled to disk instead of passed on).
    let capturesFile: Bool

    /// Nil when `contentType` is not `multipart/form-data` with a boundary.
    init?(contentType: String?, limit: Int, capturesFile: Bool = false) {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data"),
            let boundary = Reader.parameters("x;" + contentType.split(separator: ";").dropFirst().joined(separator: ";"))["boundary"],
            !boundary.isEmpty
        else { return nil }
        reader = Mutex(Reader(boundary: boundary, limit: limit, capturesFile: capturesFile))
        self.capturesFile = capturesFile
    }

    /// Reads the next piece of the upload; throws when it must stop (too large, not multipart).
    func feed(_ chunk: ByteBuffer) throws(Refusal) {
        try reader.withLock { reader throws(Refusal) in
            if let refusal = reader.refusal { throw Refusal(error: refusal) }
            do {
                try reader.parser.execute(chunk)
            } catch {
                reader.refusal = APIError.invalidRequest("The upload is not well-formed multipart/form-data.")
            }
            if let refusal = reader.refusal { throw Refusal(error: refusal) }
        }
    }

    /// Why the upload was stopped, if it was.
    var refusal: APIError? { reader.withLock { $0.refusal } }

    var summary: Summary { reader.withLock { $0.summary } }

    /// The file part's bytes read so far and not yet taken.
    func takeCaptured() -> [ByteBuffer] {
        reader.withLock { reader in
            defer { reader.captured.removeAll(keepingCapacity: true) }
            return reader.captured
        }
    }

    /// The upload as it streams past, read by the tap on the way: passed on unchanged, or for a tap that
    /// `capturesFile`, only the file part's contents (the text fields are in `summary` once the sequence has ended).
    func tapping<Base: AsyncSequence & Sendable>(_ base: Base) -> Tapped<Base> where Base.Element == ByteBuffer {
        Tapped(base: base, tap: self)
    }

    struct Tapped<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
        let base: Base
        let tap: MultipartTap

        struct AsyncIterator: AsyncIteratorProtocol {
            var base: Base.AsyncIterator
            let tap: MultipartTap
            var ready: [ByteBuffer] = []

            mutating func next() async throws -> ByteBuffer? {
                while ready.isEmpty {
                    guard let chunk = try await base.next() else { return nil }
                    try tap.feed(chunk)
                    ready = tap.capturesFile ? tap.takeCaptured().reversed() : [chunk]
                }
                return ready.removeLast()
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), tap: tap) }
    }
}
