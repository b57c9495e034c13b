import Foundation
import Hummingbird
import MultipartKit

/// A `multipart/form-data` request body as the speech sims read it: whole, parsed by MultipartKit.
struct SimForm: Sendable {
    struct Part: Sendable {
        var name: String
        var filename: String?
        var data: [UInt8]
        var text: String { String(decoding: data, as: UTF8.self) }
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    var parts: [Part]

    func field(_ name: String) -> String? {
        parts.first { $0.name == name && $0.filename == nil }?.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every value of a repeated field (`timestamp_granularities[]` is sent once per value).
    func fields(_ name: String) -> [String] {
        parts.filter { $0.name == name }.map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    func file(_ name: String = "file") -> Part? {
        parts.first { $0.name == name }
    }

    init(parts: [Part]) {
        self.parts = parts
    }

    init(body: ByteBuffer, contentType: String?) throws {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data"),
            let boundary = Self.boundary(contentType)
        else {
            throw Malformed(description: "expected a multipart/form-data body with a boundary")
        }
        let parser = MultipartParser(boundary: boundary)
        var parts: [Part] = []
        var headers: [(String, String)] = []
        var data: [UInt8] = []
        parser.onHeader = { name, value in headers.append((name.lowercased(), value)) }
        parser.onBody = { buffer in data += buffer.readBytes(length: buffer.readableBytes) ?? [] }
        parser.onPartComplete = {
            let disposition = headers.first { $0.0 == "content-disposition" }?.1 ?? ""
            parts.append(
                Part(
                    name: Self.parameter("name", in: disposition) ?? "",
                    filename: Self.parameter("filename", in: disposition), data: data))
            headers = []
            data = []
        }
        do {
            try parser.execute(body)
        } catch {
            throw Malformed(description: "the multipart body does not parse")
        }
        self.parts = parts
    }

    static func boundary(_ contentType: String) -> String? {
        parameter("boundary", in: contentType).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `name="value"` (or unquoted) from a header value such as Content-Disposition.
    static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";") {
            let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == key else { continue }
            var value = pair[1]
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }
}
