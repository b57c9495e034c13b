import Foundation
import Hummingbird

/// The OpenAI-compatible LLM routes: `/v1/models`, `/v1/chat/completions`, `/v1/completions`.
struct LLMGatewayController {
    let inventory: Inventory
    let board: StatusBoard
    /// The swap running now, if any (`SwapOrchestrator.current`).
    let currentSwap: @Sendable () -> SwapRecord?
    let core: UpstreamCore

    static let bodyLimit = 8 * 1024 * 1024

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/v1/models") { _, _ in models() }
        router.post("/v1/chat/completions") { request, context in
            try await core.observer.observing(route: "chat", upstream: llmService()?.id ?? "none") {
                try await complete(request, context: context, route: "chat", path: "/v1/chat/completions")
            }
        }
        router.post("/v1/completions") { request, context in
            try await core.observer.observing(route: "completions", upstream: llmService()?.id ?? "none") {
                try await complete(request, context: context, route: "completions", path: "/v1/completions")
            }
        }
    }

    func models() -> Response {
        let created = Double(Int(Date().timeIntervalSince1970))
        // Only what a serving LLM lists: a model whose vLLM died is not offered (the status board says so too).
        let view = llmService().map { board.gatewayView(of: $0.id) }
        var entries: [(id: String, kind: ServiceKind)] = (view.map { $0.state.isServing ? $0.served : [] } ?? []).map { ($0, .vllm) }
        // Then the speech, embedding and rerank models, while their services serve.
        for service in inventory.services where service.kind != .vllm && service.kind != .qdrant {
            guard let model = service.api.model ?? Self.defaultModel[service.kind], !entries.contains(where: { $0.id == model }),
                board.gatewayView(of: service.id).state.isServing
            else { continue }
            entries.append((model, service.kind))
        }
        let data: [JSONValue] = entries.map { entry in
            .object([
                "id": .string(entry.id), "object": .string("model"), "created": .number(created), "owned_by": .string("sparkdeck"),
                "kind": .string(Self.kindName[entry.kind] ?? entry.kind.rawValue),
            ])
        }
        return Response.json(.object(["object": .string("list"), "data": .array(data)]))
    }

    /// The model a speech service is listed under when the inventory names none (`services[].api.model`): the names
    /// the upstreams answer to (UPSTREAMS.md). An embedder or reranker is listed only when the inventory names it.
    static let defaultModel: [ServiceKind: String] = [.asr: "parakeet", .tts: "kokoro"]
    /// `kind` of a listed model, so an app can tell the LLM from the others.
    static let kindName: [ServiceKind: String] = [.vllm: "llm", .asr: "transcription", .tts: "speech"]

    func complete(_ request: Request, context: some RequestContext, route: String, path: String) async throws -> Response {
        let (bytes, body) = try await JSONBody.scan(request, context: context, limit: Self.bodyLimit)
        guard let model = body.string("model"), !model.isEmpty else {
            throw APIError.invalidRequest("`model` is required: the name GET /v1/models lists.", param: "model")
        }
        if route == "chat" {
            guard case .array(let count) = body["messages"]?.kind, count > 0 else {
                throw APIError.invalidRequest("`messages` must be a non-empty list of {role, content}.", param: "messages")
            }
        } else if (body["prompt"]?.kind ?? .null) == .null {
            throw APIError.invalidRequest("`prompt` is required.", param: "prompt")
        }
        let stream = body["stream"]
        if let stream, stream.kind != .bool, stream.kind != .null {
            throw APIError.invalidRequest("`stream` must be true or false.", param: "stream")
        }
        let streaming = stream.map { body.bytes[$0.range].first == UInt8(ascii: "t") } ?? false

        guard let service = llmService() else {
            var error = APIError(
                .serviceUnavailable, type: "upstream_unavailable", code: "no_model_loaded",
                message: "The inventory has no vllm service; add one to use the LLM gateway.")
            error.headers[.retryAfter] = "10"
            throw error
        }
        let swapWait = currentSwap() == nil ? Duration.zero : try await waitOutSwap(service: service)
        let (state, served) = board.gatewayView(of: service.id)
        guard state.isServing else {
            var error = APIError(
                .serviceUnavailable, type: "upstream_unavailable", code: "upstream_down",
                message: "The LLM service \(service.id) is not answering right now; retry shortly.")
            error.headers[.retryAfter] = "5"
            throw error.from(service, waited: swapWait)
        }
        guard let loaded = served.first else {
            var error = APIError(
                .serviceUnavailable, type: "upstream_unavailable", code: "no_model_loaded",
                message: "No model is loaded on the LLM node; load one from the dashboard or POST /api/swaps.")
            error.headers[.retryAfter] = "10"
            throw error.from(service, waited: swapWait)
        }
        var payload = bytes
        if !served.contains(model) {
            // A recipe id names its served model.
            guard let recipe = inventory.model(model), served.contains(recipe.servedName) else {
                throw APIError(
                    .notFound, type: "invalid_request_error", code: "model_not_found",
                    message: "The model `\(model)` is not loaded; the loaded model is `\(loaded)`. Use it, or load `\(model)` first.",
                    param: "model"
                ).from(service, waited: swapWait)
            }
            // Only the model's bytes change; the rest of the request goes on exactly as the client wrote it.
            payload = ByteBuffer(bytes: body.replacing("model", with: recipe.servedName) ?? body.bytes)
        }
        let currentSwap = self.currentSwap
        let observer = core.observer
        // A request that queued for a slot may find a swap begun meanwhile: it gets 503 at once instead of holding a
        // slot the swap's drain waits for, and of reaching a model about to stop.
        let noSwapBegun: @Sendable () throws -> Void = {
            if let swap = currentSwap() { throw Self.swapping(swap) }
        }
        let outbound = UpstreamRequest(route: route, path: path, body: .bytes(payload), streaming: streaming, waited: swapWait)
        let app = RequestApp.current
        return try await core.forward(outbound, to: Upstream(service: service), serving: true, whenAdmitted: noSwapBegun) { answer in
            if let usage = TokenUsage(in: answer) { observer.tokens(route: route, upstream: service.id, usage: usage, app: app) }
        }
    }

    /// Waits, up to the service's `swap_wait_ms`, for the running swap to end and the LLM to serve again. Past
    /// that (or at once, with the default 0): `503 model_swapping` with the swap's remaining ETA.
    func waitOutSwap(service: ClusterService) async throws -> Duration {
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(service.limits.swapWaitMs)
        while true {
            let swap = currentSwap()
            if swap == nil, board.gatewayView(of: service.id).state.isServing { return ContinuousClock.now - started }
            guard ContinuousClock.now < deadline else {
                guard let swap else { return ContinuousClock.now - started }
                throw Self.swapping(swap).from(service, waited: ContinuousClock.now - started)
            }
            // Polled: a swap takes tens of seconds, so a tenth of a second more is nothing.
            try await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
        }
    }

    /// `503 model_swapping`, with the swap's remaining ETA as `Retry-After`.
    static func swapping(_ swap: SwapRecord) -> APIError {
        let eta = Int((swap.etaSeconds(now: Timestamp.now()) ?? 30).rounded(.up))
        var error = APIError(
            .serviceUnavailable, type: "model_swapping", code: "model_swapping",
            message: "The LLM is being swapped to \(swap.model) (\(swap.state.rawValue)); retry in about \(eta) s.")
        error.headers[.retryAfter] = "\(max(1, eta))"
        return error
    }

    func llmService() -> ClusterService? {
        inventory.services(of: .vllm).first
    }
}
