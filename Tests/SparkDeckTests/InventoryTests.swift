import Foundation
import Testing

@testable import SparkDeck

@Suite("Inventory validation")
struct InventoryTests {
    static let valid = """
        cluster:
          name: Test cluster
        nodes:
          - id: spark-1
            host: 192.0.2.10
            ssh: { user: owner, port: 22, key: /data/ssh/id_ed25519 }
          - id: spark-2
            host: 192.0.2.11
            ssh: { user: owner }
        services:
          - id: vllm
            kind: vllm
            node: spark-1
            port: 8888
          - id: asr
            kind: asr
            node: spark-2
            port: 8000
            health: { path: /health, interval_ms: 200, timeout_ms: 600, degraded_ms: 300 }
            limits: { max_in_flight: 2, queue: 4, queue_timeout_ms: 10000 }
          - id: qdrant
            kind: qdrant
            node: spark-2
            url: http://192.0.2.11:6333
        default_model: small
        models:
          - id: small
            name: Small model
            served_name: org/small
            service: vllm
            nodes: [spark-1]
            memory_gib: 20
            load_seconds: 90
            params: { recipe: small-recipe, port: "8888" }
            commands:
              launch: ./run-recipe.sh {recipe} --solo -d --port {port}
              stop: docker stop vllm_node
              logs: docker logs -f vllm_node
        actions:
          - id: restart-asr
            name: Restart ASR
            node: spark-2
            command: docker restart parakeet-asr
            description: Restarts the ASR container; transcriptions fail for about a minute.
        """

    /// Parses `yaml` expecting failure; returns the issues.
    func issues(_ yaml: String) -> [InventoryIssue] {
        do {
            _ = try InventoryLoader.parse(yaml, file: "test.yaml")
            Issue.record("expected the inventory to be refused")
            return []
        } catch {
            return error.issues
        }
    }

    /// Replaces `old` in the valid inventory and returns the issues.
    func issues(replacing old: String, with new: String) -> [InventoryIssue] {
        #expect(Self.valid.contains(old), "test bug: '\(old)' not in the valid inventory")
        return issues(Self.valid.replacingOccurrences(of: old, with: new))
    }

