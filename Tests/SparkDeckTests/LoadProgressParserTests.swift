import Testing

@testable import SparkDeck
@testable import SparkSim

@Suite("vLLM log progress parser")
struct LoadProgressParserTests {
    @Test func readsEveryStageFromRealLines() {
        func progress(_ line: String) -> LoadProgress? {
            if case .progress(let progress) = LoadProgressParser.parse(line) { return progress }
            return nil
        }
        #expect(progress("INFO 11-27 01:20:00 [gpu_model_runner.py:1907] Starting to load model Qwen/Qwen3-30B...")?.stage == .starting)
        let shards = progress(
            "INFO 11-27 01:20:05 [default_loader.py:268] Loading safetensors checkpoint shards:  56% Completed | 5/9 [00:20<00:16,  4.01s/it]"
        )
        #expect(
            shards
                == LoadProgress(
                    stage: .weights, percent: 33,
                    detail: "Loading safetensors checkpoint shards:  56% Completed | 5/9 [00:20<00:16,  4.01s/it]"))
        #expect(progress("Loading safetensors using Fastsafetensor loader: 24% Completed | 10/42")?.percent == 17)
        #expect(
            progress("(EngineCore_DP0 pid=211) INFO 11-27 01:21:00 [gpu_worker.py:276] Available KV cache memory: 61.3 GiB")?.stage
                == .kvCache)
        #expect(progress("Capturing CUDA graphs (mixed prefill-decode, PIECEWISE): 45%")?.percent == 76)
        #expect(progress("Starting vLLM server on http://0.0.0.0:8888")?.stage == .startup)
        #expect(progress("INFO 11-27 01:22:00 [on.py:62] Application startup complete.")?.stage == .ready)
        #expect(LoadProgressParser.parse("INFO 11-27 01:22:00 [metrics.py:1] Avg prompt throughput: 0.0 tokens/s") == nil)
    }

    @Test func failureLinesFailFast() {
        for line in [
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.",
            "ERROR 11-27 01:20:00 [core.py:700] RuntimeError: Engine core initialization failed. See root cause above.",
            "ValueError: Tensor parallel size (2) exceeds available GPUs (1)",
            "docker: Error response from daemon: Conflict. The container name \"/vllm_node\" is already in use by container \"abc\".",
        ] {
            guard case .failure = LoadProgressParser.parse(line) else {
                Issue.record("not a failure: \(line)")
                continue
            }
        }
        #expect(LoadProgressParser.parse("Traceback (most recent call last):") == nil)
    }

    @Test func sparkSimsLoadScriptReadsAsAnIncreasingLoad() {
        let script = VLLMLoadScript(model: "m", port: 1, loadSeconds: 10, failure: nil)
        var percents: [Int] = []
        for line in script.lines {
            if case .progress(let progress) = LoadProgressParser.parse("\(line.level) 11-27 01:20:00 [\(line.source)] \(line.text)") {
                percents.append(progress.percent)
            }
        }
        #expect(percents == percents.sorted())
        #expect(percents.first == 2 && percents.last == 99)
        #expect(percents.count >= 15)
        let failing = VLLMLoadScript(model: "m", port: 1, loadSeconds: 10, failure: .init("weights:60"))
        let events = failing.lines.compactMap { LoadProgressParser.parse("\($0.level) 11-27 01:20:00 [\($0.source)] \($0.text)") }
        guard case .failure(let cause) = events.first(where: { if case .failure = $0 { true } else { false } }) else {
            Issue.record("the OOM line is not read as a failure")
            return
        }
        #expect(cause.contains("CUDA out of memory"))
    }
}
