import Foundation

/// The demo's inventory: two "Sparks" on loopback, transport `local`, three model recipes that launch the vLLM sim.
enum DemoInventory {
    static func yaml(ports: [Int], executable: String, demoDirectory: String, controllerPID: Int32) -> String {
        let pids = (demoDirectory as NSString).appendingPathComponent("pids")
        let logs = (demoDirectory as NSString).appendingPathComponent("logs")
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        func model(id: String, name: String, served: String, nodes: String, memory: Int, load: Int, failAt: String) -> String {
            """
              - id: \(id)
                name: \(quoted(name))
                served_name: \(served)
                service: vllm
                nodes: [\(nodes)]
                memory_gib: \(memory)
                load_seconds: \(load)
                params:
                  sim: \(quoted(executable))
                  port: "\(ports[0])"
                  load_seconds: "\(load)"
                  fail_at: \(failAt)
                  controller_pid: "\(controllerPID)"
                  pid_file: \(quoted((pids as NSString).appendingPathComponent("vllm.pid")))
                  log_file: \(quoted((logs as NSString).appendingPathComponent("vllm.log")))
                commands: *sim_commands

            """
        }
        func follow(_ service: String) -> String {
            quoted("tail -n 200 -F " + ShellQuote.quote((logs as NSString).appendingPathComponent("\(service).log")))
        }
        func probes(busy: String, services: [String]) -> String {
            let pid = { (service: String) in ShellQuote.quote((pids as NSString).appendingPathComponent("\(service).pid")) }
            let gpu = "\(ShellQuote.quote(executable)) sim nvidia-smi --busy-pid-file \(pid(busy))"
            let containers =
                services.map { service in
                    #"[ -f \#(pid(service)) ] && kill -0 "$(cat \#(pid(service)))" 2>/dev/null && printf 'sparksim-%s\tsparksim/%s\tUp (pid %s)\n' \#(service) \#(service) "$(cat \#(pid(service)))""#
                }.joined(separator: "; ") + "; true"
            return """
                    probes:
                      interval_seconds: 2
                      gpu: \(quoted(gpu))
                      containers: \(quoted(containers))
                """
        }
        return """
            # Written by `sparkdeck demo` at start-up: a simulated two-node cluster on loopback (SparkSim).
            # Ports are picked afresh on every start. A real cluster's inventory looks like examples/inventory.yaml.
            cluster:
              name: SparkSim demo

            nodes:
              - id: spark-1
                host: 127.0.0.1
                transport: local
            \(probes(busy: "vllm", services: ["vllm"]))
              - id: spark-2
                host: 127.0.0.1
                transport: local
            \(probes(busy: "asr", services: ["asr", "tts", "embeddings", "qdrant"]))

            admission_groups:
              retrieval: { max_in_flight: 4, queue: 256, queue_timeout_ms: 60000 }

            services:
              - id: vllm
                kind: vllm
                node: spark-1
                port: \(ports[0])
                health: { startup_grace_seconds: 120 }
              - id: asr
                kind: asr
                node: spark-2
                port: \(ports[1])
                logs: \(follow("asr"))
              - id: tts
                kind: tts
                node: spark-2
                port: \(ports[2])
                logs: \(follow("tts"))
              - id: embeddings
                kind: embeddings
                node: spark-2
                port: \(ports[3])
                logs: \(follow("embeddings"))
                limits: { group: retrieval, max_in_flight: 4, queue: 256 }
                api: { model: BAAI/bge-m3, max_batch: 32, sparse: lexical_weights, rerank: cohere }
              - id: qdrant
                kind: qdrant
                node: spark-2
                port: \(ports[4])
                logs: \(follow("qdrant"))

            # The vllm service has no `logs` of its own: its log is the loaded model's (the recipe's `logs`).
            actions:
              - id: restart-asr
                name: Restart the ASR sim
                node: spark-2
                command: \(quoted("kill \"$(cat \(ShellQuote.quote((pids as NSString).appendingPathComponent("asr.pid"))))\""))
                description: Stops the ASR sim; the demo starts it again a second later, and transcriptions fail meanwhile.
                timeout_seconds: 30

            default_model: demo-small

            x-sim-commands: &sim_commands
              launch: >-
                {sim} sim vllm --port {port} --model {served_name} --load-seconds {load_seconds}
                --fail-at {fail_at} --exit-with {controller_pid} --access-log > {log_file} 2>&1 & echo $! > {pid_file}
              stop: 'if [ -f {pid_file} ]; then kill "$(cat {pid_file})" 2>/dev/null; rm -f {pid_file}; fi; true'
              logs: tail -n +1 -F {log_file}
              status: '[ -f {pid_file} ] && kill -0 "$(cat {pid_file})"'

            models:
            \(model(id: "demo-small", name: "SparkSim Small 8B", served: "sparksim/small-8b", nodes: "spark-1", memory: 18, load: 6, failAt: "none"))\(model(id: "demo-large-tp2", name: "SparkSim Large 70B (TP=2 on both nodes)", served: "sparksim/large-70b", nodes: "spark-1, spark-2", memory: 75, load: 15, failAt: "none"))\(model(id: "demo-huge-oom", name: "SparkSim Huge 235B (fails: CUDA OOM at 60%)", served: "sparksim/huge-235b", nodes: "spark-1", memory: 130, load: 10, failAt: "weights:60"))
            """
    }
}
