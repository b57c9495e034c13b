import Testing

@testable import SparkDeck

@Suite("Line splitter")
struct LineSplitterTests {
    @Test func linesEndAtNewlinesWhereverTheChunksEnd() {
        let text = Array("first\r\nsecond\n\nthird, no newline".utf8)
        // Every way of cutting the stream in two gives the same lines.
        for cut in 0...text.count {
            var splitter = LineSplitter()
            var lines = splitter.append(text[..<cut])
            lines += splitter.append(text[cut...])
            if let last = splitter.finish() { lines.append(last) }
            #expect(lines == ["first", "second", "", "third, no newline"], "cut at \(cut)")
        }
    }

    @Test func carriageReturnsInsideALineStay() {
        var splitter = LineSplitter()
        #expect(splitter.append(Array("tag \rLoading 19%\n".utf8)) == ["tag \rLoading 19%"])
        #expect(splitter.finish() == nil)
    }

    @Test func aLineThatNeverEndsIsCutAtTheLimit() {
        var splitter = LineSplitter(maxLineBytes: 4)
        #expect(splitter.append(Array("abcdefghij".utf8)) == ["abcd", "efgh"])
        #expect(splitter.append(Array("k\nl".utf8)) == ["ijk"])
        #expect(splitter.finish() == "l")
    }

    @Test func aCutInsideACharacterDoesNotFail() {
        var splitter = LineSplitter(maxLineBytes: 3)
        let lines = splitter.append(Array("aé€\n".utf8)) // a (1 byte), é (2), € (3)
        #expect(lines.count == 3)
        #expect(lines.first?.hasPrefix("aé") == true)
    }
}
