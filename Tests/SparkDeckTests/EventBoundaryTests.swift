import NIOCore
import Testing
@testable import SparkDeck

@Suite("Event boundary")
struct EventBoundaryTests {
    func end(_ text: String) -> Int? {
        let buffer = ByteBuffer(string: text)
        return EventBoundary.end(in: buffer.readableBytesView).map { $0 - buffer.readerIndex }
    }

    @Test func theLastBlankLineEndsTheCompleteEvents() {
        #expect(end("data: a\n\n") == 9)
        #expect(end("data: a\n\ndata: b") == 9, "the partial event after it is held back")
        #expect(end("data: a\n\ndata: b\n\n") == 18)
        #expect(end("data: a\r\n\r\ndata: b") == 11)
        #expect(end("data: a\n") == nil)
        #expect(end("data: a\r\n") == nil)
        #expect(end("") == nil)
        #expect(end("\n\n") == 2)
    }

    @Test func aSliceIsReadFromItsOwnStart() {
        var buffer = ByteBuffer(string: "xxdata: a\n\nrest")
        buffer.moveReaderIndex(forwardBy: 2)
        let view = buffer.readableBytesView
        #expect(EventBoundary.end(in: view).map { $0 - view.startIndex } == 9)
    }
}
