import Testing

@testable import SparkSim

@Suite("SparkSim vLLM load script")
struct VLLMLoadScriptTests {
    @Test func successfulLoadPrintsVLLMsLinesInOrder() {
        let script = VLLMLoadScript(model: "org/m", port: 8888, loadSeconds: 10, failure: nil)
        #expect(!script.fails)
        let texts = script.lines.map(\.text)
        let order = [
            "Starting to load model org/m...", "Loading safetensors checkpoint shards:", "Loading weights took",
            "Model loading took", "Available KV cache memory", "GPU KV cache size", "Capturing CUDA graphs",
            "Graph capturing finished", "init engine", "Starting vLLM server on http://0.0.0.0:8888",
            "Application startup complete.",
        ]
        var index = 0
        for expected in order {
            guard let found = texts[index...].firstIndex(where: { $0.hasPrefix(expected) }) else {
                Issue.record("'\(expected)' missing or out of order")
                return
            }
            index = found
        }
        #expect(texts.contains("Loading safetensors checkpoint shards: 100% Completed | 9/9 [00:36<00:00,  4.01s/it]"))
        #expect(script.lines.map(\.at) == script.lines.map(\.at).sorted(), "times never go backwards")
        #expect(script.lines.last?.at == 10)
    }

    @Test func oomAtSixtyPercentStopsTheWeightsThere() {
        let script = VLLMLoadScript(model: "m", port: 1, loadSeconds: 10, failure: .init("weights:60"))
        #expect(script.fails)
        let texts = script.lines.map(\.text)
        #expect(texts.contains { $0.contains("checkpoint shards:  60% Completed") })
        #expect(!texts.contains { $0.contains("checkpoint shards:  66%") })
        #expect(texts.contains { $0.contains("CUDA out of memory") })
        #expect(texts.last?.contains("Engine core initialization failed") == true)
        #expect(!texts.contains { $0.hasPrefix("Starting vLLM server") })
    }

    @Test func failureSpecParsing() {
        #expect(VLLMLoadScript.Failure("weights:60") == .init("weights:60"))
        #expect(VLLMLoadScript.Failure("cuda-graphs")?.percent == 50)
        #expect(VLLMLoadScript.Failure("startup")?.stage == .startup)
        #expect(VLLMLoadScript.Failure("weights:160") == nil)
        #expect(VLLMLoadScript.Failure("disk") == nil)
    }
}
