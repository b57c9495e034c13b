import Foundation
import Yams

/// Reads and validates an inventory file. Any problem refuses the whole file, with every problem listed.
public enum InventoryLoader {
    public static func load(path: String) throws(InventoryError) -> Inventory {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw InventoryError(
                file: path,
                issues: [
                    InventoryIssue(
                        path: "", line: nil, message: "cannot be read: \(error.localizedDescription)")
                ])
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws(InventoryError) -> Inventory {
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            let message = (error as? YamlError).map { "\($0)" } ?? "\(error)"
            throw InventoryError(
                file: file,
                issues: [
                    InventoryIssue(
                        path: "", line: nil, message: "is not valid YAML: \(message)")
                ])
        }
        guard let root else {
            throw InventoryError(
                file: file,
                issues: [
                    InventoryIssue(
                        path: "", line: nil, message: "is empty; it needs at least `nodes:` and `services:`")
                ])
        }
        let reader = YAMLReader()
        let inventory = InventoryValidator(reader: reader).inventory(root)
        guard let inventory, reader.issues.isEmpty else {
            throw InventoryError(file: file, issues: reader.issues)
        }
        return inventory
    }
}

/// Turns a YAML tree into an `Inventory`, reporting each problem to the reader.
struct InventoryValidator {
    let reader: YAMLReader

    static let idRule = "use lowercase letters, digits and '-', starting with a letter or digit (at most 63)"

