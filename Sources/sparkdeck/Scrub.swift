import ArgumentParser
import Foundation
import SparkDeck

struct Scrub: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scrub personal data from standard input, locally (no server, nothing sent anywhere).",
        discussion: "The scrubbed text goes to standard output; a count per entity type to standard error.")

    @Option(name: .customLong("term"), help: "A term to scrub as well (repeatable): a name, a company, a project.")
    var terms: [String] = []

    @Flag(
        help:
            "Read one JSON string per line; write one JSON object per line: the scrubbed text and each span found (type, start, end in Unicode code points). For benchmarks and tooling."
    )
    var jsonl = false

    @Flag(help: "With --jsonl: also rehydrate each scrubbed text and say whether it gives the input back byte for byte (\"exact\": true).")
    var roundTrip = false

    func run() throws {
        if jsonl { return try runJSONLines() }
        let input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        var session = ScrubSession(id: "cli", expiresAt: .infinity)
        let result = Scrubber(names: try PersonNameDetector.bundled()).scrub(input, session: &session, customTerms: terms)
        FileHandle.standardOutput.write(Data(result.text.utf8))
        let counts = Dictionary(grouping: result.entities, by: \.type.rawValue).map { "\($0.key) \($0.value.count)" }.sorted()
        FileHandle.standardError.write(Data("scrubbed: \(counts.isEmpty ? "nothing found" : counts.joined(separator: ", "))\n".utf8))
    }

    func runJSONLines() throws {
        // The terms are the scrubber's own: matched by one automaton made once, not once per line.
        let scrubber = Scrubber(names: try PersonNameDetector.bundled(), standingTerms: terms)
        let input = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        var output: [UInt8] = []
        output.reserveCapacity(1 << 17)
        var session = ScrubSession(id: "cli", expiresAt: .infinity)
        for (number, line) in input.split(separator: 10, omittingEmptySubsequences: false).enumerated() {
            guard line.contains(where: { $0 != 32 && $0 != 13 && $0 != 9 }) else { continue }
            let text: [UInt8]
            do { text = try JSONStringLiteral.decodeUTF8(line) } catch {
                throw ValidationError("line \(number + 1): \(error) (each input line must be one JSON string)")
            }
            // Each line is a text of its own: a fresh mapping, in storage kept from the line before.
            session.clear()
            let result = scrubber.scrub(utf8: text, session: &session)
            // Byte offsets to code point offsets (the same when the text is ASCII).
            var codePointAt: [Int] = []
            if !text.withUnsafeBufferPointer(allASCII) {
                codePointAt.reserveCapacity(text.count + 1)
                var count = 0
                for byte in String(decoding: text, as: UTF8.self).utf8 {
                    codePointAt.append(count)
                    if byte & 0xC0 != 0x80 { count += 1 }
                }
                codePointAt.append(count)
            }
            func codePoint(_ offset: Int) -> Int { codePointAt.isEmpty ? offset : codePointAt[offset] }
            output.append(contentsOf: #"{"text":"#.utf8)
            result.text.withUnsafeBufferPointer { JSONStringLiteral.encode(utf8: $0, into: &output) }
            output.append(contentsOf: #","spans":["#.utf8)
            for (index, span) in result.spans.enumerated() {
                if index > 0 { output.append(44) }
                output.append(contentsOf: #"{"type":""#.utf8)
                output.append(contentsOf: span.type.rawValue.utf8)
                output.append(contentsOf: #"","start":"#.utf8)
                Self.appendDecimal(codePoint(span.range.lowerBound), to: &output)
                output.append(contentsOf: #","end":"#.utf8)
                Self.appendDecimal(codePoint(span.range.upperBound), to: &output)
                output.append(125)
            }
            output.append(93)
            if roundTrip {
                let back = Rehydrator.rehydrate(String(decoding: result.text, as: UTF8.self), session: session).text
                output.append(contentsOf: (Array(back.utf8) == text ? #","exact":true"# : #","exact":false"#).utf8)
            }
            output.append(contentsOf: "}\n".utf8)
            if output.count > 1 << 16 {
                FileHandle.standardOutput.write(Data(output))
                output.removeAll(keepingCapacity: true)
            }
        }
        FileHandle.standardOutput.write(Data(output))
    }

    static func appendDecimal(_ value: Int, to output: inout [UInt8]) {
        var digits = InlineArray<20, UInt8>(repeating: 48)
        var count = 0
        var rest = value
        repeat {
            digits[count] = UInt8(48 + rest % 10)
            rest /= 10
            count += 1
        } while rest > 0
        for index in stride(from: count - 1, through: 0, by: -1) { output.append(digits[index]) }
    }
}
