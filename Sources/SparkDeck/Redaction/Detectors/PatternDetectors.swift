/// Pattern detectors for structured personal data. Pure: text in, findings out.
///
/// Each pattern is a small hand-written scanner over the UTF-8 bytes, tried only where its first byte can start it
/// ('@', digits, '+', '(', capitals, ':'); the validators (Luhn, mod-97, base58check, bech32, inet_pton) decide.
/// All patterns share one pass over the text (`PatternScanner.run`); it replaced twenty ICU regular expressions.
public enum PatternDetectors {
    /// Every structured finding in the normalized bytes.
    public static func find(in bytes: [UInt8]) -> [Finding] {
        var scanner = PatternScanner(TextBytes(bytes))
        scanner.run()
        return scanner.findings
    }
}