    func inventory(_ root: Yams.Node) -> Inventory? {
        guard
            let top = reader.mapping(
                root, at: "",
                allowedKeys: [
                    "cluster", "nodes", "services", "models", "default_model", "actions", "redaction", "admission_groups",
                    "audio",
                ])
        else { return nil }

        var clusterName = "SparkDeck cluster"
        if let cluster = top["cluster"], let mapping = reader.mapping(cluster, at: "cluster", allowedKeys: ["name"]) {
            clusterName = reader.optionalString(mapping, "name", at: "cluster") ?? clusterName
        }

        let nodes = uniqueIDs(
            reader.sequence(top, "nodes", at: "", required: true).enumerated()
                .compactMap { node($1, at: "nodes[\($0)]") }, list: "nodes")
        let nodeIDs = Set(nodes.map(\.id))
        var groups: [String: AdmissionLimits] = [:]
        if let groupsNode = top["admission_groups"], let g = reader.mapping(groupsNode, at: "admission_groups", allowedKeys: nil) {
            for (key, value) in g where !(key.string ?? "").hasPrefix("x-") {
                guard let name = key.string, name.range(of: #"^[a-z0-9][a-z0-9-]{0,62}$"#, options: .regularExpression) != nil else {
                    reader.report("admission_groups", key, "group names: \(Self.idRule); got '\(key.string ?? "?")'")
                    continue
                }
                groups[name] = admissionLimits(value, at: "admission_groups.\(name)", allowGroup: false).limits
            }
        }
        var services = uniqueIDs(
            reader.sequence(top, "services", at: "", required: true).enumerated()
                .compactMap { service($1, at: "services[\($0)]", nodes: nodes, groups: groups) }, list: "services")
        for name in groups.keys.sorted() where services.contains(where: { $0.id == name }) {
            reader.report("admission_groups.\(name)", nil, "has the id of a service; give the group its own name")
        }
        let models = uniqueIDs(
            reader.sequence(top, "models", at: "", required: false).enumerated()
                .compactMap { model($1, at: "models[\($0)]", nodeIDs: nodeIDs, services: services) }, list: "models")
        // An LLM service that sets no cap lets through as many requests as vLLM batches with its recipes.
        for index in services.indices where services[index].kind == .vllm && services[index].limitsOrigin == .kindDefault {
            let capacity = AdmissionLimits.defaults(for: .vllm, recipes: models.filter { $0.service == services[index].id })
            services[index].limits.maxInFlight = capacity.maxInFlight
            if !Self.sets("queue", in: top, service: services[index].id) { services[index].limits.queueDepth = capacity.queueDepth }
        }
        // SparkDeck knows which model is loaded from the served name vLLM lists: two recipes that serve the same
        // name on one service could not be told apart (a rollback could relaunch the wrong one).
        var servedBy: [String: String] = [:]
        for (index, model) in models.enumerated() {
            let key = model.service + "\u{0}" + model.servedName
            if let other = servedBy[key] {
                reader.report(
                    "models[\(index)].served_name", nil,
                    "'\(model.servedName)' is also the served_name of model '\(other)' on service \(model.service); SparkDeck tells loaded models apart by it, so give each recipe its own (vLLM's --served-model-name)"
                )
            } else {
                servedBy[key] = model.id
            }
        }
        let actions = uniqueIDs(
            reader.sequence(top, "actions", at: "", required: false).enumerated()
                .compactMap { action($1, at: "actions[\($0)]", nodeIDs: nodeIDs) }, list: "actions")

        let defaultModel = reader.optionalString(top, "default_model", at: "")
        if let defaultModel, !models.contains(where: { $0.id == defaultModel }) {
            reader.report(
                "default_model", top["default_model"],
                "names model '\(defaultModel)', which is not in models: (\(list(models.map(\.id))))")
        }
        var terms: [String] = []
        var external: ExternalEndpoint?
        if let redaction = top["redaction"], let r = reader.mapping(redaction, at: "redaction", allowedKeys: ["custom_terms", "external"]) {
            if let node = r["external"],
                let e = reader.mapping(node, at: "redaction.external", allowedKeys: ["url", "api_key_env", "api_key_file", "limits"])
            {
                if let url = reader.string(e, "url", at: "redaction.external") {
                    if let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil {
                        external = ExternalEndpoint(
                            url: url.hasSuffix("/") ? String(url.dropLast()) : url,
                            apiKeyEnv: reader.optionalString(e, "api_key_env", at: "redaction.external"),
                            apiKeyFile: reader.optionalString(e, "api_key_file", at: "redaction.external"),
                            limits: e["limits"].map { admissionLimits($0, at: "redaction.external.limits", allowGroup: false).limits }
                                ?? .defaults)
                    } else {
                        reader.report("redaction.external.url", e["url"], "must be an http:// or https:// URL, got '\(url)'")
                    }
                }
            }
            for (index, entry) in reader.sequence(r, "custom_terms", at: "redaction", required: false).enumerated() {
                guard case .scalar(let scalar) = entry, scalar.string.trimmingCharacters(in: .whitespaces).count >= 2 else {
                    reader.report("redaction.custom_terms[\(index)]", entry, "must be a term of at least 2 characters")
                    continue
                }
                terms.append(scalar.string)
            }
        }
        var audioUploadLimitMB = Inventory.defaultAudioUploadLimitMB
        if let audio = top["audio"], let a = reader.mapping(audio, at: "audio", allowedKeys: ["upload_limit_mb"]) {
            audioUploadLimitMB = reader.int(a, "upload_limit_mb", at: "audio", in: 1...65_536, default: audioUploadLimitMB, unit: " MB")!
        }
        var inventory = Inventory(
            clusterName: clusterName, nodes: nodes, services: services, models: models,
            actions: actions, redactionTerms: terms, externalModel: external, defaultModel: defaultModel)
        inventory.audioUploadLimit = audioUploadLimitMB * 1024 * 1024
        return inventory
    }

    /// Whether the service `id`'s `limits:` in the YAML sets `key`.
    static func sets(_ key: String, in top: Yams.Node.Mapping, service id: String) -> Bool {
        guard case .sequence(let entries)? = top["services"] else { return false }
        return entries.contains { entry in
            entry.mapping?["id"]?.string == id && entry.mapping?["limits"]?.mapping?[key] != nil
        }
    }

    // MARK: Entries

