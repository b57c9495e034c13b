import Foundation

/// Times as SparkDeck stores (seconds since 1970) and shows them (ISO 8601 UTC with milliseconds).
public enum Timestamp {
    public static func now() -> Double { Date().timeIntervalSince1970 }

    public static func iso(_ seconds: Double) -> String {
        Date(timeIntervalSince1970: seconds).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Parses `2026-11-27T01:20:00Z` or `2026-11-27T01:20:00.123Z`.
    public static func parse(_ text: String) -> Double? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) {
            return date.timeIntervalSince1970
        }
        return (try? Date.ISO8601FormatStyle().parse(text))?.timeIntervalSince1970
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }

    /// The duration in milliseconds, as a `Double`.
    var milliseconds: Double { seconds * 1_000 }
}