    func expectIssue(_ issues: [InventoryIssue], path: String, contains text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            issues.contains { $0.path == path && $0.message.contains(text) },
            "no issue at \(path) saying '\(text)'; got: \(issues.map(\.description))", sourceLocation: sourceLocation)
    }

    @Test func validInventoryLoads() throws {
        let inventory = try InventoryLoader.parse(Self.valid, file: "test.yaml")
        #expect(inventory.clusterName == "Test cluster")
        #expect(inventory.nodes.map(\.id) == ["spark-1", "spark-2"])
        #expect(inventory.nodes[0].ssh == SSHSettings(user: "owner", port: 22, keyPath: "/data/ssh/id_ed25519"))
        #expect(inventory.service("vllm")?.baseURL == "http://192.0.2.10:8888")
        #expect(inventory.service("vllm")?.health.path == "/health")
        #expect(inventory.service("qdrant")?.health.path == "/readyz")
        #expect(inventory.service("qdrant")?.baseURL == "http://192.0.2.11:6333")
        #expect(inventory.service("asr")?.health.intervalMs == 200)
        #expect(inventory.service("asr")?.limits == AdmissionLimits(maxInFlight: 2, queueDepth: 4, queueTimeoutMs: 10_000))
        #expect(inventory.model("small")?.expectedLoadSeconds == 90)
        #expect(inventory.defaultModel == "small")
        #expect(inventory.actions.first?.description.hasPrefix("Restarts") == true)
        let launch = try inventory.model("small")!.commands.launch.render(inventory.model("small")!.templateValues)
        #expect(launch == "./run-recipe.sh 'small-recipe' --solo -d --port '8888'")
    }

    @Test func errorsNameTheFileKeyPathAndLine() {
        do {
            _ = try InventoryLoader.parse(Self.valid.replacingOccurrences(of: "port: 8888", with: "port: 88888"), file: "cluster.yaml")
            Issue.record("expected a refusal")
        } catch {
            let text = error.description
            #expect(text.contains("cluster.yaml:"))
            #expect(text.contains("services[0].port: must be from 1 to 65535, got 88888"))
            #expect(error.issues.first?.line == 14)
        }
    }

    @Test func notYAMLAndEmptyAndNotAMapping() {
        #expect(issues("nodes: [unclosed").first?.message.contains("is not valid YAML") == true)
        #expect(issues("").first?.message.contains("is empty") == true)
        #expect(issues("- a\n- b").first?.message.contains("must be a mapping") == true)
    }

    @Test func missingFileIsReported() {
        #expect(throws: InventoryError.self) { try InventoryLoader.load(path: "/nonexistent/inventory.yaml") }
        do { _ = try InventoryLoader.load(path: "/nonexistent/inventory.yaml") } catch {
            #expect(error.description.contains("cannot be read"))
        }
    }

    @Test func unknownKeysAreRefusedButXKeysAreNot() {
        expectIssue(issues(replacing: "cluster:\n  name", with: "clustr:\n  name"), path: "clustr", contains: "unknown key")
        expectIssue(
            issues(replacing: "    host: 192.0.2.10", with: "    hots: 192.0.2.10"), path: "nodes[0].hots", contains: "the keys here are")
        #expect((try? InventoryLoader.parse(Self.valid + "\nx-notes: anything\n", file: "t")) != nil)
    }

    @Test func mergeKeysShareParametersBetweenRecipes() throws {
        let yaml =
            Self.valid.replacingOccurrences(
                of: "params: { recipe: small-recipe, port: \"8888\" }",
                with: "params: { <<: *shared, recipe: small-recipe }")
            + "\nx-shared: &shared { port: \"9000\", recipe: ignored }\n"
        // The anchor must come before its use.
        let reordered =
            "x-shared: &shared { port: \"9000\", recipe: ignored }\n"
            + yaml.replacingOccurrences(of: "\nx-shared: &shared { port: \"9000\", recipe: ignored }\n", with: "")
        let inventory = try InventoryLoader.parse(reordered, file: "t")
        #expect(inventory.model("small")?.params == ["port": "9000", "recipe": "small-recipe"])
    }

    @Test func redactionSettings() throws {
        let yaml =
            Self.valid
            + "\nredaction:\n  custom_terms: [Bluefin, Project Nightjar]\n  external: { url: https://api.example.com/v1/, api_key_env: EXTERNAL_KEY }\n"
        let inventory = try InventoryLoader.parse(yaml, file: "t")
        #expect(inventory.redactionTerms == ["Bluefin", "Project Nightjar"])
        #expect(inventory.externalModel == ExternalEndpoint(url: "https://api.example.com/v1", apiKeyEnv: "EXTERNAL_KEY", apiKeyFile: nil))
        expectIssue(
            issues(Self.valid + "\nredaction:\n  external: { url: ftp://x }\n"), path: "redaction.external.url", contains: "must be an http"
        )
        expectIssue(
            issues(Self.valid + "\nredaction:\n  custom_terms: [x]\n"), path: "redaction.custom_terms[0]", contains: "at least 2 characters"
        )
    }

    @Test func nodesAndServicesAreRequired() {
        expectIssue(issues("services: []"), path: "nodes", contains: "is missing")
        expectIssue(issues("nodes: []\nservices: []"), path: "nodes", contains: "is empty")
        expectIssue(issues("nodes: 5\nservices: []"), path: "nodes", contains: "must be a list")
    }

    @Test func nodeIdsAndHosts() {
        expectIssue(
            issues(replacing: "id: spark-1\n    host", with: "id: Spark_1\n    host"), path: "nodes[0].id", contains: "is not a valid id")
        expectIssue(
            issues(replacing: "- id: spark-2\n    host", with: "- id: spark-1\n    host"), path: "nodes",
            contains: "used by more than one entry")
        expectIssue(
            issues(replacing: "host: 192.0.2.10", with: "host: <spark-1-ip>"), path: "nodes[0].host", contains: "placeholder <spark-1-ip>")
        expectIssue(issues(replacing: "host: 192.0.2.10", with: "host: spark-1.local"), path: "nodes[0].host", contains: "mDNS name")
        expectIssue(
            issues(replacing: "host: 192.0.2.10", with: "host: spark.example.com"), path: "nodes[0].host", contains: "not an IPv4 address")
        expectIssue(
            issues(replacing: "host: 192.0.2.10", with: "host: 192.0.2.300"), path: "nodes[0].host", contains: "not an IPv4 address")
        expectIssue(
            issues(replacing: "host: 192.0.2.10", with: "host: 192.0.2.010"), path: "nodes[0].host", contains: "not an IPv4 address")
        expectIssue(issues(replacing: "    host: 192.0.2.10\n", with: ""), path: "nodes[0].host", contains: "is missing")
        expectIssue(issues(replacing: "host: 192.0.2.10", with: "host: [a, b]"), path: "nodes[0].host", contains: "must be a single value")
    }

    @Test func nodeProbes() throws {
        let yaml = Self.valid.replacingOccurrences(
            of: "    ssh: { user: owner }\n",
            with: "    ssh: { user: owner }\n    probes: { containers: podman ps, interval_seconds: 10 }\n")
        let node = try #require(try InventoryLoader.parse(yaml, file: "t").node("spark-2"))
        #expect(node.probes.containers == "podman ps")
        #expect(node.probes.gpu == GPUStats.query)
        #expect(node.probes.intervalSeconds == 10)
        expectIssue(
            issues(replacing: "    ssh: { user: owner }\n", with: "    ssh: { user: owner }\n    probes: { interval_seconds: 0 }\n"),
            path: "nodes[1].probes.interval_seconds", contains: "must be from 1 to 3600 s")
    }

    @Test func transportAndSSH() {
        expectIssue(
            issues(replacing: "host: 192.0.2.10\n", with: "host: 192.0.2.10\n    transport: telnet\n"),
            path: "nodes[0].transport", contains: "must be 'ssh' or 'local'")
        expectIssue(issues(replacing: "    ssh: { user: owner }\n", with: ""), path: "nodes[1].ssh", contains: "needs `ssh: {user: ...}`")
        expectIssue(issues(replacing: "ssh: { user: owner }", with: "ssh: { port: 22 }"), path: "nodes[1].ssh.user", contains: "is missing")
        expectIssue(
            issues(replacing: "ssh: { user: owner }", with: "ssh: { user: \"own er;rm\" }"), path: "nodes[1].ssh.user",
            contains: "not a valid user name")
        expectIssue(
            issues(replacing: "user: owner, port: 22,", with: "user: owner, port: ssh,"), path: "nodes[0].ssh.port",
            contains: "must be a whole number")
        // A local node needs no ssh block.
        #expect(
            (try? InventoryLoader.parse(
                Self.valid.replacingOccurrences(of: "    ssh: { user: owner }\n", with: "    transport: local\n"), file: "t")) != nil)
    }

    @Test func services() {
        expectIssue(
            issues(replacing: "kind: vllm", with: "kind: llama"), path: "services[0].kind",
            contains: "must be one of vllm, asr, tts, embeddings, rerank, qdrant")
        expectIssue(
            issues(replacing: "node: spark-1\n    port: 8888", with: "node: spark-9\n    port: 8888"), path: "services[0].node",
            contains: "names 'spark-9', which is not in nodes: (spark-1, spark-2)")
        expectIssue(issues(replacing: "    port: 8888\n", with: ""), path: "services[0]", contains: "needs `port:`")
        expectIssue(
            issues(replacing: "    port: 8888\n", with: "    port: 8888\n    url: http://192.0.2.10:8888\n"), path: "services[0].url",
            contains: "not both")
        expectIssue(
            issues(replacing: "url: http://192.0.2.11:6333", with: "url: ftp://192.0.2.11"), path: "services[2].url",
            contains: "must be an http:// or https:// URL")
        expectIssue(issues(replacing: "- id: asr\n", with: "- id: vllm\n"), path: "services", contains: "used by more than one entry")
    }

    @Test func speechServicesNameTheirModelAndTheFormatsTheyAnswer() throws {
        let asrAPI = "    limits: { max_in_flight: 2, queue: 4, queue_timeout_ms: 10000 }\n"
        let inventory = try InventoryLoader.parse(
            Self.valid.replacingOccurrences(of: asrAPI, with: asrAPI + "    api: { model: whisper-tiny, formats: [json, verbose_json] }\n"),
            file: "t")
        let asr = try #require(inventory.services.first { $0.kind == .asr })
        #expect(asr.api.model == "whisper-tiny" && asr.api.formats == ["json", "verbose_json"])
        expectIssue(
            issues(replacing: asrAPI, with: asrAPI + "    api: { formats: [json, docx] }\n"), path: "services[1].api.formats",
            contains: "got docx")
        expectIssue(
            issues(replacing: asrAPI, with: asrAPI + "    api: { max_batch: 4 }\n"), path: "services[1].api.max_batch",
            contains: "unknown key")
        expectIssue(
            issues(replacing: "    port: 8888\n", with: "    port: 8888\n    api: { model: x }\n"), path: "services[0].api",
            contains: "applies only to asr, tts, embeddings and rerank services")
    }

    @Test func aTTSNamesTheFormatsItStreamsAsOneFile() throws {
        let tts = """
            nodes:
              - { id: n, host: 127.0.0.1, transport: local }
            services:
              - id: tts
                kind: tts
                node: n
                port: 8880
                api: { streams: [mp3, opus, pcm] }
            """
        let inventory = try InventoryLoader.parse(tts, file: "t")
        #expect(inventory.services.first?.api.streamedFormats == ["mp3", "opus", "pcm"])
        #expect(throws: InventoryError.self) {
            try InventoryLoader.parse(tts.replacingOccurrences(of: "[mp3, opus, pcm]", with: "[mp3, ogg]"), file: "t")
        }
        #expect(throws: InventoryError.self, "`formats` is an ASR's") {
            try InventoryLoader.parse(tts.replacingOccurrences(of: "streams:", with: "formats:"), file: "t")
        }
    }

    @Test func healthAndLimits() {
        expectIssue(
            issues(replacing: "path: /health,", with: "path: health,"), path: "services[1].health.path", contains: "must start with '/'")
        expectIssue(
            issues(replacing: "interval_ms: 200", with: "interval_ms: 10"), path: "services[1].health.interval_ms",
            contains: "must be from 50 to 60000 ms")
        expectIssue(
            issues(replacing: "degraded_ms: 300", with: "degraded_ms: 900"), path: "services[1].health.degraded_ms",
            contains: "must be below timeout_ms")
        expectIssue(
            issues(replacing: "max_in_flight: 2", with: "max_in_flight: 0"), path: "services[1].limits.max_in_flight",
            contains: "must be from 1")
        expectIssue(
            issues(replacing: "queue: 4", with: "queue: many"), path: "services[1].limits.queue", contains: "must be a whole number")
        expectIssue(issues(replacing: "limits: {", with: "limits: { burst: 3,"), path: "services[1].limits.burst", contains: "unknown key")
    }

    @Test func admissionGroups() throws {
        let grouped = Self.valid
            .replacingOccurrences(of: "services:\n", with: "admission_groups:\n  audio: { max_in_flight: 3, queue: 16 }\nservices:\n")
            .replacingOccurrences(of: "queue_timeout_ms: 10000 }", with: "queue_timeout_ms: 10000, group: audio }")
        let inventory = try InventoryLoader.parse(grouped, file: "test.yaml")
        let asr = try #require(inventory.service("asr"))
        #expect(
            asr.admissionGroup
                == AdmissionGroup(name: "audio", limits: AdmissionLimits(maxInFlight: 3, queueDepth: 16, queueTimeoutMs: 30_000)))
        #expect(asr.limits.maxInFlight == 2, "the service keeps its own cap")
        #expect(inventory.service("vllm")?.admissionGroup == nil)
        expectIssue(
            issues(grouped.replacingOccurrences(of: "group: audio", with: "group: video")), path: "services[1].limits.group",
            contains: "names 'video', which is not in admission_groups: (audio)")
        expectIssue(
            issues(
                grouped.replacingOccurrences(of: "  audio: {", with: "  asr: {").replacingOccurrences(
                    of: "group: audio", with: "group: asr")),
            path: "admission_groups.asr", contains: "has the id of a service")
        expectIssue(
            issues(grouped.replacingOccurrences(of: "max_in_flight: 3, queue: 16", with: "max_in_flight: 3, burst: 16")),
            path: "admission_groups.audio.burst", contains: "unknown key")
    }

    @Test func aServiceWithoutLimitsGetsTheDefaultsOfItsKind() throws {
        var yaml = Self.valid.replacingOccurrences(of: "    limits: { max_in_flight: 2, queue: 4, queue_timeout_ms: 10000 }\n", with: "")
        var inventory = try InventoryLoader.parse(yaml, file: "test.yaml")
        let vllm = try #require(inventory.service("vllm"))
        #expect(vllm.limits.maxInFlight == AdmissionLimits.vllmDefaultMaxNumSeqs, "vLLM batches 256 sequences by default")
        #expect(vllm.limits.queueDepth == AdmissionLimits.vllmDefaultMaxNumSeqs)
        #expect(vllm.limitsOrigin == .kindDefault)
        #expect(inventory.service("asr")?.limits == AdmissionLimits(maxInFlight: 2, queueDepth: 32, queueTimeoutMs: 60_000))
        #expect(inventory.service("qdrant")?.limits.maxInFlight == 16)

        // A recipe that says how many sequences vLLM batches sets the cap: the largest of the service's recipes.
        yaml = yaml.replacingOccurrences(of: "--port {port}", with: "--port {port} --max-num-seqs 64")
        inventory = try InventoryLoader.parse(yaml, file: "test.yaml")
        #expect(inventory.service("vllm")?.limits.maxInFlight == 64)
        let withParam = yaml.replacingOccurrences(
            of: "params: { recipe: small-recipe,", with: "params: { max_num_seqs: \"128\", recipe: small-recipe,")
        #expect(try InventoryLoader.parse(withParam, file: "test.yaml").service("vllm")?.limits.maxInFlight == 128)

        // What the inventory sets wins; what it leaves out follows the kind.
        let partial = yaml.replacingOccurrences(of: "  - id: vllm\n", with: "  - id: vllm\n    limits: { queue: 10 }\n")
        let partialVLLM = try #require(try InventoryLoader.parse(partial, file: "test.yaml").service("vllm"))
        #expect(partialVLLM.limits.maxInFlight == 64 && partialVLLM.limits.queueDepth == 10)
        let explicit = yaml.replacingOccurrences(of: "  - id: vllm\n", with: "  - id: vllm\n    limits: { max_in_flight: 8 }\n")
        let explicitVLLM = try #require(try InventoryLoader.parse(explicit, file: "test.yaml").service("vllm"))
        #expect(explicitVLLM.limits.maxInFlight == 8 && explicitVLLM.limitsOrigin == .inventory)
    }

    @Test func maxNumSeqsIsReadFromTheRecipe() throws {
        func recipe(_ launch: String, params: [String: String] = [:]) throws -> ModelRecipe {
            ModelRecipe(
                id: "m", name: "m", servedName: "m", service: "vllm", nodes: [], memoryGiB: nil, expectedLoadSeconds: 1,
                params: params,
                commands: RecipeCommands(
                    launch: try CommandTemplate(launch), stop: try CommandTemplate("x"), logs: try CommandTemplate("x"), status: nil))
        }
        #expect(try recipe("vllm serve m --max-num-seqs 48").maxNumSeqs == 48)
        #expect(try recipe("vllm serve m --max-num-seqs=12 --port 8000").maxNumSeqs == 12)
        #expect(try recipe("vllm serve m \\\n  --max-num-seqs 32").maxNumSeqs == 32)
        #expect(try recipe("vllm serve m --max-num-seqs {seqs}", params: ["seqs": "9"]).maxNumSeqs == nil, "a template value: unknown")
        #expect(try recipe("vllm serve m", params: ["max_num_seqs": "300"]).maxNumSeqs == 300)
        #expect(try recipe("vllm serve m --max-num-seqs 0").maxNumSeqs == nil)
        #expect(try recipe("vllm serve m --max-num-batched-tokens 4096").maxNumSeqs == nil)
    }

    @Test func swapWaitIsForLLMServicesOnly() throws {
        let waiting = Self.valid.replacingOccurrences(of: "  - id: vllm\n", with: "  - id: vllm\n    limits: { swap_wait_ms: 5000 }\n")
        let inventory = try InventoryLoader.parse(waiting, file: "test.yaml")
        #expect(inventory.service("vllm")?.limits.swapWaitMs == 5000)
        #expect(inventory.service("asr")?.limits.swapWaitMs == 0, "the default: a 503 at once")
        expectIssue(
            issues(replacing: "queue_timeout_ms: 10000 }", with: "queue_timeout_ms: 10000, swap_wait_ms: 100 }"),
            path: "services[1].limits.swap_wait_ms", contains: "applies only to vllm services")
        expectIssue(
            issues(replacing: "limits: {", with: "limits: { swap_wait_ms: -1,"), path: "services[1].limits.swap_wait_ms",
            contains: "must be")
        let grouped = Self.valid.replacingOccurrences(
            of: "services:\n", with: "admission_groups:\n  audio: { swap_wait_ms: 10 }\nservices:\n")
        expectIssue(issues(grouped), path: "admission_groups.audio.swap_wait_ms", contains: "unknown key")
    }

    @Test func models() {
        expectIssue(issues(replacing: "    served_name: org/small\n", with: ""), path: "models[0].served_name", contains: "is missing")
        expectIssue(
            issues(replacing: "service: vllm\n    nodes", with: "service: asr\n    nodes"), path: "models[0].service",
            contains: "not in services of kind vllm: (vllm)")
        expectIssue(
            issues(replacing: "nodes: [spark-1]", with: "nodes: [spark-3]"), path: "models[0].nodes[0]", contains: "names node 'spark-3'")
        expectIssue(issues(replacing: "nodes: [spark-1]", with: "nodes: [spark-1, spark-1]"), path: "models[0].nodes[1]", contains: "twice")
        expectIssue(issues(replacing: "nodes: [spark-1]", with: "nodes: []"), path: "models[0].nodes", contains: "is empty")
        expectIssue(
            issues(replacing: "memory_gib: 20", with: "memory_gib: -1"), path: "models[0].memory_gib", contains: "must be a number above 0")
        expectIssue(
            issues(replacing: "load_seconds: 90", with: "load_seconds: 0"), path: "models[0].load_seconds",
            contains: "must be from 1 to 7200 s")
        expectIssue(
            issues(replacing: "default_model: small", with: "default_model: big"), path: "default_model",
            contains: "names model 'big', which is not in models: (small)")
        let twin = """
              - id: small-128k
                name: Small model, long context
                served_name: org/small
                service: vllm
                nodes: [spark-1]
                params: { recipe: small-recipe-128k, port: "8888" }
                commands: { launch: "./run-recipe.sh {recipe}", stop: docker stop vllm_node, logs: docker logs -f vllm_node }
            actions:
            """
        expectIssue(
            issues(replacing: "\nactions:\n", with: "\n" + twin + "\n"), path: "models[1].served_name",
            contains: "'org/small' is also the served_name of model 'small' on service vllm")
    }

    @Test func modelParamsAndTemplates() {
        expectIssue(
            issues(replacing: "params: { recipe", with: "params: { 9lives: x, recipe"), path: "models[0].params.9lives",
            contains: "is not a parameter name")
        expectIssue(
            issues(replacing: "params: { recipe", with: "params: { served_name: x, recipe"), path: "models[0].params.served_name",
            contains: "is set by SparkDeck")
        expectIssue(
            issues(replacing: "params: { recipe: small-recipe,", with: "params: { recipe: [a],"), path: "models[0].params.recipe",
            contains: "must be a single value")
        expectIssue(
            issues(replacing: "--port {port}", with: "--port {prot}"), path: "models[0].commands.launch",
            contains: "names {prot}, which is not a parameter of this entry (it has: model_id, port, recipe, served_name)")
        expectIssue(
            issues(replacing: "--port {port}", with: "--port {port"), path: "models[0].commands.launch", contains: "is never closed")
        expectIssue(
            issues(replacing: "--port {port}", with: "--port {po-rt}"), path: "models[0].commands.launch",
            contains: "is not a parameter name")
        expectIssue(
            issues(replacing: "      stop: docker stop vllm_node\n", with: ""), path: "models[0].commands.stop", contains: "is missing")
        expectIssue(
            issues(replacing: "    commands:\n      launch", with: "    cmds:\n      launch"), path: "models[0].commands",
            contains: "is missing")
    }

    @Test func serviceLogs() throws {
        let withLogs = Self.valid.replacingOccurrences(
            of: "    port: 8000\n", with: "    port: 8000\n    logs: docker logs -f --tail 200 parakeet-asr\n")
        let inventory = try InventoryLoader.parse(withLogs, file: "test.yaml")
        #expect(try inventory.service("asr")?.logs?.render([:]) == "docker logs -f --tail 200 parakeet-asr")
        #expect(inventory.service("vllm")?.logs == nil, "optional: a vllm service falls back to the loaded model's")
        expectIssue(
            issues(replacing: "    port: 8000\n", with: "    port: 8000\n    logs: docker logs -f {container}\n"),
            path: "services[1].logs", contains: "names {container}, which is not a parameter of this entry (it has none)")
    }

    @Test func actions() throws {
        let inventory = try InventoryLoader.parse(Self.valid, file: "test.yaml")
        #expect(inventory.actions.first?.timeoutSeconds == 300, "the default")
        let quick = try InventoryLoader.parse(Self.valid + "\n    timeout_seconds: 20", file: "test.yaml")
        #expect(quick.actions.first?.timeoutSeconds == 20)
        expectIssue(
            issues(Self.valid + "\n    timeout_seconds: 0"), path: "actions[0].timeout_seconds", contains: "must be from 1 to 86400 s")
        expectIssue(
            issues(replacing: "node: spark-2\n    command", with: "node: spark-7\n    command"), path: "actions[0].node",
            contains: "not in nodes")
        expectIssue(
            issues(replacing: "    description: Restarts the ASR container; transcriptions fail for about a minute.", with: ""),
            path: "actions[0].description", contains: "is missing")
        expectIssue(
            issues(replacing: "command: docker restart parakeet-asr", with: "command: docker restart {name}"), path: "actions[0].command",
            contains: "(it has none)")
    }

    @Test func everyProblemIsListedAtOnce() {
        let found = issues(
            Self.valid.replacingOccurrences(of: "port: 8888", with: "port: 0")
                .replacingOccurrences(of: "kind: asr", with: "kind: whisper"))
        #expect(found.count >= 2)
    }

    @Test func shippedExampleIsValidOnceItsPlaceholdersAreFilledIn() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/inventory.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let asShipped = issues(text)
        #expect(asShipped.contains { $0.message.contains("placeholder <spark-1-ip>") })
        let filled = text.replacingOccurrences(of: "<spark-1-ip>", with: "192.0.2.10")
            .replacingOccurrences(of: "<spark-2-ip>", with: "192.0.2.11")
            .replacingOccurrences(of: "<ssh-user>", with: "owner")
        let inventory = try InventoryLoader.parse(filled, file: "examples/inventory.yaml")
        #expect(inventory.nodes.count == 2)
        #expect(Set(inventory.services.map(\.kind)) == Set(ServiceKind.allCases))
        #expect(inventory.models.contains { $0.nodes.count == 2 }, "the example shows a two-node TP=2 recipe")
    }
}
