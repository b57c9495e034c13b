import ArgumentParser
import Foundation
import SparkDeck

struct Scrub: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scrub personal data from standard input, locally (no server, nothing sent anywhere).",
        discussion: "The scrubbed text goes to standard output; a count per entity type to standard error.")

    @Option(name: .customLong("term"), help: "A term to scrub as well (repeatable): a name, a company, a project.")
    var terms: [String] = []

    @Flag(help: "Read one JSON string per line; write one JSON object per line: the scrubbed text and each span found (type, start, end in Unicode code points). For benchmarks and tooling.")
    var jsonl = false

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
        let scrubber = Scrubber(names: try PersonNameDetector.bundled())
        let input = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        var output: [UInt8] = []
        output.reserveCapacity(1 << 17)
        for (number, line) in input.split(separator: 10, omittingEmptySubsequences: false).enumerated() {
            guard line.contains(where: { $0 != 32 && $0 != 13 && $0 != 9 }) else { continue }
            let text: String
            do { text = try JSONStringLiteral.decode(line) } catch {
                throw ValidationError("line \(number + 1): \(error) (each input line must be one JSON string)")
            }
            var session = ScrubSession(id: "cli", expiresAt: .infinity)
            let result = scrubber.scrub(text, session: &session, customTerms: terms)
            // Byte offsets to code point offsets (the same when the text is ASCII).
            var codePointAt: [Int] = []
            if text.utf8.contains(where: { $0 >= 0x80 }) {
                codePointAt.reserveCapacity(text.utf8.count + 1)
                var count = 0
                for byte in text.utf8 {
                    codePointAt.append(count)
                    if byte & 0xC0 != 0x80 { count += 1 }
                }
                codePointAt.append(count)
            }
            func codePoint(_ offset: Int) -> Int { codePointAt.isEmpty ? offset : codePointAt[offset] }
            output += Array(#"{"text":"#.utf8)
            JSONStringLiteral.encode(result.text, into: &output)
            output += Array(#","spans":["#.utf8)
            for (index, span) in result.spans.enumerated() {
                if index > 0 { output.append(44) }
                output += Array(#"{"type":"\#(span.type.rawValue)","start":\#(codePoint(span.range.lowerBound)),"end":\#(codePoint(span.range.upperBound))}"#.utf8)
            }
            output += Array("]}\n".utf8)
            if output.count > 1 << 16 {
                FileHandle.standardOutput.write(Data(output))
                output.removeAll(keepingCapacity: true)
            }
        }
        FileHandle.standardOutput.write(Data(output))
    }
}
