/// Joins the words of overlapping transcription pieces into one recording's words. Each overlap is halved between
/// its two pieces and a word belongs to the piece whose own stretch holds its middle, so a word heard in an overlap
/// is kept once, from the piece that heard it away from its edge. Pure.
public enum TranscriptStitch {
    /// `pieces`' word times are relative to their chunk's start; the result is in recording time, in order.
    public static func words(_ pieces: [(chunk: ChunkPlan.Chunk, words: [Transcript.Word])]) -> [Transcript.Word] {
        let ordered = pieces.sorted { $0.chunk.start < $1.chunk.start }
        var result: [Transcript.Word] = []
        for (index, piece) in ordered.enumerated() {
            let from = index == 0 ? -Double.infinity : (ordered[index - 1].chunk.end + piece.chunk.start) / 2
            let to = index == ordered.count - 1 ? Double.infinity : (piece.chunk.end + ordered[index + 1].chunk.start) / 2
            for var word in piece.words {
                word.start += piece.chunk.start
                word.end += piece.chunk.start
                let middle = (word.start + word.end) / 2
                if middle >= from, middle < to { result.append(word) }
            }
        }
        return result
    }
}