    private func node(_ yaml: Yams.Node, at path: String) -> Node? {
        guard let map = reader.mapping(yaml, at: path, allowedKeys: ["id", "host", "transport", "ssh", "probes"]) else { return nil }
        let id = identifier(map, at: path)
        let host = map["host"].flatMap { _ in reader.string(map, "host", at: path) }
        if map["host"] == nil { reader.report("\(path).host", nil, "is missing; give the node's IPv4 address") }
        if let host { checkIPv4(host, node: map["host"], at: "\(path).host") }

        var transport = Node.Transport.ssh
        if let text = reader.optionalString(map, "transport", at: path) {
            if let parsed = Node.Transport(rawValue: text) {
                transport = parsed
            } else {
                reader.report("\(path).transport", map["transport"], "must be 'ssh' or 'local', got '\(text)'")
            }
        }
        var ssh: SSHSettings?
        if let sshNode = map["ssh"] {
            if let sshMap = reader.mapping(sshNode, at: "\(path).ssh", allowedKeys: ["user", "port", "key"]) {
                let user = reader.string(sshMap, "user", at: "\(path).ssh")
                if let user, !Self.isValidUser(user) {
                    reader.report(
                        "\(path).ssh.user", sshMap["user"],
                        "'\(user)' is not a valid user name (letters, digits, '.', '_', '-')")
                }
                let port = reader.int(sshMap, "port", at: "\(path).ssh", in: 1...65535, default: 22)
                let key = reader.optionalString(sshMap, "key", at: "\(path).ssh")
                if let user, let port { ssh = SSHSettings(user: user, port: port, keyPath: key) }
            }
        } else if transport == .ssh {
            reader.report("\(path).ssh", yaml, "is missing; a node with transport 'ssh' needs `ssh: {user: ...}`")
        }
        var probes = NodeProbeSettings.defaults
        if let probesNode = map["probes"],
            let p = reader.mapping(probesNode, at: "\(path).probes", allowedKeys: ["gpu", "containers", "interval_seconds"])
        {
            probes.gpu = reader.optionalString(p, "gpu", at: "\(path).probes") ?? probes.gpu
            probes.containers = reader.optionalString(p, "containers", at: "\(path).probes") ?? probes.containers
            probes.intervalSeconds =
                reader.int(
                    p, "interval_seconds", at: "\(path).probes", in: 1...3600,
                    default: probes.intervalSeconds, unit: " s") ?? probes.intervalSeconds
        }
        guard let id, let host else { return nil }
        return Node(id: id, host: host, transport: transport, ssh: ssh, probes: probes)
    }

