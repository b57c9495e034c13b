import Foundation
import Testing
@testable import SparkDeck

@Suite("Event stream splitting")
struct EventStreamSplitterTests {
    @Test func theSameEventsWhereverTheChunksEndWhateverTheLineEnds() {
        let wire = Array("data: {\"a\":\"é\"}\r\n\r\n: ping\n\nevent: x\ndata:🎉\rdata: two\r\r\n\ndata: last".utf8)
        let expected = [EventStreamEvent(lines: [#"data: {"a":"é"}"#]), EventStreamEvent(lines: [": ping"]),
                        EventStreamEvent(lines: ["event: x", "data:🎉", "data: two"]), EventStreamEvent(lines: ["data: last"])]
        for cut in 0...wire.count {
            var splitter = EventStreamSplitter()
            var events = splitter.append(wire[..<cut])
            events += splitter.append(wire[cut...])
            if let last = splitter.finish() { events.append(last) }
            #expect(events == expected, "cut at byte \(cut)")
        }
    }

    @Test func anEventIsOnlyCompleteAtABlankLine() {
        var splitter = EventStreamSplitter()
        #expect(splitter.append(Array("data: one\r\n".utf8)).isEmpty)
        #expect(splitter.append(Array("\r".utf8)).isEmpty, "the CR may be the start of a CRLF")
        #expect(splitter.append(Array("\ndata: two".utf8)) == [EventStreamEvent(lines: ["data: one"])])
        #expect(splitter.finish() == EventStreamEvent(lines: ["data: two"]))
        #expect(splitter.finish() == nil)
    }

    @Test func dataWithOrWithoutTheSpace() {
        let event = EventStreamEvent(lines: ["event: delta", "data:{}", "data:  indented", ": note"])
        #expect(event.data == "{}\n indented")
        #expect(event.otherLines == ["event: delta", ": note"])
        #expect(EventStreamEvent(lines: [": ping"]).data == nil)
    }

    @Test func readsBackWhatTheServerWritesWhereverTheChunksEnd() {
        let sent = [ServerEvent.named("open", .object(["node": .string("spark-1")])),
                    ServerEvent(name: "log", data: "first\nsecond é"), .ping,
                    ServerEvent.named("end", .object(["error": .null]))]
        let wire = Array(("retry: 2000\n\n" + sent.map(\.wireFormat).joined()).utf8)
        for cut in 0...wire.count {
            var splitter = EventStreamSplitter()
            let events = splitter.append(wire[..<cut]) + splitter.append(wire[cut...])
            let read = events.compactMap { event in event.data.map { ServerEvent(name: event.name, data: $0) } }
            #expect(read == [sent[0], sent[1], sent[3]], "cut at byte \(cut)")
        }
    }

    @Test func anEventWithoutANameIsAMessage() {
        #expect(EventStreamEvent(lines: ["data: {}"]).name == "message")
        #expect(EventStreamEvent(lines: ["event:log", "data: {}"]).name == "log")
    }
}
