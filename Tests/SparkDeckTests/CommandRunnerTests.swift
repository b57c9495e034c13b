import Foundation
import Testing

@testable import SparkDeck

/// What the launch recipes, maintenance actions and log followers rely on in the commands SparkDeck runs.
struct CommandRunnerTests {
    let runner = LocalCommandRunner()

    /// Gone, or a zombie waiting for its reaper.
    static func isGone(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return true }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    @Test func aCommandThatLeavesABackgroundProcessIsSeenToExit() async throws {
        let result = try await runner.run("sleep 60 & echo $!; echo to-stderr >&2; exit 3", timeout: .seconds(30))
        let lines = result.output.split(separator: "\n").map(String.init)
        let background = try #require(Int32(lines.first ?? ""), "\(result.output)")
        defer { kill(background, SIGKILL) }
        #expect(result.exitCode == 3)
        #expect(lines.dropFirst() == ["to-stderr"], "standard error is in the output, after what came before it")
        #expect(!Self.isGone(background), "the run ended while the background process still holds its output file")
        let killed = try await runner.run("kill -KILL $$", timeout: .seconds(30))
        #expect(killed.exitCode == 128 + SIGKILL)
    }

    @Test func aChildGetsOnlyItsStandardDescriptorsDefaultSignalsAndAGroupOfItsOwn() async throws {
        let leaked = open("/dev/null", O_RDONLY) // without O_CLOEXEC, as a careless open leaves a descriptor
        defer { close(leaked) }
        signal(SIGPIPE, SIG_IGN) // as a server ignores it
        // `ls` lists the shell's descriptors from a process of its own, so its own open folder is not among them.
        let descriptors = try await runner.run("ls /proc/$$/fd", timeout: .seconds(30)).output.split(separator: "\n")
        #expect(descriptors == ["0", "1", "2"], "descriptor \(leaked) of the parent, or another, reached the child: \(descriptors)")
        // Read by grep itself: a waiting dash blocks every signal.
        let signals = ProcessCommand(argv: ["/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"]) { _ in nil }
        let lines = try await signals.run(timeout: .seconds(30), scratch: try TestSupport.temporaryDirectory())
            .output.split(separator: "\n").map(String.init)
        try #require(lines.count == 2, "\(lines)")
        let mask = { (line: String) in UInt64(line.split(separator: "\t").last ?? "", radix: 16) ?? .max }
        #expect(lines[0].hasPrefix("SigBlk") && mask(lines[0]) == 0, "no signal blocked: \(lines[0])")
        let pipeAndInterrupt: UInt64 = 1 << (UInt64(SIGPIPE) - 1) | 1 << (UInt64(SIGINT) - 1)
        #expect(lines[1].hasPrefix("SigIgn") && mask(lines[1]) & pipeAndInterrupt == 0, "SIGPIPE and SIGINT act by default: \(lines[1])")
        let group = try await runner.run("echo $$ $(cut -d' ' -f5 /proc/$$/stat)", timeout: .seconds(30)).output
        let ids = group.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        #expect(ids.count == 2 && ids[0] == ids[1] && ids[1] != getpgrp(), "the child leads a process group of its own: \(group)")
    }

    @Test func aTimedOutCommandSaysSoAndItsProcessGroupIsKilled() async throws {
        let pidFile = try TestSupport.temporaryDirectory() + "/background.pid"
        // Both ignore SIGTERM, so only the SIGKILL to the group that follows it ends them.
        let command = "trap '' TERM; sleep 60 & echo $! > \(ShellQuote.quote(pidFile)); wait"
        await #expect(throws: CommandRunnerError.timedOut(after: .seconds(3), command: command)) {
            _ = try await runner.run(command, timeout: .seconds(3))
        }
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        let background = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(background, SIGKILL) }
        #expect(
            await TestSupport.eventually(timeout: .seconds(10)) { Self.isGone(background) },
            "the background process of a timed-out command is still alive")
    }

    @Test func aCommandThatCannotStartSaysSo() async throws {
        let missing = ProcessCommand(argv: ["/nonexistent/sparkdeck-no-such-program"]) { _ in nil }
        do {
            _ = try await missing.run(timeout: .seconds(30), scratch: try TestSupport.temporaryDirectory())
            Issue.record("a missing program ran")
        } catch CommandRunnerError.couldNotStart(let reason) {
            #expect(reason.contains("cannot start /nonexistent/sparkdeck-no-such-program"), "\(reason)")
        }
        do {
            for try await line in missing.follow() { Issue.record("a missing program printed \(line)") }
            Issue.record("a missing program was followed")
        } catch CommandRunnerError.couldNotStart(let reason) {
            #expect(reason.contains("cannot start /nonexistent/sparkdeck-no-such-program"), "\(reason)")
        }
    }

    @Test func aFollowedCommandEndsWhenItExitsThoughABackgroundProcessHoldsItsOutput() async throws {
        var lines: [String] = []
        for try await line in runner.follow("echo first; sleep 60 & echo $!; echo last >&2") { lines.append(line) }
        try #require(lines.count == 3, "\(lines)")
        let background = try #require(Int32(lines[1]))
        defer { kill(background, SIGKILL) }
        #expect(lines[0] == "first" && lines[2] == "last")
        #expect(!Self.isGone(background), "the stream ended while the background process still holds the pipe")
        do {
            for try await _ in runner.follow("exec /nonexistent/sparkdeck-no-such-program") {}
            Issue.record("a follow whose command is not found ended cleanly")
        } catch let error as CommandRunnerError {
            guard case .commandNotFound = error else {
                Issue.record("\(error)")
                return
            }
        }
    }
}
