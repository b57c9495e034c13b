import Foundation
import NIOCore

/// A `multipart/form-data` body SparkDeck sends: text fields, then one file. Values are SparkDeck's own or checked
/// (field names are constants), so no quoting beyond the form's own is needed.
struct MultipartForm: Sendable {
    let boundary = "sparkdeck-\(UUID().uuidString)"
    var fields: [(name: String, value: String)] = []

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    func body(file: ByteBuffer, fileName: String, fileType: String = "audio/wav") -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(file.readableBytes + 512 + fields.reduce(0) { $0 + $1.value.utf8.count + 128 })
        for field in fields {
            buffer.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field.name)\"\r\n\r\n")
            buffer.writeString(field.value)
            buffer.writeString("\r\n")
        }
        buffer.writeString(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(fileName)\"\r\nContent-Type: \(fileType)\r\n\r\n")
        buffer.writeImmutableBuffer(file)
        buffer.writeString("\r\n--\(boundary)--\r\n")
        return buffer
    }
}
