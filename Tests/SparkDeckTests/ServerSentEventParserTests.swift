import Testing
@testable import SparkDeck

@Suite("Server-sent event parser")
struct ServerSentEventParserTests {
    @Test func readsBackWhatTheServerWritesWhereverTheChunksEnd() {
        let sent = [ServerEvent.named("open", .object(["node": .string("spark-1")])),
                    ServerEvent(name: "log", data: "first\nsecond"), .ping,
                    ServerEvent.named("end", .object(["error": .null]))]
        let wire = Array(("retry: 2000\n\n" + sent.map(\.wireFormat).joined()).unicodeScalars)
        for cut in 0...wire.count {
            var parser = ServerSentEventParser()
            var events = parser.append(String(String.UnicodeScalarView(wire[..<cut])))
            events += parser.append(String(String.UnicodeScalarView(wire[cut...])))
            #expect(events == [sent[0], sent[1], sent[3]], "cut at \(cut)")
        }
    }

    @Test func eventsWithoutANameAreMessages() {
        var parser = ServerSentEventParser()
        #expect(parser.append("data:no space\n\ndata: {}\n") == [ServerEvent(name: "message", data: "no space")])
        #expect(parser.append("\n") == [ServerEvent(name: "message", data: "{}")])
    }
}
