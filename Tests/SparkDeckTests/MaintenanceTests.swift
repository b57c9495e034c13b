import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SparkDeck

/// Maintenance actions and service logs, run for real with the local command runner.
@Suite("Maintenance actions and service logs", .serialized)
struct MaintenanceTests {
    /// A one-node inventory whose commands run here (`/bin/sh -c`), with `actions` and a service per log command.
    static func inventory(
        actions: [MaintenanceAction] = [], logs: [String: String] = [:],
        models: [ModelRecipe] = []
    ) throws -> Inventory {
        var inventory = TestSupport.inventory(services: [("vllm", .vllm, 9)] + logs.keys.sorted().map { ($0, .asr, 9) })
        for index in inventory.services.indices {
            if let command = logs[inventory.services[index].id] { inventory.services[index].logs = try CommandTemplate(command) }
        }
        inventory.actions = actions
        inventory.models = models
        return inventory
    }

    static func action(_ id: String, _ command: String, timeout: Int = 30) throws -> MaintenanceAction {
        MaintenanceAction(
            id: id, name: "Action \(id)", node: "spark-1", command: try CommandTemplate(command),
            description: "Does \(id) to the node.", timeoutSeconds: timeout)
    }

    static func maintenance(_ inventory: Inventory, data: String) throws -> (MaintenanceActions, ActionStore, EventBroadcaster) {
        let store = ActionStore(store: try Store(dataDirectory: data))
        let events = EventBroadcaster()
        let actions = try MaintenanceActions(
            inventory: inventory, runners: RunnerPool(runners: ["spark-1": LocalCommandRunner(node: "spark-1")]),
            store: store, events: events)
        return (actions, store, events)
    }

    static func quoted(_ path: String) -> String { ShellQuote.quote(path) }

    // MARK: Actions