    private func service(_ yaml: Yams.Node, at path: String, nodes: [Node], groups: [String: AdmissionLimits]) -> ClusterService? {
        guard
            let map = reader.mapping(
                yaml, at: path,
                allowedKeys: [
                    "id", "kind", "node", "port", "url", "health", "limits", "logs", "allow_public_address", "api",
                ])
        else { return nil }
        let id = identifier(map, at: path)
        var kind: ServiceKind?
        if let text = reader.string(map, "kind", at: path) {
            kind = ServiceKind(rawValue: text)
            if kind == nil {
                reader.report(
                    "\(path).kind", map["kind"],
                    "must be one of \(list(ServiceKind.allCases.map(\.rawValue))), got '\(text)'")
            }
        }
        let node = reference(map, "node", at: path, among: nodes.map(\.id), list: "nodes")
        let baseURL = serviceURL(map, at: path, host: node.flatMap { id in nodes.first { $0.id == id }?.host })

        var health = HealthCheckSettings.defaults
        if let kind { health.path = kind.defaultHealthPath }
        if let healthNode = map["health"],
            let h = reader.mapping(
                healthNode, at: "\(path).health",
                allowedKeys: [
                    "path", "interval_ms", "timeout_ms", "degraded_ms", "startup_grace_seconds",
                ])
        {
            let p = "\(path).health"
            if let healthPath = reader.optionalString(h, "path", at: p) {
                if healthPath.hasPrefix("/") {
                    health.path = healthPath
                } else {
                    reader.report("\(p).path", h["path"], "must start with '/', got '\(healthPath)'")
                }
            }
            health.intervalMs = reader.int(h, "interval_ms", at: p, in: 50...60_000, default: health.intervalMs, unit: " ms")!
            health.timeoutMs = reader.int(h, "timeout_ms", at: p, in: 50...60_000, default: health.timeoutMs, unit: " ms")!
            health.degradedMs = reader.int(h, "degraded_ms", at: p, in: 1...60_000, default: health.degradedMs, unit: " ms")!
            health.startupGraceSeconds = reader.int(
                h, "startup_grace_seconds", at: p, in: 0...7_200,
                default: health.startupGraceSeconds, unit: " s")!
            if health.degradedMs >= health.timeoutMs {
                reader.report(
                    "\(p).degraded_ms", h["degraded_ms"],
                    "must be below timeout_ms (\(health.timeoutMs)); a probe that slow has already failed")
            }
        }
        var limits = kind.map { AdmissionLimits.defaults(for: $0) } ?? .defaults
        var group: AdmissionGroup?
        var limitsOrigin = LimitsOrigin.kindDefault
        if let limitsNode = map["limits"] {
            if limitsNode.mapping?["max_in_flight"] != nil { limitsOrigin = .inventory }
            let parsed = admissionLimits(limitsNode, at: "\(path).limits", allowGroup: true, base: limits)
            limits = parsed.limits
            if limits.swapWaitMs > 0, let kind, kind != .vllm, let l = limitsNode.mapping {
                reader.report("\(path).limits.swap_wait_ms", l["swap_wait_ms"], "applies only to vllm services (the ones a swap reloads)")
            }
            if let name = parsed.group {
                if let groupLimits = groups[name] {
                    group = AdmissionGroup(name: name, limits: groupLimits)
                } else if let l = limitsNode.mapping {
                    reader.report(
                        "\(path).limits.group", l["group"],
                        "names '\(name)', which is not in admission_groups: (\(list(groups.keys.sorted())))")
                }
            }
        }
        let logs = template(map, "logs", at: path, values: [:], required: false)
        if let kind, ServiceKind.lanOnly.contains(kind), let baseURL, let host = URL(string: baseURL)?.host,
            !LANAddress.isLAN(host), reader.bool(map, "allow_public_address", at: path) != true
        {
            reader.report(
                map["url"] != nil ? "\(path).url" : path, map["url"] ?? yaml,
                "'\(host)' is not a loopback or private-range address, and a \(kind.rawValue) service receives recordings, "
                    + "transcripts or documents, which must not leave the LAN; use its LAN address, or set "
                    + "`allow_public_address: true` on this service if it really is yours")
        }
        var api = ServiceAPI()
        if let apiNode = map["api"] {
            switch kind {
            case .vllm, .qdrant:
                reader.report("\(path).api", apiNode, "applies only to asr, tts, embeddings and rerank services")
            case .asr, .tts:
                api = speechAPI(apiNode, at: "\(path).api", kind: kind ?? .asr)
            default:
                api = embeddingAPI(apiNode, at: "\(path).api")
            }
        }
        guard let id, let kind, let node, let baseURL else { return nil }
        var service = ClusterService(
            id: id, kind: kind, node: node, baseURL: baseURL, health: health, limits: limits,
            admissionGroup: group, logs: logs)
        service.api = api
        service.limitsOrigin = limitsOrigin
        return service
    }

    /// `{model, streams}` of a tts service, `{model, formats}` of an asr service.
    private func speechAPI(_ yaml: Yams.Node, at path: String, kind: ServiceKind) -> ServiceAPI {
        var api = ServiceAPI()
        let listKey = kind == .asr ? "formats" : "streams"
        guard let a = reader.mapping(yaml, at: path, allowedKeys: ["model", listKey]) else { return api }
        api.model = reader.optionalString(a, "model", at: path)
        guard let node = a[listKey] else { return api }
        let known = kind == .asr ? TranscriptionAnswer.formats : SpeechRequest.formats
        let formats = node.sequence?.compactMap(\.string) ?? []
        let unknown = formats.filter { !known.contains($0) }
        if (kind == .asr && formats.isEmpty) || !unknown.isEmpty || node.sequence?.count != formats.count {
            reader.report(
                "\(path).\(listKey)", node,
                (kind == .asr
                    ? "must be a list of the formats the ASR answers, from \(list(known))"
                    : "must be a list of the formats the TTS streams as one file, from \(list(known))")
                    + (unknown.isEmpty ? "" : "; got \(list(unknown))"))
        } else if kind == .asr {
            api.formats = formats
        } else {
            api.streamedFormats = formats
        }
        return api
    }

