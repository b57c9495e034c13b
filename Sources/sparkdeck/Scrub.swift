import ArgumentParser
import Foundation
import SparkDeck

struct Scrub: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scrub personal data from standard input, locally (no server, nothing sent anywhere).",
        discussion: "The scrubbed text goes to standard output; a count per entity type to standard error.")

    @Option(name: .customLong("term"), help: "A term to scrub as well (repeatable): a name, a company, a project.")
    var terms: [String] = []

    func run() throws {
        let input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        var session = ScrubSession(id: "cli", expiresAt: .infinity)
        let result = Scrubber(names: try PersonNameDetector.bundled()).scrub(input, session: &session, customTerms: terms)
        FileHandle.standardOutput.write(Data(result.text.utf8))
        let counts = Dictionary(grouping: result.entities, by: \.type.rawValue).map { "\($0.key) \($0.value.count)" }.sorted()
        FileHandle.standardError.write(Data("scrubbed: \(counts.isEmpty ? "nothing found" : counts.joined(separator: ", "))\n".utf8))
    }
}
