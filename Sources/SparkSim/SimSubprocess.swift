import Foundation

/// Runs a tool (ffmpeg, espeak-ng) with an argument array, never through a shell, so nothing a request carries can
/// become a command.
enum SimSubprocess {
    struct Output: Sendable {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    struct NotFound: Error, CustomStringConvertible {
        var tool: String
        var description: String { "\(tool) is not installed (not on PATH)" }
    }

    /// The tool's path on `PATH`, or nil.
    static func find(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `tool` to completion with `input` on its standard input; both pipes are drained on their own threads
    /// so a large output never blocks the tool.
    static func run(_ tool: String, _ arguments: [String], input: Data? = nil) async throws -> Output {
        guard let executable = find(tool) else { throw NotFound(tool: tool) }
        return try await withCheckedThrowingContinuation { continuation in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            let stdout = Pipe()
            let stderr = Pipe()
            let stdin = Pipe()
            process.standardOutput = stdout
            process.standardError = stderr
            process.standardInput = input == nil ? FileHandle.nullDevice : stdin
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
                return
            }
            let collected = Collected()
            let group = DispatchGroup()
            group.enter()
            DispatchQueue.global().async {
                collected.setOut(stdout.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
            group.enter()
            DispatchQueue.global().async {
                collected.setErr(stderr.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
            if let input {
                DispatchQueue.global().async {
                    // A tool that exits early closes its end; the write error is then its exit status's business.
                    try? stdin.fileHandleForWriting.write(contentsOf: input)
                    try? stdin.fileHandleForWriting.close()
                }
            }
            DispatchQueue.global().async {
                group.wait()
                process.waitUntilExit()
                let (out, err) = collected.values
                continuation.resume(
                    returning: Output(
                        status: process.terminationStatus, stdout: out,
                        stderr: String(decoding: err, as: UTF8.self)))
            }
        }
    }

    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var out = Data()
        private var err = Data()
        func setOut(_ data: Data) {
            lock.lock()
            out = data
            lock.unlock()
        }
        func setErr(_ data: Data) {
            lock.lock()
            err = data
            lock.unlock()
        }
        var values: (Data, Data) {
            lock.lock()
            defer { lock.unlock() }
            return (out, err)
        }
    }
}
