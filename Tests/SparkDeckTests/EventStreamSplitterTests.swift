import Foundation
import NIOCore
import Testing

@testable import SparkDeck

@Suite("Event stream splitting")
struct EventStreamSplitterTests {
    @Test func theSameEventsWhereverTheChunksEndWhateverTheLineEnds() throws {
        let wire = Array("data: {\"a\":\"é\"}\r\n\r\n: ping\n\nevent: x\ndata:🎉\rdata: two\r\r\n\ndata: last".utf8)
        let expected = [
            EventStreamEvent(lines: [#"data: {"a":"é"}"#]), EventStreamEvent(lines: [": ping"]),
            EventStreamEvent(lines: ["event: x", "data:🎉", "data: two"]), EventStreamEvent(lines: ["data: last"]),
        ]
        for cut in 0...wire.count {
            var splitter = EventStreamSplitter()
            var events = try splitter.append(wire[..<cut])
            events += try splitter.append(wire[cut...])
            if let last = splitter.finish() { events.append(last) }
            #expect(events == expected, "cut at byte \(cut)")
        }
    }

    @Test func anEventIsOnlyCompleteAtABlankLine() throws {
        var splitter = EventStreamSplitter()
        #expect(try splitter.append(Array("data: one\r\n".utf8)).isEmpty)
        #expect(
            try splitter.append(Array("\r".utf8)) == [EventStreamEvent(lines: ["data: one"])],
            "a CR ends the blank line, whether an LF follows or not")
        #expect(try splitter.append(Array("\ndata: two".utf8)).isEmpty, "the LF of that CRLF ends nothing more")
        #expect(splitter.finish() == EventStreamEvent(lines: ["data: two"]))
        #expect(splitter.finish() == nil)
    }

    @Test func dataWithOrWithoutTheSpace() {
        let event = EventStreamEvent(lines: ["event: delta", "data:{}", "data:  indented", ": note"])
        #expect(event.data == "{}\n indented")
        #expect(event.otherLines == ["event: delta", ": note"])
        #expect(EventStreamEvent(lines: [": ping"]).data == nil)
    }

    @Test func readsBackWhatTheServerWritesWhereverTheChunksEnd() throws {
        let sent = [
            ServerEvent.named("open", .object(["node": .string("spark-1")])),
            ServerEvent(name: "log", data: "first\nsecond é"), .ping,
            ServerEvent.named("end", .object(["error": .null])),
        ]
        let wire = Array(("retry: 2000\n\n" + sent.map(\.wireFormat).joined()).utf8)
        for cut in 0...wire.count {
            var splitter = EventStreamSplitter()
            let events = try splitter.append(wire[..<cut]) + splitter.append(wire[cut...])
            let read = events.compactMap { event in event.data.map { ServerEvent(name: event.name, data: $0) } }
            #expect(read == [sent[0], sent[1], sent[3]], "cut at byte \(cut)")
        }
    }

    @Test func anEventWithoutANameIsAMessage() {
        #expect(EventStreamEvent(lines: ["data: {}"]).name == "message")
        #expect(EventStreamEvent(lines: ["event:log", "data: {}"]).name == "log")
    }

    @Test func anEventThatNeverEndsIsRefusedPastItsBound() throws {
        var splitter = EventStreamSplitter(longestEvent: 100)
        #expect(try splitter.append(Array(repeating: UInt8(ascii: "x"), count: 60)).isEmpty)
        #expect(throws: EventTooLong.self) { _ = try splitter.append(Array("data: ".utf8) + Array(repeating: 65, count: 60)) }
        var fresh = EventStreamSplitter(longestEvent: 100)
        let many = Array(String(repeating: "data: 0123456789\n\n", count: 50).utf8)
        #expect(try fresh.append(many).count == 50, "the bound is per event, not per stream")
    }
}

/// The relaying side: whole events pass, wherever the chunks end.
@Suite("Event stream framing")
struct EventStreamFramerTests {
    static func frame(_ wire: [UInt8], cuts: [Int]) -> [String] {
        var framer = EventStreamFramer()
        var out: [String] = []
        var start = 0
        for cut in cuts + [wire.count] {
            if let bytes = framer.feed(ByteBuffer(bytes: wire[start..<cut])) { out.append(String(buffer: bytes)) }
            start = cut
        }
        if let rest = framer.finish() { out.append(String(buffer: rest)) }
        return out
    }

    @Test func passesOnlyWholeEventsWhateverTheLineEndsAndTheCuts() {
        let events = ["data: {\"a\":1}\n\n", "data: b\r\n\r", "\n", "event: x\rdata: c\r\r"]
        let wire = Array((events.joined() + "data: tail").utf8)
        // Where a piece may end: right after an event's blank line (for CRLF, after its CR or after its LF).
        var ends: Set<Int> = []
        var offset = 0
        for event in events {
            offset += event.utf8.count
            ends.insert(offset)
        }
        for first in 0...wire.count {
            for second in first...wire.count where (second - first) % 5 == 0 {
                let out = Self.frame(wire, cuts: [first, second])
                #expect(out.joined() == String(decoding: wire, as: UTF8.self), "nothing lost or changed, cuts \(first) \(second)")
                var end = 0
                for piece in out.dropLast() {
                    end += piece.utf8.count
                    #expect(ends.contains(end), "a piece ends inside an event: \(piece.debugDescription), cuts \(first) \(second)")
                }
                #expect(out.last?.hasSuffix("data: tail") == true, "the unterminated last event comes at the end")
            }
        }
    }

    @Test func aStreamWithoutBlankLinesIsNotHeldPastTheBound() {
        var framer = EventStreamFramer()
        var passed = 0
        var chunks = 0
        while passed == 0, chunks < 1000 {
            passed += framer.feed(ByteBuffer(string: String(repeating: "data: x\n", count: 128)))?.readableBytes ?? 0
            chunks += 1
        }
        #expect(
            passed > EventStreamFramer.longestHeld - 1024 && passed <= EventStreamFramer.longestHeld + 1024,
            "held up to the bound, then passed on: \(passed) bytes after \(chunks) chunks")
    }

    @Test func aWholeChunkOfEventsPassesAsItCame() {
        var framer = EventStreamFramer()
        let chunk = ByteBuffer(string: "data: 1\n\ndata: 2\n\n")
        let out = framer.feed(chunk)
        #expect(out == chunk)
        let rest = framer.finish()
        #expect(rest == nil)
    }
}
