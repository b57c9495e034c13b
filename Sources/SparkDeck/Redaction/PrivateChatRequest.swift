import Foundation

/// The body of a private chat request as it may leave the LAN. Fields that hold no free text go as they are; every
/// text (messages, `stop`, tool and schema descriptions, enum values, tool-call arguments and ids) is scrubbed with
/// the conversation's session; names (of tools and their parameters) go as they are, and only when the scrubber finds
/// nothing in them; any other field is refused with an error naming it, so nothing unscrubbed is ever sent. Names
/// are learned from all the request's text before any of it is scrubbed. Pure.
struct PrivateChatRequest {
    let scrubber: Scrubber

    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]
    static let numberFields: Set<String> = [
        "temperature", "top_p", "max_tokens", "max_completion_tokens", "n",
        "presence_penalty", "frequency_penalty", "seed", "top_logprobs",
    ]
    static let booleanFields: Set<String> = ["stream", "logprobs", "parallel_tool_calls"]
    static let otherFields: Set<String> = [
        "model", "messages", "stream_options", "logit_bias", "response_format",
        "tool_choice", "stop", "tools",
    ]
    static let messageFields: Set<String> = ["role", "content", "name", "tool_calls", "tool_call_id"]
    static let schemaTypes: Set<String> = ["string", "number", "integer", "boolean", "object", "array", "null"]
    static let schemaNumbers: Set<String> = [
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minLength", "maxLength", "minItems", "maxItems", "minProperties",
        "maxProperties", "uniqueItems", "nullable",
    ]

    /// The body to send: checked whole first, then scrubbed with `session`.
    func scrubbed(_ body: [String: Any], session: inout ScrubSession, stop: CancelFlag? = nil) throws -> [String: Any] {
        var reading = Walk(scrubber: scrubber, session: session, texts: [])
        _ = try reading.body(body)
        scrubber.learnNames(in: reading.texts ?? [], session: &session)
        var scrubbing = Walk(scrubber: scrubber, session: session, texts: nil, stop: stop)
        let scrubbed = try scrubbing.body(body)
        session = scrubbing.session
        return scrubbed
    }

    static func refused(_ path: String, _ why: String = "cannot be scrubbed") -> APIError {
        .invalidRequest("`\(path)` \(why), so the private endpoint cannot send it; remove it. Nothing was sent.", param: path)
    }

    static func invalid(_ path: String, _ expected: String) -> APIError {
        .invalidRequest("`\(path)` must be \(expected). Nothing was sent.", param: path)
    }

    static func isNumber(_ value: Any) -> Bool {
        !(value is String) && (value is NSNumber || value is Bool || value is Int || value is Double)
    }

    /// One pass over a body. With `texts` set it only reads (collecting every string it would scrub); without, it
    /// scrubs them.
    struct Walk {
        let scrubber: Scrubber
        var session: ScrubSession
        var texts: [String]?
        var stop: CancelFlag? = nil

        mutating func text(_ value: Any, at path: String) throws -> String {
            guard let value = value as? String else { throw invalid(path, "a string") }
            if texts != nil {
                texts?.append(value)
                return value
            }
            if stop?.isSet == true { throw CancellationError() }
            return scrubber.scrub(value, session: &session).text
        }

        /// A number is sent as written, so its digits must be nothing the scrubber would replace (a card number as
        /// a `seed` or an `enum` value).
        mutating func number(_ value: Any, at path: String) throws -> Any {
            guard isNumber(value) else { throw invalid(path, "a number") }
            guard texts == nil, let number = value as? NSNumber, !(value is Bool) else { return value }
            let digits = number.stringValue
            guard scrubber.scrub(digits, session: &session).text == digits else {
                throw refused(path, "is a number that holds personal data and is sent as written; change it")
            }
            return value
        }

        /// The model's name is sent as written: a plain model id (letters, digits, `.` `_` `-` `:` `/`) in which
        /// the scrubber finds nothing; anything else is refused, never sent.
        mutating func model(_ value: Any) throws -> String {
            guard let model = value as? String, !model.isEmpty, model.utf8.count <= 128,
                model.utf8.allSatisfy({ $0.isAlnum || $0 == .dot || $0 == .underscore || $0 == .hyphen || $0 == .colon || $0 == .slash })
            else {
                throw refused("model", "is not a model id (letters, digits, '.', '_', '-', ':', '/'; at most 128)")
            }
            return try name(model, at: "model")
        }

        /// A name is sent as written, so it must hold nothing the scrubber would replace.
        mutating func name(_ value: Any, at path: String) throws -> String {
            guard let value = value as? String else { throw invalid(path, "a string") }
            if texts != nil {
                texts?.append(value)
                return value
            }
            guard scrubber.scrub(value, session: &session).text == value else {
                throw refused(path, "holds personal data ('\(value)') and is sent as written; rename it")
            }
            return value
        }

        mutating func body(_ body: [String: Any]) throws -> [String: Any] {
            guard let messages = body["messages"] as? [Any], !messages.isEmpty else {
                throw APIError.invalidRequest("`messages` must be a non-empty list of {role, content}.", param: "messages")
            }
            var out: [String: Any] = [:]
            // In key order, so the same request always names the same field first.
            for (key, value) in body.sorted(by: { $0.key < $1.key }) {
                let known = numberFields.contains(key) || booleanFields.contains(key) || otherFields.contains(key)
                if value is NSNull {
                    // A null says nothing: a known field keeps it, another one is left out.
                    if known { out[key] = value }
                    continue
                }
                switch key {
                case _ where numberFields.contains(key):
                    out[key] = try number(value, at: key)
                case _ where booleanFields.contains(key):
                    guard isNumber(value) else { throw invalid(key, "true or false") }
                    out[key] = value
                case "model":
                    out[key] = try model(value)
                case "messages":
                    var scrubbed: [Any] = []
                    for (index, message) in messages.enumerated() { scrubbed.append(try self.message(message, at: "messages[\(index)]")) }
                    out[key] = scrubbed
                case "stream_options":
                    guard let options = value as? [String: Any] else { throw invalid(key, "an object") }
                    for (option, setting) in options {
                        guard option == "include_usage" || option == "include_obfuscation" else { throw refused(key + "." + option) }
                        guard isNumber(setting) else { throw invalid(key + "." + option, "true or false") }
                    }
                    out[key] = options
                case "logit_bias":
                    guard let biases = value as? [String: Any] else { throw invalid(key, "an object of token ids to numbers") }
                    for (token, bias) in biases
                    where token.isEmpty || !token.allSatisfy(\.isASCII) || !token.allSatisfy(\.isNumber) || !isNumber(bias) {
                        throw invalid(key, "an object of token ids (digits) to numbers")
                    }
                    out[key] = biases
                case "response_format":
                    guard let format = value as? [String: Any], format.count == 1,
                        let type = format["type"] as? String, type == "text" || type == "json_object"
                    else {
                        throw refused(
                            key,
                            "other than {\"type\": \"text\"} or {\"type\": \"json_object\"} cannot be scrubbed (a json_schema holds free text)"
                        )
                    }
                    out[key] = format
                case "tool_choice":
                    guard let choice = value as? String, ["none", "auto", "required"].contains(choice) else {
                        throw invalid(key, "\"none\", \"auto\" or \"required\" (naming one tool is not supported privately)")
                    }
                    out[key] = choice
                case "stop":
                    if let stops = value as? [Any] {
                        var scrubbed: [String] = []
                        for (index, stop) in stops.enumerated() { scrubbed.append(try text(stop, at: "stop[\(index)]")) }
                        out[key] = scrubbed
                    } else {
                        out[key] = try text(value, at: key)
                    }
                case "tools":
                    guard let tools = value as? [Any] else { throw invalid(key, "a list of function tools") }
                    var scrubbed: [Any] = []
                    for (index, tool) in tools.enumerated() { scrubbed.append(try self.tool(tool, at: "tools[\(index)]")) }
                    out[key] = scrubbed
                default:
                    throw refused(key)
                }
            }
            return out
        }

        mutating func message(_ value: Any, at path: String) throws -> [String: Any] {
            guard let message = value as? [String: Any] else { throw invalid(path, "an object {role, content}") }
            guard let role = message["role"] as? String, roles.contains(role) else {
                throw invalid(path + ".role", "one of system, developer, user, assistant, tool")
            }
            var out: [String: Any] = [:]
            for (key, value) in message.sorted(by: { $0.key < $1.key }) {
                let at = path + "." + key
                if value is NSNull {
                    if messageFields.contains(key) { out[key] = value }
                    continue
                }
                switch key {
                case "role":
                    out[key] = role
                case "content":
                    if let parts = value as? [Any] {
                        var scrubbed: [Any] = []
                        for (index, part) in parts.enumerated() { scrubbed.append(try self.part(part, at: at + "[\(index)]")) }
                        out[key] = scrubbed
                    } else {
                        out[key] = try text(value, at: at)
                    }
                case "name", "tool_call_id":
                    out[key] = try text(value, at: at)
                case "tool_calls":
                    guard let calls = value as? [Any] else { throw invalid(at, "a list of tool calls") }
                    var scrubbed: [Any] = []
                    for (index, call) in calls.enumerated() { scrubbed.append(try toolCall(call, at: at + "[\(index)]")) }
                    out[key] = scrubbed
                default:
                    throw refused(at)
                }
            }
            return out
        }

        mutating func part(_ value: Any, at path: String) throws -> [String: Any] {
            guard let part = value as? [String: Any] else { throw invalid(path, "a content part object") }
            guard part["type"] as? String == "text" else {
                throw APIError.invalidRequest(
                    "`\(path)` is a \(part["type"] ?? "?") part: only text parts can be sent privately; nothing was sent.", param: path)
            }
            for key in part.keys where key != "type" && key != "text" { throw refused(path + "." + key) }
            return ["type": "text", "text": try text(part["text"] as Any, at: path + ".text")]
        }

        mutating func toolCall(_ value: Any, at path: String) throws -> [String: Any] {
            guard let call = value as? [String: Any] else { throw invalid(path, "a tool call object") }
            guard call["type"] as? String == "function" else {
                throw refused(path, "is not a function call (\(call["type"] ?? "no type")) and cannot be scrubbed")
            }
            var out: [String: Any] = ["type": "function"]
            for (key, value) in call.sorted(by: { $0.key < $1.key }) where key != "type" {
                let at = path + "." + key
                switch key {
                case "id":
                    out[key] = try text(value, at: at)
                case "function":
                    guard let function = value as? [String: Any] else { throw invalid(at, "an object {name, arguments}") }
                    var scrubbed: [String: Any] = [:]
                    for (field, value) in function.sorted(by: { $0.key < $1.key }) {
                        switch field {
                        case "name": scrubbed[field] = try name(value, at: at + ".name")
                        case "arguments": scrubbed[field] = try text(value, at: at + ".arguments")
                        default: throw refused(at + "." + field)
                        }
                    }
                    out[key] = scrubbed
                default:
                    throw refused(at)
                }
            }
            return out
        }

        mutating func tool(_ value: Any, at path: String) throws -> [String: Any] {
            guard let tool = value as? [String: Any], tool["type"] as? String == "function",
                let function = tool["function"] as? [String: Any]
            else {
                throw refused(path, "is not a function tool {type: function, function: {...}} and cannot be scrubbed")
            }
            for key in tool.keys where key != "type" && key != "function" { throw refused(path + "." + key) }
            var scrubbed: [String: Any] = [:]
            for (key, value) in function.sorted(by: { $0.key < $1.key }) {
                let at = path + ".function." + key
                switch key {
                case "name": scrubbed[key] = try name(value, at: at)
                case "description": scrubbed[key] = try text(value, at: at)
                case "parameters": scrubbed[key] = try schema(value, at: at)
                case "strict":
                    guard isNumber(value) else { throw invalid(at, "true or false") }
                    scrubbed[key] = value
                default: throw refused(at)
                }
            }
            return ["type": "function", "function": scrubbed]
        }

        /// A JSON schema: descriptions, titles and example values are scrubbed, property names must be clean,
        /// keywords outside a fixed list are refused.
        mutating func schema(_ value: Any, at path: String) throws -> Any {
            if isNumber(value) { return value }
            guard let keywords = value as? [String: Any] else { throw invalid(path, "a JSON schema object") }
            var out: [String: Any] = [:]
            for (key, value) in keywords.sorted(by: { $0.key < $1.key }) {
                let at = path + "." + key
                switch key {
                case "type":
                    let types = value as? [Any] ?? [value]
                    guard types.allSatisfy({ ($0 as? String).map(schemaTypes.contains) ?? false }) else {
                        throw invalid(at, "a JSON schema type (\(schemaTypes.sorted().joined(separator: ", ")))")
                    }
                    out[key] = value
                case "description", "title":
                    out[key] = try text(value, at: at)
                case "properties", "$defs", "definitions":
                    guard let members = value as? [String: Any] else { throw invalid(at, "an object of schemas") }
                    var scrubbed: [String: Any] = [:]
                    for (member, subschema) in members.sorted(by: { $0.key < $1.key }) {
                        scrubbed[try name(member, at: at + "." + member)] = try schema(subschema, at: at + "." + member)
                    }
                    out[key] = scrubbed
                case "required":
                    guard let names = value as? [Any] else { throw invalid(at, "a list of property names") }
                    var checked: [String] = []
                    for (index, member) in names.enumerated() { checked.append(try name(member, at: at + "[\(index)]")) }
                    out[key] = checked
                case "items", "additionalProperties", "not":
                    out[key] = try schema(value, at: at)
                case "anyOf", "oneOf", "allOf", "prefixItems":
                    guard let schemas = value as? [Any] else { throw invalid(at, "a list of schemas") }
                    var scrubbed: [Any] = []
                    for (index, subschema) in schemas.enumerated() { scrubbed.append(try schema(subschema, at: at + "[\(index)]")) }
                    out[key] = scrubbed
                case "enum", "examples":
                    guard let values = value as? [Any] else { throw invalid(at, "a list") }
                    var scrubbed: [Any] = []
                    for (index, literal) in values.enumerated() { scrubbed.append(try self.literal(literal, at: at + "[\(index)]")) }
                    out[key] = scrubbed
                case "const", "default":
                    out[key] = try literal(value, at: at)
                case "$ref", "format":
                    out[key] = try name(value, at: at)
                case "pattern":
                    // Sent as written; read without its escapes too (`maria@example\\.com` is an address).
                    guard let pattern = value as? String else { throw invalid(at, "a string") }
                    _ = try name(pattern.replacingOccurrences(of: "\\", with: ""), at: at)
                    out[key] = try name(pattern, at: at)
                case _ where schemaNumbers.contains(key):
                    out[key] = try number(value, at: at)
                default:
                    throw refused(at)
                }
            }
            return out
        }

        /// A value in a schema: a string is scrubbed (the answer's arguments are rehydrated, so a choice among
        /// scrubbed values comes back as the original).
        mutating func literal(_ value: Any, at path: String) throws -> Any {
            if value is NSNull || value is Bool { return value }
            if isNumber(value) { return try number(value, at: path) }
            guard value is String else { throw refused(path, "is not a string, number, boolean or null") }
            return try text(value, at: path)
        }
    }
}