    @Test func nothingRunsWithoutConfirmation() async throws {
        let work = try TestSupport.temporaryDirectory()
        let canary = (work as NSString).appendingPathComponent("ran")
        let (actions, _, _) = try Self.maintenance(
            try Self.inventory(actions: [try Self.action("touch", "touch \(Self.quoted(canary))")]), data: work)
        await #expect(throws: ActionRequestError.notConfirmed(try Self.action("touch", "touch \(Self.quoted(canary))"))) {
            try await actions.run("touch", confirm: false)
        }
        await #expect(throws: ActionRequestError.unknownAction("reboot", known: ["touch"])) {
            try await actions.run("reboot", confirm: true)
        }
        #expect(!FileManager.default.fileExists(atPath: canary), "an unconfirmed action ran")
        let run = try await actions.run("touch", confirm: true)
        #expect(FileManager.default.fileExists(atPath: canary))
        #expect(run.succeeded && run.exitCode == 0 && run.endedAt != nil)
    }

    @Test func runsAreRecordedAndAnnounced() async throws {
        let work = try TestSupport.temporaryDirectory()
        let inventory = try Self.inventory(actions: [
            try Self.action("fail", "echo checking; echo 'disk full' >&2; exit 3"),
            try Self.action("slow", "sleep 5", timeout: 1),
        ])
        let (actions, store, events) = try Self.maintenance(inventory, data: work)
        let (_, stream) = await events.subscribe()
        let failed = try await actions.run("fail", confirm: true)
        #expect(failed.exitCode == 3 && !failed.succeeded && failed.error == nil)
        #expect(failed.output == "checking\ndisk full\n")
        var received: [String] = []
        for await event in stream {
            received.append(event.data)
            if received.count == 2 { break }
        }
        #expect(received.first?.contains("\"state\":\"running\"") == true, "a run is announced when it starts")
        #expect(received.last?.contains("\"state\":\"failed\"") == true, "and when it ends")

        let timedOut = try await actions.run("slow", confirm: true)
        #expect(timedOut.exitCode == nil && timedOut.error?.contains("timed out") == true)
        #expect(timedOut.error?.contains("may still be running on spark-1") == true, "\(timedOut.error ?? "")")

        let last = try await store.lastRuns()
        #expect(last["fail"] == failed && last["slow"] == timedOut, "both runs are in the store as returned")
        let listed = try await actions.list()
        #expect(listed.map(\.action.id) == ["fail", "slow"] && listed.map(\.run) == [failed, timedOut])
    }

    @Test func oneRunOfAnActionAtATime() async throws {
        let work = try TestSupport.temporaryDirectory()
        let (actions, _, _) = try Self.maintenance(try Self.inventory(actions: [try Self.action("wait", "sleep 0.5")]), data: work)
        async let first = actions.run("wait", confirm: true)
        try await Task.sleep(for: .milliseconds(150))
        let listed = try await actions.list()
        #expect(listed.first?.run?.isRunning == true, "the running run is listed")
        do {
            _ = try await actions.run("wait", confirm: true)
            Issue.record("a second run started while the first was running")
        } catch {
            guard case .alreadyRunning(let runID) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(runID == listed.first?.run?.id)
        }
        #expect(try await first.succeeded)
        let again = try await actions.run("wait", confirm: true)
        #expect(again.succeeded, "once it ended, it can run again")
    }

    @Test func aRunCutShortByAStopIsEndedAtTheNextStart() async throws {
        let work = try TestSupport.temporaryDirectory()
        let store = ActionStore(store: try Store(dataDirectory: work))
        let orphan = ActionRun(id: "r1", action: "touch", node: "spark-1", startedAt: 1_000, output: "")
        try await store.save(orphan)
        _ = try Self.maintenance(try Self.inventory(actions: [try Self.action("touch", "true")]), data: work)
        let settled = try #require(try await store.lastRuns()["touch"])
        #expect(!settled.isRunning && settled.exitCode == nil)
        #expect(settled.error?.contains("SparkDeck stopped while this ran") == true)
    }

    @Test func aRunThatCannotBeRecordedDoesNotRun() async throws {
        let work = try TestSupport.temporaryDirectory()
        let canary = (work as NSString).appendingPathComponent("ran")
        let (actions, store, _) = try Self.maintenance(
            try Self.inventory(actions: [try Self.action("touch", "touch \(Self.quoted(canary))")]), data: work)
        try await store.store.database.write { try $0.execute(sql: "DROP TABLE action_run") }
        let run = try await actions.run("touch", confirm: true)
        #expect(run.error?.hasPrefix("could not record the run, so nothing was run") == true, "\(run)")
        #expect(!run.succeeded && !run.isRunning)
        #expect(!FileManager.default.fileExists(atPath: canary), "the action ran without a record")
    }

    @Test func outputKeepsItsEndWithinTheLimit() {
        let short = "all fine\n"
        #expect(ActionRun.tail(of: short) == short)
        let long = String(repeating: "é", count: ActionRun.outputLimit) + "the end"
        let kept = ActionRun.tail(of: long)
        #expect(kept.hasSuffix("the end") && kept.hasPrefix("…"))
        #expect(kept.utf8.count <= ActionRun.outputLimit + "…".utf8.count)
        #expect(!kept.contains("\u{FFFD}"), "cut on a character boundary")
    }

    @Test func actionsOverHTTP() async throws {
        let work = try TestSupport.temporaryDirectory()
        let inventory = try Self.inventory(actions: [try Self.action("hello", "echo hello")])
        let (actions, _, _) = try Self.maintenance(inventory, data: work)
        let router = Router()
        ActionsController(actions: actions).addRoutes(to: router)
        try await Application(router: router).test(.router) { client in
            try await client.execute(
                uri: "/api/actions/hello", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{}")
            ) { response in
                #expect(response.status == .badRequest)
                #expect(
                    String(buffer: response.body).contains(
                        "Action hello runs on spark-1: Does hello to the node. Send \\\"confirm\\\": true to go ahead."))
            }
            try await client.execute(
                uri: "/api/actions/nope", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{\"confirm\": true}")
            ) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("known actions: hello"))
            }
            try await client.execute(
                uri: "/api/actions/hello", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{\"confirm\": \"yes\"}")
            ) { response in
                #expect(response.status == .badRequest, "confirm must be a boolean")
            }
            for number in ["1", "1.0"] {
                try await client.execute(
                    uri: "/api/actions/hello", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: "{\"confirm\": \(number)}")
                ) { response in
                    #expect(response.status == .badRequest, "confirm \(number) is not the boolean true")
                }
            }
            try await client.execute(
                uri: "/api/actions/hello", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{\"confirm\": true}")
            ) { response in
                #expect(response.status == .ok)
                let body = try APITests.json(response.body)
                #expect(body["state"] as? String == "succeeded" && body["output"] as? String == "hello\n")
                #expect(body["exit_code"] as? Int == 0)
            }
            try await client.execute(uri: "/api/actions", method: .get) { response in
                let listed = try #require(try APITests.json(response.body)["actions"] as? [[String: Any]])
                #expect(listed.count == 1 && listed[0]["description"] as? String == "Does hello to the node.")
                #expect((listed[0]["last_run"] as? [String: Any])?["state"] as? String == "succeeded")
                #expect(listed[0]["running"] as? Bool == false)
            }
        }
    }

    // MARK: Logs

    static func logsApp(_ inventory: Inventory, activeModel: String? = nil) -> some ApplicationProtocol {
        let router = Router()
        ServiceLogsController(
            inventory: inventory, runners: RunnerPool(runners: ["spark-1": LocalCommandRunner(node: "spark-1")]),
            activeModel: { activeModel }, pingInterval: .milliseconds(100)
        ).addRoutes(to: router)
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func isAlive(pidFile: String) -> Bool {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return false }
        return kill(pid, 0) == 0
    }

    @Test func aLogIsFollowedLiveAndItsCommandStopsWhenTheClientLeaves() async throws {
        let work = try TestSupport.temporaryDirectory()
        let log = (work as NSString).appendingPathComponent("asr.log")
        let pidFile = (work as NSString).appendingPathComponent("tail.pid")
        try "first line\n".write(toFile: log, atomically: true, encoding: .utf8)
        let inventory = try Self.inventory(logs: ["asr": "echo $$ > \(Self.quoted(pidFile)); exec tail -n +1 -F \(Self.quoted(log))"])
        try await Self.logsApp(inventory).test(.live) { client in
            let port = try #require(client.port)
            let appender = Task {
                try await Task.sleep(for: .milliseconds(300))
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
                try handle.seekToEnd()
                try handle.write(contentsOf: Data("written later \"quoted\" 50%\r60%\r\n".utf8))
                try handle.close()
            }
            let received = try await RawHTTPClient.connect(port: port).get("/api/logs/asr", readUntil: "written later")
            try await appender.value
            #expect(received.contains("text/event-stream"))
            #expect(received.contains("event: open\ndata: {\"command\":\"echo $$ >"))
            #expect(received.contains("event: log\ndata: {\"line\":\"first line\"}\n\n"))
            #expect(
                received.contains("event: log\ndata: {\"line\":\"written later \\\"quoted\\\" 50%\\r60%\"}\n\n"),
                "a progress bar's carriage return stays inside the JSON, so it cannot end the event: \(received)")
            #expect(FileManager.default.fileExists(atPath: pidFile), "the log command never wrote its pid")
            let stopped = await TestSupport.eventually(timeout: .seconds(5)) { !Self.isAlive(pidFile: pidFile) }
            #expect(stopped, "the log command still runs after the client left")
        }
    }

    @Test func aLogCommandThatEndsEndsTheStream() async throws {
        let inventory = try Self.inventory(logs: ["asr": "printf 'a\\nb\\n'"])
        try await Self.logsApp(inventory).test(.live) { client in
            let received = try await RawHTTPClient.connect(port: try #require(client.port)).get("/api/logs/asr", readUntil: "event: end")
            #expect(received.contains("{\"line\":\"a\"}") && received.contains("{\"line\":\"b\"}"))
            #expect(received.contains("event: end\ndata: {\"error\":null}"))
        }
    }

    @Test func whereALogComesFrom() async throws {
        let recipe = ModelRecipe(
            id: "small", name: "Small", servedName: "org/small", service: "vllm", nodes: ["spark-1"],
            memoryGiB: nil, expectedLoadSeconds: 10, params: ["container": "vllm-small"],
            commands: RecipeCommands(
                launch: try CommandTemplate("true"), stop: try CommandTemplate("true"),
                logs: try CommandTemplate("docker logs -f {container}"), status: nil))
        let inventory = try Self.inventory(logs: ["tts": "docker logs -f kokoro"], models: [recipe])
        let runners = RunnerPool(runners: [:])
        let loaded = ServiceLogsController(inventory: inventory, runners: runners, activeModel: { "small" })
        let asr = try await loaded.source(for: "tts")
        #expect(asr.node == "spark-1" && asr.command == "docker logs -f kokoro")
        let vllm = try await loaded.source(for: "vllm")
        #expect(vllm.command == "docker logs -f 'vllm-small'", "a vllm service without `logs` follows the loaded model's")
        let none = ServiceLogsController(inventory: inventory, runners: runners, activeModel: { nil })
        await #expect(throws: APIError.self) { try await none.source(for: "vllm") }
        do {
            _ = try await loaded.source(for: "qdrant")
            Issue.record("an unknown service has no log")
        } catch let error as APIError {
            #expect(error.status == .notFound && error.message.contains("known services: vllm, tts"))
        }
        var noLogs = inventory
        noLogs.services.append(
            ClusterService(
                id: "qdrant", kind: .qdrant, node: "spark-1", baseURL: "http://127.0.0.1:9",
                health: .defaults, limits: .defaults))
        do {
            _ = try await ServiceLogsController(inventory: noLogs, runners: runners, activeModel: { nil }).source(for: "qdrant")
            Issue.record("a service without a logs command has no log")
        } catch let error as APIError {
            #expect(error.message.contains("has no `logs` command in the inventory"))
        }
    }

    @Test func aLogResponseDroppedBeforeItsBodyRanGivesItsPlaceBack() async throws {
        let inventory = try Self.inventory(logs: ["asr": "true"])
        let controller = ServiceLogsController(
            inventory: inventory, runners: RunnerPool(runners: ["spark-1": LocalCommandRunner(node: "spark-1")]),
            activeModel: { nil })
        let before = ServiceLogsController.openStreams
        func openAndDrop() async throws {
            let response = try await controller.stream(try await controller.source(for: "asr"), service: "asr")
            #expect(ServiceLogsController.openStreams == before + 1 && response.status == .ok)
        }
        try await openAndDrop()
        #expect(ServiceLogsController.openStreams == before, "a response Hummingbird never wrote kept its place")
    }

    @Test func logStreamsAreCapped() async throws {
        let work = try TestSupport.temporaryDirectory()
        let log = (work as NSString).appendingPathComponent("quiet.log")
        try "".write(toFile: log, atomically: true, encoding: .utf8)
        let inventory = try Self.inventory(logs: ["asr": "exec tail -F \(Self.quoted(log))"])
        try await Self.logsApp(inventory).test(.live) { client in
            let port = try #require(client.port)
            let holders = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<ServiceLogsController.maxStreams {
                        group.addTask { _ = try await RawHTTPClient.connect(port: port).get("/api/logs/asr", readUntil: "never sent") }
                    }
                    try await group.waitForAll()
                }
            }
            let full = await TestSupport.eventually(timeout: .seconds(5)) {
                ServiceLogsController.openStreams == ServiceLogsController.maxStreams
            }
            #expect(full, "\(ServiceLogsController.openStreams) streams open")
            let refused = try await RawHTTPClient.connect(port: port).get("/api/logs/asr", readUntil: "too_many_log_streams")
            #expect(refused.hasPrefix("HTTP/1.1 503") && refused.lowercased().contains("retry-after: 5"), "\(refused)")
            holders.cancel()
            let freed = await TestSupport.eventually(timeout: .seconds(5)) { ServiceLogsController.openStreams == 0 }
            #expect(freed, "\(ServiceLogsController.openStreams) slots still held after every client left")
            let served = try await RawHTTPClient.connect(port: port).get("/api/logs/asr", readUntil: "event: open")
            #expect(served.hasPrefix("HTTP/1.1 200"))
        }
    }
}
