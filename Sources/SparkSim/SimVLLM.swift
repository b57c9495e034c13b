import Foundation
import Hummingbird

/// A simulated vLLM OpenAI server: refuses connections while it "loads", prints vLLM's load log with real timing,
/// can crash at a chosen stage, then serves `/health`, `/v1/models`, `/metrics`, chat and completions (with SSE).
public enum SimVLLM {
    public struct Settings: Sendable {
        public var model: String
        public var failure: VLLMLoadScript.Failure?
        public var tokensPerSecond: Double

        public init(model: String, failure: VLLMLoadScript.Failure? = nil, tokensPerSecond: Double = 50) {
            self.model = model
            self.failure = failure
            self.tokensPerSecond = tokensPerSecond
        }
    }

    /// Runs the load script, then the server. Exits the process with status 1 if the script crashes.
    public static func run(_ options: SimOptions, settings: Settings) async throws {
        if let pid = options.exitWithPID { SimServer.watchParent(pid) }
        let script = VLLMLoadScript(
            model: settings.model, port: options.port, loadSeconds: options.loadSeconds,
            failure: settings.failure)
        let split = script.lines.firstIndex { $0.text.hasPrefix("Starting vLLM server") } ?? script.lines.endIndex
        let start = ContinuousClock.now
        for line in script.lines[..<split] {
            try await Task.sleep(until: start + .milliseconds(Int(line.at * 1000)))
            SimLog.vllm(line.level, line.source, line.text)
        }
        if script.fails { exit(1) }
        let startupLines = Array(script.lines[split...])
        let state = EngineState()
        try await SimServer.run(router(settings: settings, state: state, options: options), options: options, name: "vllm") {
            for line in startupLines { SimLog.vllm(line.level, line.source, line.text) }
        }
    }

    actor EngineState {
        var running = 0
        var promptTokens = 0
        var generationTokens = 0
        var requests = 0

        func begin(prompt: Int) {
            running += 1
            requests += 1
            promptTokens += prompt
        }
        func end(generated: Int) {
            running -= 1
            generationTokens += generated
        }
        func snapshot() -> (Int, Int, Int, Int) { (running, promptTokens, generationTokens, requests) }
    }

    static func router(settings: Settings, state: EngineState, options: SimOptions) -> Router<BasicRequestContext> {
        let router = SimServer.router(options)
        let created = Int(Date().timeIntervalSince1970)
        router.get("/health") { _, _ in Response(status: .ok) }
        router.get("/v1/models") { _, _ in
            SimServer.json([
                "object": "list",
                "data": [
                    [
                        "id": settings.model, "object": "model", "created": created, "owned_by": "sparksim",
                        "root": settings.model, "max_model_len": 32768,
                    ]
                ],
            ])
        }
        router.get("/metrics") { _, _ in
            let (running, prompt, generated, requests) = await state.snapshot()
            let labels = "{model_name=\"\(settings.model)\"}"
            return SimServer.text(
                """
                # TYPE vllm:num_requests_running gauge
                vllm:num_requests_running\(labels) \(running).0
                # TYPE vllm:num_requests_waiting gauge
                vllm:num_requests_waiting\(labels) 0.0
                # TYPE vllm:kv_cache_usage_perc gauge
                vllm:kv_cache_usage_perc\(labels) \(min(1.0, Double(running) * 0.02))
                # TYPE vllm:prompt_tokens_total counter
                vllm:prompt_tokens_total\(labels) \(prompt).0
                # TYPE vllm:generation_tokens_total counter
                vllm:generation_tokens_total\(labels) \(generated).0
                # TYPE vllm:time_to_first_token_seconds histogram
                vllm:time_to_first_token_seconds_count\(labels) \(requests).0

                """)
        }
        router.post("/v1/chat/completions") { request, _ in
            try await complete(request, chat: true, settings: settings, state: state)
        }
        router.post("/v1/completions") { request, _ in
            try await complete(request, chat: false, settings: settings, state: state)
        }
        return router
    }

    static func error(_ message: String, type: String, status: HTTPResponse.Status, param: String? = nil) -> Response {
        SimServer.json(["error": ["message": message, "type": type, "param": param as Any, "code": Int(status.code)]], status: status)
    }