    /// `{model, max_batch, sparse, sparse_path, rerank, rerank_path}` of an embeddings or rerank service.
    private func embeddingAPI(_ yaml: Yams.Node, at path: String) -> ServiceAPI {
        var api = ServiceAPI()
        guard
            let a = reader.mapping(
                yaml, at: path, allowedKeys: ["model", "max_batch", "sparse", "sparse_path", "rerank", "rerank_path"])
        else { return api }
        api.model = reader.optionalString(a, "model", at: path)
        api.maxBatch = reader.int(a, "max_batch", at: path, in: 1...4096, default: api.maxBatch)!
        if let text = reader.optionalString(a, "sparse", at: path) {
            if let shape = ServiceAPI.SparseShape(rawValue: text) {
                api.sparse = shape
            } else {
                reader.report(
                    "\(path).sparse", a["sparse"],
                    "must be one of \(list(ServiceAPI.SparseShape.allCases.map(\.rawValue))), got '\(text)'")
            }
        }
        if let text = reader.optionalString(a, "rerank", at: path) {
            if let shape = ServiceAPI.RerankShape(rawValue: text) {
                api.rerank = shape
            } else {
                reader.report(
                    "\(path).rerank", a["rerank"],
                    "must be one of \(list(ServiceAPI.RerankShape.allCases.map(\.rawValue))), got '\(text)'")
            }
        }
        for (key, keyPath) in [("sparse_path", \ServiceAPI.sparsePath), ("rerank_path", \ServiceAPI.rerankPath)] {
            guard let text = reader.optionalString(a, key, at: path) else { continue }
            if text.hasPrefix("/") {
                api[keyPath: keyPath] = text
            } else {
                reader.report("\(path).\(key)", a[key], "must start with '/', got '\(text)'")
            }
        }
        return api
    }

    /// `{max_in_flight, queue, queue_timeout_ms}` (and, for a service, the `group` it shares a cap with and
    /// `swap_wait_ms`).
    private func admissionLimits(
        _ yaml: Yams.Node, at path: String, allowGroup: Bool, base: AdmissionLimits = .defaults
    ) -> (limits: AdmissionLimits, group: String?) {
        var limits = base
        let serviceKeys = allowGroup ? ["group", "swap_wait_ms"] : []
        guard let l = reader.mapping(yaml, at: path, allowedKeys: Set(["max_in_flight", "queue", "queue_timeout_ms"] + serviceKeys)) else {
            return (limits, nil)
        }
        limits.maxInFlight = reader.int(l, "max_in_flight", at: path, in: 1...10_000, default: limits.maxInFlight)!
        limits.queueDepth = reader.int(l, "queue", at: path, in: 0...100_000, default: limits.queueDepth)!
        limits.queueTimeoutMs = reader.int(
            l, "queue_timeout_ms", at: path, in: 0...3_600_000,
            default: limits.queueTimeoutMs, unit: " ms")!
        if allowGroup {
            limits.swapWaitMs = reader.int(l, "swap_wait_ms", at: path, in: 0...600_000, default: 0, unit: " ms")!
        }
        return (limits, allowGroup ? reader.optionalString(l, "group", at: path) : nil)
    }

