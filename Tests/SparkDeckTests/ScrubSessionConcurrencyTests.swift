import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SparkDeck

@Suite("Scrub session concurrency")
struct ScrubSessionConcurrencyTests {
    /// Requests that scrub different values in one session at the same time each get their own placeholder, and
    /// every placeholder rehydrates to its own value.
    @Test func concurrentScrubsOfOneSessionKeepEveryValue() async throws {
        let app = APITests.app(try APITests.dependencies())
        try await app.test(.router) { client in
            let session = "shared-session-1"
            let emails = (0..<12).map { "person\($0)@example.com" }
            let placeholders = try await withThrowingTaskGroup(of: (String, String).self) { group in
                for email in emails {
                    group.addTask {
                        let (status, body) = try await RedactionAPITests.post(client, "/scrub", ["text": email, "session_id": session])
                        #expect(status == .ok)
                        return (email, body["text"] as? String ?? "")
                    }
                }
                var all: [String: String] = [:]
                for try await (email, placeholder) in group { all[email] = placeholder }
                return all
            }
            #expect(Set(placeholders.values).count == emails.count, "two values got one placeholder: \(placeholders)")
            for (email, placeholder) in placeholders {
                let (_, back) = try await RedactionAPITests.post(client, "/rehydrate", ["text": placeholder, "session_id": session])
                #expect(back["text"] as? String == email, "\(placeholder) came back as \(back["text"] ?? "nothing"), not \(email)")
            }
        }
    }
}
