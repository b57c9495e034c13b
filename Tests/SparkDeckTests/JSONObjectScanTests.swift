import Foundation
import Testing

@testable import SparkDeck

/// The gateway's one-pass JSON check: the same verdicts as Foundation's parser, and members found where they are.
@Suite("JSON object scan")
struct JSONObjectScanTests {
    enum Verdict: Equatable { case object, notAnObject, invalid }

    static func scan(_ bytes: [UInt8]) -> Verdict {
        do {
            _ = try JSONObjectScan(bytes)
            return .object
        } catch .notAnObject {
            return .notAnObject
        } catch {
            return .invalid
        }
    }

    /// Foundation's verdict, except that it accepts a comma before `]` or `}`, which JSON (and vLLM's parser) does not.
    static func foundation(_ bytes: [UInt8]) -> Verdict {
        if hasTrailingComma(bytes) { return .invalid }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else { return .invalid }
        return parsed is [String: Any] ? .object : .notAnObject
    }

    static func hasTrailingComma(_ bytes: [UInt8]) -> Bool {
        var inString = false
        var escaped = false
        var lastOutside: UInt8 = 0
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            if byte == UInt8(ascii: "\"") { inString = true }
            if (byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}")) && lastOutside == UInt8(ascii: ",") { return true }
            if ![0x20, 0x09, 0x0A, 0x0D].contains(byte) { lastOutside = byte }
        }
        return false
    }

    @Test func locatesTheTopLevelMembers() throws {
        let text =
            #"{"model":"a\"b\u00e9", "messages" : [{"role":"user","content":"hi"}, {}], "stream":true, "n":-1.5e3, "x":{"model":"inner"}, "p":null}"#
        let body = try JSONObjectScan(Array(text.utf8))
        #expect(body.string("model") == "a\"bé")
        #expect(body["messages"]?.kind == .array(count: 2))
        #expect(body["stream"]?.kind == .bool)
        #expect(body["n"]?.kind == .number)
        #expect(body["x"]?.kind == .object)
        #expect(body["p"]?.kind == .null)
        #expect(body.members.map(\.key) == ["model", "messages", "stream", "n", "x", "p"], "nested keys are not members")
        #expect(String(decoding: body.bytes[try #require(body["n"]).range], as: UTF8.self) == "-1.5e3")
        #expect(body.string("messages") == nil, "not a string")
    }

    @Test func aRepeatedKeyMeansItsLastValue() throws {
        let body = try JSONObjectScan(Array(#"{"model":"first","model":"second"}"#.utf8))
        #expect(body.string("model") == "second")
    }

    @Test func replacingChangesOnlyThatValue() throws {
        let text = #"{"model": "demo-small", "temperature": 0.70, "messages": [{"role": "user", "content": "x"}]}"#
        let body = try JSONObjectScan(Array(text.utf8))
        let replaced = String(decoding: try #require(body.replacing("model", with: "sparksim/small-8b")), as: UTF8.self)
        #expect(replaced == #"{"model": "sparksim/small-8b", "temperature": 0.70, "messages": [{"role": "user", "content": "x"}]}"#)
    }

    @Test func agreesWithFoundationOnEdgeCases() {
        let cases: [String] = [
            "", " ", "{", "}", "{}", " {} ", "{}\n", "[]", "[1]", "1", "\"s\"", "null", "true",
            #"{"a":1}"#, #"{"a":01}"#, #"{"a":-0}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":-}"#, #"{"a":1e}"#, #"{"a":1e+5}"#,
            #"{"a":1E-5}"#, #"{"a":0.5e1}"#, #"{"a":+1}"#, #"{"a":"\x"}"#, #"{"a":"\u12G4"}"#, #"{"a":"\u00e9\ud83d\ude00"}"#,
            "{\"a\":\"tab\there\"}", #"{"a":true,}"#, #"{"a" 1}"#, #"{"a":[1,2,]}"#, #"{"a":[,1]}"#, #"{"a":nul}"#,
            #"{"a":nulls}"#, #"{"a":1} x"#, #"{"a":1}{"b":2}"#, #"{a:1}"#, #"{"a":'x'}"#, #"{"a":"x"#, #"{"a":[}"#,
            #"{"a":{"b":{"c":[true,false,null]}}}"#, #"{"":""}"#, #"{"a":"\/\b\f\n\r\t\\\""}"#, #"{"a":1,"a":2}"#,
        ]
        for text in cases {
            let bytes = Array(text.utf8)
            #expect(Self.scan(bytes) == Self.foundation(bytes), "\(text.debugDescription)")
        }
        let badUTF8: [UInt8] = Array(#"{"a":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)
        #expect(Self.scan(badUTF8) == .invalid)
    }

    @Test func nestingIsBounded() {
        let deep = { (levels: Int) in
            Array((String(repeating: #"{"a":"#, count: levels) + "1" + String(repeating: "}", count: levels)).utf8)
        }
        #expect(Self.scan(deep(JSONObjectScan.maxDepth)) == .object)
        #expect(Self.scan(deep(JSONObjectScan.maxDepth + 1)) == .invalid)
        #expect(Self.scan(deep(100_000)) == .invalid, "refused before the stack runs out")
    }

    /// Random documents, and the same documents with one byte changed, deleted or inserted: the scan and Foundation
    /// must agree on every one.
    @Test func agreesWithFoundationOnRandomDocuments() {
        var random = SeededGenerator(seed: 42)
        let alphabet = Array(#"{}[]:,"\ -+.eE0123456789abcfnrtu"#.utf8)
        func value(_ depth: Int) -> String {
            switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &random) {
            case 0: return ["0", "-1", "12.5", "3e7", "-0.25E-2", "7"].randomElement(using: &random)!
            case 1: return [#""x""#, #""""#, #""a\"b""#, #""\u00e9""#, #""tab\tq""#, #""é""#].randomElement(using: &random)!
            case 2: return ["true", "false", "null"].randomElement(using: &random)!
            case 3, 4: return #""s""#
            case 5: return "[" + (0..<Int.random(in: 0..<4, using: &random)).map { _ in value(depth + 1) }.joined(separator: ",") + "]"
            default:
                return "{"
                    + (0..<Int.random(in: 0..<4, using: &random)).map { index in #""k\#(index)": "# + value(depth + 1) }.joined(
                        separator: ", ") + "}"
            }
        }
        var disagreements: [String] = []
        for _ in 0..<2000 {
            var bytes = Array(value(0).utf8)
            if Bool.random(using: &random), !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[at] = alphabet.randomElement(using: &random)!
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet.randomElement(using: &random)!, at: at)
                }
            }
            if Self.scan(bytes) != Self.foundation(bytes) {
                disagreements.append(String(decoding: bytes, as: UTF8.self))
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }
}