    static func complete(_ request: Request, chat: Bool, settings: Settings, state: EngineState) async throws -> Response {
        let body = try await request.body.collect(upTo: 4 * 1024 * 1024)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
            return error("Request body is not a JSON object", type: "BadRequestError", status: .badRequest)
        }
        let model = object["model"] as? String ?? settings.model
        guard model == settings.model else {
            return error("The model `\(model)` does not exist.", type: "NotFoundError", status: .notFound, param: "model")
        }
        let prompt: String
        if chat {
            guard let messages = object["messages"] as? [[String: Any]], !messages.isEmpty else {
                return error("`messages` must be a non-empty list", type: "BadRequestError", status: .badRequest, param: "messages")
            }
            prompt = messages.compactMap { $0["content"] as? String }.joined(separator: "\n")
        } else {
            guard let text = object["prompt"] as? String else {
                return error("`prompt` must be a string", type: "BadRequestError", status: .badRequest, param: "prompt")
            }
            prompt = text
        }
        let maxTokens = max(1, min(object["max_tokens"] as? Int ?? object["max_completion_tokens"] as? Int ?? 16, 4096))
        let tokens = SimText.answer(to: prompt, tokens: maxTokens)
        let promptTokens = SimText.tokenCount(prompt)
        let stream = object["stream"] as? Bool ?? false
        let includeUsage = (object["stream_options"] as? [String: Any])?["include_usage"] as? Bool ?? false
        let id = (chat ? "chatcmpl-" : "cmpl-") + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24).lowercased()
        let created = Int(Date().timeIntervalSince1970)
        let gap = Duration.milliseconds(Int(1000 / max(settings.tokensPerSecond, 0.1)))
        let finish = tokens.count >= maxTokens ? "length" : "stop"

        await state.begin(prompt: promptTokens)
        guard stream else {
            defer { Task { await state.end(generated: tokens.count) } }
            try await Task.sleep(for: gap * tokens.count)
            let text = tokens.joined()
            let choice: [String: Any] =
                chat
                ? ["index": 0, "message": ["role": "assistant", "content": text], "logprobs": NSNull(), "finish_reason": finish]
                : ["index": 0, "text": text, "logprobs": NSNull(), "finish_reason": finish]
            return SimServer.json([
                "id": id, "object": chat ? "chat.completion" : "text_completion", "created": created,
                "model": model, "choices": [choice],
                "usage": usageObject(prompt: promptTokens, completion: tokens.count),
            ])
        }
        let tokenCount = tokens.count
        let objectName = chat ? "chat.completion.chunk" : "text_completion"
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                var sent = 0
                defer { Task { [sent] in await state.end(generated: sent) } }
                func event(_ payload: [String: Any]) throws -> ByteBuffer {
                    let data = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
                    return ByteBuffer(string: "data: " + String(decoding: data, as: UTF8.self) + "\n\n")
                }
                let base: [String: Any] = ["id": id, "object": objectName, "created": created, "model": model]
                if chat {
                    var first = base
                    first["choices"] = [
                        ["index": 0, "delta": ["role": "assistant", "content": ""], "logprobs": NSNull(), "finish_reason": NSNull()]
                    ]
                    try await writer.write(event(first))
                }
                let clock = ContinuousClock.now
                for (index, token) in tokens.enumerated() {
                    try await Task.sleep(until: clock + gap * (index + 1))
                    var chunk = base
                    chunk["choices"] = [streamChoice(chat: chat, text: token, finish: nil)]
                    // When the sim sent the token (ms since 1970): lets tests measure what a proxy in between adds.
                    chunk["sparksim_sent_at_ms"] = Date().timeIntervalSince1970 * 1000
                    try await writer.write(event(chunk))
                    sent += 1
                }
                var last = base
                last["choices"] = [streamChoice(chat: chat, text: nil, finish: finish)]
                try await writer.write(event(last))
                if includeUsage {
                    var usageChunk = base
                    usageChunk["choices"] = [Any]()
                    usageChunk["usage"] = usageObject(prompt: promptTokens, completion: tokenCount)
                    try await writer.write(event(usageChunk))
                }
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await writer.finish(nil)
            })
    }
}

extension SimVLLM {
    static func streamChoice(chat: Bool, text: String?, finish: String?) -> [String: Any] {
        if chat {
            var delta: [String: Any] = [:]
            if let text { delta["content"] = text }
            return ["index": 0, "delta": delta, "logprobs": NSNull(), "finish_reason": finish as Any]
        }
        return ["index": 0, "text": text ?? "", "logprobs": NSNull(), "finish_reason": finish as Any]
    }

    static func usageObject(prompt: Int, completion: Int) -> [String: Any] {
        ["prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion]
    }
}

/// Deterministic text for simulated answers: the same prompt always gets the same tokens.
enum SimText {
    static let words = [
        "The", " cluster", " is", " simulated", " by", " SparkSim", ";", " this", " answer", " is",
        " deterministic", ",", " so", " tests", " can", " check", " every", " token", " that", " arrives", ".",
    ]

    static func answer(to prompt: String, tokens: Int) -> [String] {
        var seed = prompt.utf8.reduce(UInt64(1_469_598_103_934_665_603)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
        var output: [String] = []
        for _ in 0..<tokens {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            output.append(words[Int((seed >> 33) % UInt64(words.count))])
        }
        return output
    }

    static func tokenCount(_ text: String) -> Int {
        max(1, text.split(whereSeparator: { $0.isWhitespace }).count)
    }
}