    private func serviceURL(_ map: Yams.Node.Mapping, at path: String, host: String?) -> String? {
        switch (map["port"], map["url"]) {
        case (nil, nil):
            reader.report(path, nil, "needs `port:` (on its node's host) or `url:`")
            return nil
        case (.some, .some):
            reader.report("\(path).url", map["url"], "give either `port:` or `url:`, not both")
            return nil
        case (.some, nil):
            guard let port = reader.int(map, "port", at: path, in: 1...65535, default: nil), let host else { return nil }
            return "http://\(host):\(port)"
        case (nil, .some):
            guard let text = reader.string(map, "url", at: path) else { return nil }
            guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme),
                let urlHost = url.host, !urlHost.isEmpty, url.query == nil
            else {
                reader.report("\(path).url", map["url"], "must be an http:// or https:// URL with a host, got '\(text)'")
                return nil
            }
            return text.hasSuffix("/") ? String(text.dropLast()) : text
        }
    }

    private func model(_ yaml: Yams.Node, at path: String, nodeIDs: Set<String>, services: [ClusterService]) -> ModelRecipe? {
        guard
            let map = reader.mapping(
                yaml, at: path,
                allowedKeys: [
                    "id", "name", "served_name", "service", "nodes", "memory_gib", "load_seconds", "params", "commands",
                ])
        else { return nil }
        let id = identifier(map, at: path)
        let servedName = reader.string(map, "served_name", at: path)
        let llmServices = services.filter { $0.kind == .vllm }.map(\.id)
        let service = reference(map, "service", at: path, among: llmServices, list: "services of kind vllm")
        var nodes: [String] = []
        for (index, entry) in reader.sequence(map, "nodes", at: path, required: true).enumerated() {
            let p = "\(path).nodes[\(index)]"
            guard let name = entry.string, case .scalar = entry else {
                reader.report(p, entry, "must be a node id")
                continue
            }
            if !nodeIDs.contains(name) {
                reader.report(p, entry, "names node '\(name)', which is not in nodes: (\(list(nodeIDs.sorted())))")
            } else if nodes.contains(name) {
                reader.report(p, entry, "names node '\(name)' twice")
            } else {
                nodes.append(name)
            }
        }
        let memory = reader.positiveNumber(map, "memory_gib", at: path)
        let loadSeconds = reader.int(map, "load_seconds", at: path, in: 1...7_200, default: 180, unit: " s") ?? 180
        var params: [String: String] = [:]
        if let paramsNode = map["params"] {
            if case .mapping(let rawParams) = paramsNode {
                for (key, value) in reader.merged(rawParams, at: "\(path).params") {
                    let name = key.string ?? ""
                    let p = "\(path).params.\(name)"
                    guard CommandTemplate.isValidName(name) else {
                        reader.report(p, key, "is not a parameter name (letters, digits and '_', starting with a letter)")
                        continue
                    }
                    guard case .scalar(let scalar) = value else {
                        reader.report(p, value, "must be a single value")
                        continue
                    }
                    if ["model_id", "served_name"].contains(name) {
                        reader.report(p, key, "is set by SparkDeck from the recipe; remove it from params")
                    }
                    params[name] = scalar.string
                }
            } else {
                reader.report("\(path).params", paramsNode, "must be a mapping of parameter names to values")
            }
        }
        let values = params.merging(["model_id": "", "served_name": ""]) { a, _ in a }
        var commands: RecipeCommands?
        if let commandsNode = map["commands"] {
            if let c = reader.mapping(commandsNode, at: "\(path).commands", allowedKeys: ["launch", "stop", "logs", "status"]) {
                let p = "\(path).commands"
                let launch = template(c, "launch", at: p, values: values, required: true)
                let stop = template(c, "stop", at: p, values: values, required: true)
                let logs = template(c, "logs", at: p, values: values, required: true)
                let status = template(c, "status", at: p, values: values, required: false)
                if let launch, let stop, let logs { commands = RecipeCommands(launch: launch, stop: stop, logs: logs, status: status) }
            }
        } else {
            reader.report("\(path).commands", yaml, "is missing; a model needs `launch`, `stop` and `logs` commands")
        }
        guard let id, let servedName, let service, !nodes.isEmpty, let commands else { return nil }
        return ModelRecipe(
            id: id, name: reader.optionalString(map, "name", at: path) ?? id, servedName: servedName,
            service: service, nodes: nodes, memoryGiB: memory, expectedLoadSeconds: loadSeconds,
            params: params, commands: commands)
    }

    private func action(_ yaml: Yams.Node, at path: String, nodeIDs: Set<String>) -> MaintenanceAction? {
        guard
            let map = reader.mapping(
                yaml, at: path,
                allowedKeys: [
                    "id", "name", "node", "command", "description", "timeout_seconds",
                ])
        else { return nil }
        let id = identifier(map, at: path)
        let node = reference(map, "node", at: path, among: nodeIDs.sorted(), list: "nodes")
        let command = template(map, "command", at: path, values: [:], required: true)
        let description = reader.string(map, "description", at: path)
        let timeout = reader.int(map, "timeout_seconds", at: path, in: 1...86_400, default: 300, unit: " s")
        guard let id, let node, let command, let description, let timeout else { return nil }
        return MaintenanceAction(
            id: id, name: reader.optionalString(map, "name", at: path) ?? id, node: node,
            command: command, description: description, timeoutSeconds: timeout)
    }

    // MARK: Pieces

    private func identifier(_ map: Yams.Node.Mapping, at path: String) -> String? {
        guard let id = reader.string(map, "id", at: path) else { return nil }
        guard id.range(of: #"^[a-z0-9][a-z0-9-]{0,62}$"#, options: .regularExpression) != nil else {
            reader.report("\(path).id", map["id"], "'\(id)' is not a valid id: \(Self.idRule)")
            return nil
        }
        return id
    }

    private func reference(
        _ map: Yams.Node.Mapping, _ key: String, at path: String,
        among ids: [String], list name: String
    ) -> String? {
        guard let value = reader.string(map, key, at: path) else { return nil }
        guard ids.contains(value) else {
            reader.report("\(path).\(key)", map[key], "names '\(value)', which is not in \(name): (\(list(ids)))")
            return nil
        }
        return value
    }

    private func template(
        _ map: Yams.Node.Mapping, _ key: String, at path: String,
        values: [String: String], required: Bool
    ) -> CommandTemplate? {
        guard map[key] != nil || required else { return nil }
        guard let text = reader.string(map, key, at: path) else { return nil }
        let template: CommandTemplate
        do {
            template = try CommandTemplate(text)
        } catch {
            reader.report("\(path).\(key)", map[key], "\(error)")
            return nil
        }
        for name in template.parameterNames where values[name] == nil {
            let known = values.keys.sorted()
            reader.report(
                "\(path).\(key)", map[key],
                "names {\(name)}, which is not a parameter of this entry"
                    + (known.isEmpty ? " (it has none)" : " (it has: \(list(known)))"))
        }
        return template
    }

    private func checkIPv4(_ host: String, node: Yams.Node?, at path: String) {
        if host.hasPrefix("<") && host.hasSuffix(">") {
            reader.report(path, node, "still holds the placeholder \(host); put the node's IPv4 address here")
        } else if host.lowercased().hasSuffix(".local") {
            reader.report(
                path, node,
                "'\(host)' is an mDNS name; use the node's IPv4 address instead "
                    + "(.local names resolve IPv6-first and hang SSH and HTTP connects)")
        } else if !Self.isIPv4(host) {
            reader.report(path, node, "'\(host)' is not an IPv4 address; give a literal like 192.0.2.10 (host names are not used)")
        }
    }

    private func uniqueIDs<T>(_ entries: [T], list name: String) -> [T] where T: Identifiable, T.ID == String {
        var seen: Set<String> = []
        var kept: [T] = []
        for entry in entries {
            if seen.insert(entry.id).inserted {
                kept.append(entry)
            } else {
                reader.report(name, nil, "id '\(entry.id)' is used by more than one entry; ids must be unique")
            }
        }
        return kept
    }

    private func list(_ items: [String]) -> String { items.isEmpty ? "none" : items.joined(separator: ", ") }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                    && Int(part).map { $0 <= 255 } == true && !(part.count > 1 && part.first == "0")
            }
    }

    static func isValidUser(_ user: String) -> Bool {
        user.range(of: #"^[A-Za-z_][A-Za-z0-9._-]{0,31}$"#, options: .regularExpression) != nil
    }
}

extension Node: Identifiable {}
extension ClusterService: Identifiable {}
extension ModelRecipe: Identifiable {}
extension MaintenanceAction: Identifiable {}
