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
        var output = Data()
        while let line = readLine(strippingNewline: true) {
            guard !line.isEmpty else { continue }
            guard let text = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) as? String else {
                throw ValidationError("each input line must be a JSON string")
            }
            var session = ScrubSession(id: "cli", expiresAt: .infinity)
            let result = scrubber.scrub(text, session: &session, customTerms: terms)
            // UTF-16 offset -> code point offset, in one pass over the text.
            var codePointAt = [Int](repeating: 0, count: text.utf16.count + 1)
            var utf16Offset = 0
            for (index, scalar) in text.unicodeScalars.enumerated() {
                for step in 0..<scalar.utf16.count { codePointAt[utf16Offset + step] = index }
                utf16Offset += scalar.utf16.count
            }
            codePointAt[utf16Offset] = text.unicodeScalars.count
            func scalarOffset(_ offset: Int) -> Int { codePointAt[offset] }
            let spans: [[String: Any]] = result.spans.map {
                ["type": $0.type.rawValue, "start": scalarOffset($0.range.location), "end": scalarOffset($0.range.location + $0.range.length)]
            }
            output.append(try JSONSerialization.data(withJSONObject: ["text": result.text, "spans": spans]))
            output.append(10)
            if output.count > 1 << 16 {
                FileHandle.standardOutput.write(output)
                output.removeAll(keepingCapacity: true)
            }
        }
        FileHandle.standardOutput.write(output)
    }
}
