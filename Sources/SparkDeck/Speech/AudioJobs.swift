import Foundation
import Logging
import ServiceLifecycle

/// Runs diarizations and long transcriptions: a few at once (the rest wait their turn, in order), each from its
/// spooled upload. A job asked for with `async=true` is stored, so its state survives the client and a restart: an
/// unfinished one resumes from its spooled file, or fails saying why. Progress goes out on `/api/events` as
/// `audio_job` events.
public actor AudioJobs {
    let store: AudioJobStore
    let spool: AudioSpool
    let events: EventBroadcaster
    let inventory: Inventory
    let core: UpstreamCore
    let logger: Logger
    /// How many jobs process at once; each already sends chunks up to the audio cap, so more would only queue there.
    let turns: AdmissionGate
    private var running: [String: Task<TranscriptFormat.Rendered, any Error>] = [:]
    private var live: [String: AudioJob] = [:]
    /// SparkDeck is shutting down: jobs cut short stay unfinished in the store, with their spools, to resume.
    private var stopping = false
    /// How long a finished job's answer is kept.
    static let keepFinished: Double = 7 * 24 * 3600

    public init(store: AudioJobStore, spool: AudioSpool, events: EventBroadcaster, inventory: Inventory, core: UpstreamCore, logger: Logger)
    {
        self.store = store
        self.spool = spool
        self.events = events
        self.inventory = inventory
        self.core = core
        self.logger = logger
        turns = AdmissionGate(
            name: "audio-jobs", limits: AdmissionLimits(maxInFlight: 2, queueDepth: 10_000, queueTimeoutMs: 7 * 24 * 3_600_000))
    }

    /// Starts a job on an upload already in `spool`'s folder for `id`. `stored` keeps it in SQLite (an async job).
    func start(id: String, request: AudioJobRequest, stored: Bool, owner: String? = nil) async throws
        -> Task<TranscriptFormat.Rendered, any Error>
    {
        let now = Timestamp.now()
        var job = AudioJob(id: id, request: request, state: .queued, progress: AudioJobProgress(), createdAt: now, updatedAt: now)
        job.owner = owner
        job.app = RequestApp.current
        if stored { try await store.save(job) }
        return launch(job, stored: stored)
    }

    private func launch(_ job: AudioJob, stored: Bool) -> Task<TranscriptFormat.Rendered, any Error> {
        live[job.id] = job
        let task = Task<TranscriptFormat.Rendered, any Error> {
            do {
                let rendered = try await self.process(job, stored: stored)
                await self.countAudio(job.id)
                await self.finish(job.id, stored: stored) {
                    $0.state = .succeeded
                    $0.result = rendered.body
                    $0.resultType = rendered.contentType
                }
                return rendered
            } catch {
                let cancelled = Task.isCancelled || error is CancellationError
                let apiError = error as? APIError
                await self.finish(job.id, stored: stored) { job in
                    job.state = cancelled ? .cancelled : .failed
                    job.errorCode = cancelled ? "cancelled" : apiError?.code ?? "job_failed"
                    job.errorMessage = cancelled ? "The job was cancelled." : apiError?.message ?? "The job failed: \(error)"
                    job.errorParam = apiError?.param
                }
                throw error
            }
        }
        running[job.id] = task
        return task
    }

    private func process(_ job: AudioJob, stored: Bool) async throws -> TranscriptFormat.Rendered {
        let lease = try await AdmissionLease.acquire([turns])
        defer { lease.release() }
        try Task.checkCancellation()
        guard let service = inventory.services(of: .asr).first else {
            throw APIError(
                .serviceUnavailable, type: "upstream_unavailable", code: "no_asr_service",
                message: "The inventory has no asr service; add one (parakeet-asr, port 8000) to process audio.")
        }
        await update(job.id, stored: stored) { $0.state = .running }
        let upstream = Upstream(service: service)
        let work = AudioWork(
            request: job.request, upload: spool.uploadPath(for: job.id), folder: try spool.folder(for: job.id),
            asr: ASRClient(core: core, service: service),
            maxConcurrent: core.gates.maxInFlight(for: upstream))
        return try await work.run { progress in
            await self.update(job.id, stored: stored) { $0.progress = progress }
        }
    }

    /// Counts the seconds of audio a finished job processed to the app that sent it (kept with the job, so a job
    /// resumed after a restart counts to it as well).
    private func countAudio(_ id: String) {
        guard let job = live[id], let service = inventory.services(of: .asr).first else { return }
        RequestApp.$current.withValue(job.app) {
            core.observer.audio(
                route: job.request.kind == .diarization ? "diarizations" : "transcriptions", upstream: service.id,
                seconds: job.progress.audioSeconds)
        }
    }

    private func update(_ id: String, stored: Bool, _ change: (inout AudioJob) -> Void) async {
        guard var job = live[id] else { return }
        change(&job)
        job.updatedAt = Timestamp.now()
        live[id] = job
        if stored {
            // Saved outside the job's task: a cancelled job's last state must still be written (GRDB refuses work
            // to a cancelled task).
            let store = store
            let saved = job
            do { try await Task { try await store.save(saved) }.value } catch {
                logger.warning("audio job \(id) could not be saved: \(error)")
            }
        }
        await events.publish(.named("audio_job", Self.event(job)))
    }

    private func finish(_ id: String, stored: Bool, _ change: (inout AudioJob) -> Void) async {
        var probe = live[id]
        if probe != nil { change(&probe!) }
        if stopping, stored, probe?.state != .succeeded {
            live[id] = nil
            running[id] = nil
            return
        }
        await update(id, stored: stored, change)
        live[id] = nil
        running[id] = nil
        spool.remove(id)
    }

    /// The job's state: live while it runs, from the store after.
    public func job(_ id: String) async throws -> AudioJob? {
        if let job = live[id] { return job }
        return try await store.job(id)
    }

    /// Cancels a job that has not finished: its chunk calls stop, its spool is removed. Nil for an unknown job, and
    /// for one `caller` may not use (it is left running).
    public func cancel(_ id: String, by caller: String?) async throws -> AudioJob? {
        guard let found = try await job(id), found.isUsable(by: caller) else { return nil }
        if let task = running[id] {
            task.cancel()
            _ = await task.result
        }
        return try await job(id)
    }

    /// At start-up: unfinished jobs resume from their spooled uploads (or fail saying why), and spool folders no
    /// job owns (a synchronous call cut short by a crash) are removed.
    public func resumeUnfinished() async {
        do {
            try await store.prune(finishedBefore: Timestamp.now() - Self.keepFinished)
            let unfinished = try await store.unfinished()
            spool.removeAll(except: Set(unfinished.map(\.id)))
            for var job in unfinished {
                guard spool.hasUpload(for: job.id) else {
                    job.state = .failed
                    job.errorCode = "upload_lost"
                    job.errorMessage = "SparkDeck stopped while this job ran and its spooled upload is gone; send the file again."
                    job.updatedAt = Timestamp.now()
                    try await store.save(job)
                    continue
                }
                logger.info("resuming audio job \(job.id) from its spooled upload")
                job.state = .queued
                job.progress = AudioJobProgress()
                _ = launch(job, stored: true)
            }
        } catch {
            logger.error("unfinished audio jobs could not be read: \(error)")
        }
    }

    /// Stops every running job for shutdown, leaving the stored ones to resume at the next start.
    public func stopAll() async {
        stopping = true
        let tasks = Array(running.values)
        for task in tasks { task.cancel() }
        for task in tasks { _ = try? await task.value }
    }

    static func event(_ job: AudioJob) -> JSONValue {
        .object([
            "id": .string(job.id), "kind": .string(job.request.kind.rawValue), "state": .string(job.state.rawValue),
            "progress": job.progress.json, "error": .optional(job.errorMessage),
        ])
    }
}

/// Resumes unfinished audio jobs once SparkDeck runs; on shutdown running jobs stay `running` in the store, so the
/// next start picks them up.
public struct AudioJobResumer: Service {
    let jobs: AudioJobs

    public init(jobs: AudioJobs) { self.jobs = jobs }

    public func run() async throws {
        await jobs.resumeUnfinished()
        try? await gracefulShutdown()
        await jobs.stopAll()
    }
}
