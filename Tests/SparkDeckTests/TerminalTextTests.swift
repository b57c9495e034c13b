import Testing

@testable import SparkDeck

@Suite("What a terminal shows of a log line")
struct TerminalTextTests {
    @Test func plainLinesAreUnchanged() {
        for line in ["", "INFO 11-27 01:20:00 [on.py:62] Application startup complete.", "größe 5 € ✓", "a\tb"] {
            #expect(TerminalText.visible(line) == line)
        }
    }

    @Test func escapeSequencesAreDropped() {
        #expect(
            TerminalText.visible("\u{1B}[1;36m(VllmWorker rank=0 pid=226)\u{1B}[0;0m INFO ready")
                == "(VllmWorker rank=0 pid=226) INFO ready")
        #expect(TerminalText.visible("\u{1B}[2K\u{1B}[1Gdone") == "done", "erase-line and cursor moves")
        #expect(TerminalText.visible("\u{1B}]0;window title\u{07}text") == "text", "OSC ended by BEL")
        #expect(TerminalText.visible("\u{1B}]8;;http://x\u{1B}\\link") == "link", "OSC ended by ESC \\")
        #expect(TerminalText.visible("cut off\u{1B}") == "cut off")
        #expect(TerminalText.visible("cut off\u{1B}[1;3") == "cut off")
    }

    @Test func carriageReturnsWriteOverTheLine() {
        #expect(TerminalText.visible("progress  9%\rprogress 10%") == "progress 10%")
        #expect(TerminalText.visible("abcdef\rXY") == "XYcdef", "a shorter update leaves the rest visible")
        #expect(TerminalText.visible("done\r") == "done")
        #expect(TerminalText.visible("\r\rfirst") == "first")
    }

    @Test func vllmWorkerProgressLinesParse() {
        // How `docker logs` holds one tqdm update of a multi-process vLLM load: a coloured worker tag, then `\r`.
        let raw =
            "\u{1B}[1;36m(VllmWorker rank=0 pid=226)\u{1B}[0;0m \rLoading safetensors checkpoint shards:  19% Completed | 7/37 [00:01<00:07,  4.00it/s]"
        guard case .progress(let progress) = LoadProgressParser.parse(raw) else {
            Issue.record("not read as progress: \(raw)")
            return
        }
        #expect(
            progress
                == LoadProgress(
                    stage: .weights, percent: 14,
                    detail: "Loading safetensors checkpoint shards:  19% Completed | 7/37 [00:01<00:07,  4.00it/s]"))
        var record = SwapRecord(id: "s", model: "m", fromModel: nil, expectedSeconds: 10, at: 0)
        record.appendLog(raw)
        #expect(record.logTail == ["Loading safetensors checkpoint shards:  19% Completed | 7/37 [00:01<00:07,  4.00it/s]"])
    }
}
