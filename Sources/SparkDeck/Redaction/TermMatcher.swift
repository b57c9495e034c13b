import Foundation

/// Custom terms (the inventory's standing ones and a request's `custom_terms`) found in one pass over the text:
/// an Aho–Corasick automaton over the case-folded UTF-8 bytes, so the work grows with the text, not with the text
/// times the terms. Each whole-word occurrence (no letter or digit right before or after it) is found, ASCII folded
/// byte by byte and other characters by their lowercase, as the scrubber always matched; a term never starts inside
/// its own last match. Overlapping matches of different terms stay apart when they are few (the scrubber's overlap
/// rule decides) and become one span over all of them when they are many, so no input makes the findings grow with
/// the number of terms. Pure.
struct TermMatcher: Sendable {
    /// A term as it is matched: its folded bytes and its identity (lowercase).
    struct Term: Sendable {
        var folded: [UInt8]
        var canonical: String
    }

    let terms: [Term]
    /// The automaton: node 0 is the root. Children of a node are `edgeBytes`/`edgeTargets[edgeStart[n]..<edgeStart[n+1]]`,
    /// sorted by byte; the root's are also in `rootNext` (every byte).
    private let edgeStart: [Int32]
    private let edgeBytes: [UInt8]
    private let edgeTargets: [Int32]
    private let rootNext: [Int32]
    private let fail: [Int32]
    /// The term that ends at a node (-1: none), and the nearest node on its fail chain where one ends (-1: none).
    private let output: [Int32]
    private let outputLink: [Int32]

    /// More overlapping matches than this in one stretch of text become one span.
    static let groupLimit = 64

    var isEmpty: Bool { terms.isEmpty }

    /// The terms as matched: trimmed, normalized as the text is (`NormalizedText`), at least two characters.
    static func prepared(_ raw: [String]) -> [Term] {
        var seen = Set<[UInt8]>()
        var terms: [Term] = []
        for term in raw {
            let needle = NormalizedText(term).text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard needle.count >= 2 else { continue }
            let canonical = needle.lowercased()
            let folded = Array(canonical.utf8)
            if seen.insert(folded).inserted { terms.append(Term(folded: folded, canonical: canonical)) }
        }
        return terms
    }

    init(_ raw: [String]) {
        let terms = Self.prepared(raw)
        self.terms = terms
        // The trie, with one table of edges while it is built.
        var children: [Int64: Int32] = [:]
        var nodeCount = 1
        var output: [Int32] = [-1]
        var parentByte: [(parent: Int32, byte: UInt8)] = [(0, 0)]
        for (index, term) in terms.enumerated() {
            var node: Int32 = 0
            for byte in term.folded {
                let key = Int64(node) << 8 | Int64(byte)
                if let next = children[key] {
                    node = next
                } else {
                    let next = Int32(nodeCount)
                    nodeCount += 1
                    children[key] = next
                    output.append(-1)
                    parentByte.append((node, byte))
                    node = next
                }
            }
            output[Int(node)] = Int32(index)
        }
        // Edges by node (counting sort), then sorted by byte inside each node.
        var start = [Int32](repeating: 0, count: nodeCount + 1)
        for node in 1..<nodeCount { start[Int(parentByte[node].parent) + 1] += 1 }
        for node in 0..<nodeCount { start[node + 1] += start[node] }
        var fill = start
        var bytes = [UInt8](repeating: 0, count: nodeCount - 1)
        var targets = [Int32](repeating: 0, count: nodeCount - 1)
        for node in 1..<nodeCount {
            let (parent, byte) = parentByte[node]
            let slot = Int(fill[Int(parent)])
            fill[Int(parent)] += 1
            bytes[slot] = byte
            targets[slot] = Int32(node)
        }
        for node in 0..<nodeCount where start[node + 1] - start[node] > 1 {
            let range = Int(start[node])..<Int(start[node + 1])
            let sorted = range.map { (bytes[$0], targets[$0]) }.sorted { $0.0 < $1.0 }
            for (offset, edge) in sorted.enumerated() {
                bytes[range.lowerBound + offset] = edge.0
                targets[range.lowerBound + offset] = edge.1
            }
        }
        var root = [Int32](repeating: 0, count: 256)
        for slot in Int(start[0])..<Int(start[1]) { root[Int(bytes[slot])] = targets[slot] }
        edgeStart = start
        edgeBytes = bytes
        edgeTargets = targets
        rootNext = root
        // Fail and output links, breadth first (a node's fail target is shallower, so it is done first).
        var fail = [Int32](repeating: 0, count: nodeCount)
        var link = [Int32](repeating: -1, count: nodeCount)
        var queue: [Int32] = []
        queue.reserveCapacity(nodeCount)
        for slot in Int(start[0])..<Int(start[1]) { queue.append(targets[slot]) }
        var head = 0
        while head < queue.count {
            let node = Int(queue[head])
            head += 1
            for slot in Int(start[node])..<Int(start[node + 1]) {
                let child = Int(targets[slot])
                let byte = bytes[slot]
                var f = Int(fail[node])
                while true {
                    if let next = Self.child(of: f, byte, start: start, bytes: bytes, targets: targets, root: root), next != child {
                        fail[child] = Int32(next)
                        break
                    }
                    if f == 0 { break }
                    f = Int(fail[f])
                }
                let target = Int(fail[child])
                link[child] = output[target] >= 0 ? Int32(target) : link[target]
                queue.append(Int32(child))
            }
        }
        self.fail = fail
        self.output = output
        outputLink = link
    }

    @inline(__always)
    private static func child(of node: Int, _ byte: UInt8, start: [Int32], bytes: [UInt8], targets: [Int32], root: [Int32]) -> Int? {
        if node == 0 {
            let next = root[Int(byte)]
            return next == 0 ? nil : Int(next)
        }
        for slot in Int(start[node])..<Int(start[node + 1]) {
            let edge = bytes[slot]
            if edge == byte { return Int(targets[slot]) }
            if edge > byte { return nil }
        }
        return nil
    }

    /// The text folded for matching: ASCII lowercased, other characters by their lowercase; for text that is not
    /// plain ASCII, where each folded byte's character starts in the text (and whether the byte starts it).
    struct Folded {
        var bytes: [UInt8]
        /// Per folded byte (and one past the end): the text offset of its character; empty for ASCII text.
        var origin: [Int32] = []
        /// Per folded byte (and one past the end): whether a character's folded form starts there.
        var starts: [Bool] = []

        init(_ text: [UInt8]) {
            if text.withUnsafeBufferPointer(allASCII) {
                bytes = text.map(\.asciiLowercased)
                return
            }
            let t = TextBytes(text)
            bytes = []
            bytes.reserveCapacity(text.count)
            origin.reserveCapacity(text.count + 1)
            starts.reserveCapacity(text.count + 1)
            var index = 0
            while index < text.count {
                let byte = text[index]
                if byte < 0x80 {
                    bytes.append(byte.asciiLowercased)
                    origin.append(Int32(index))
                    starts.append(true)
                    index += 1
                    continue
                }
                guard let (scalar, length) = t.scalar(at: index) else {
                    bytes.append(byte)
                    origin.append(Int32(index))
                    starts.append(true)
                    index += 1
                    continue
                }
                var first = true
                for lower in String(scalar).lowercased().utf8 {
                    bytes.append(lower)
                    origin.append(Int32(index))
                    starts.append(first)
                    first = false
                }
                index += length
            }
            origin.append(Int32(text.count))
            starts.append(true)
        }

        func textOffset(_ position: Int) -> Int { origin.isEmpty ? position : Int(origin[position]) }
        func startsCharacter(_ position: Int) -> Bool { starts.isEmpty || starts[position] }
    }

    /// Each whole-word occurrence of a term in the normalized bytes, as `.custom` findings in text order.
    func findings(in text: [UInt8]) -> [Finding] {
        guard !terms.isEmpty, !text.isEmpty else { return [] }
        let t = TextBytes(text)
        let folded = Folded(text)
        var lastEnd = [Int](repeating: 0, count: terms.count)
        var groups = MatchGroups()
        var state = 0
        folded.bytes.withUnsafeBufferPointer { bytes in
            for position in 0..<bytes.count {
                let byte = bytes[position]
                while true {
                    if let next = Self.child(of: state, byte, start: edgeStart, bytes: edgeBytes, targets: edgeTargets, root: rootNext) {
                        state = next
                        break
                    }
                    if state == 0 { break }
                    state = Int(fail[state])
                }
                var node = output[state] >= 0 ? state : Int(outputLink[state])
                guard node > 0 else { continue }
                let end = position + 1
                // A match ends only where a character ends and no letter or digit follows.
                guard folded.startsCharacter(end) else { continue }
                let textEnd = folded.textOffset(end)
                guard !Scrubber.isLetterOrDigit(at: textEnd, in: t) else { continue }
                // Every term that ends here: at most one per length, so at most the longest term's length of them.
                while node > 0 {
                    let term = Int(output[node])
                    node = Int(outputLink[node])
                    let begin = end - terms[term].folded.count
                    guard folded.startsCharacter(begin) else { continue }
                    let textStart = folded.textOffset(begin)
                    guard textStart >= lastEnd[term], !Scrubber.isLetterOrDigit(before: textStart, in: t) else { continue }
                    lastEnd[term] = textEnd
                    groups.add(textStart..<textEnd, term: term)
                }
            }
        }
        return groups.findings(terms)
    }

    /// Matches gathered into stretches of text where they overlap, as they come (in order of their ends).
    struct MatchGroups {
        struct Group {
            var range: Range<Int>
            /// The matches (range, term), while there are at most `groupLimit`; nil once there were more.
            var matches: [(range: Range<Int>, term: Int)]?
        }
        var groups: [Group] = []

        mutating func add(_ range: Range<Int>, term: Int) {
            var group = Group(range: range, matches: [(range, term)])
            // Matches come by their ends, so a new one can only reach back over the last groups.
            while let last = groups.last, last.range.upperBound > range.lowerBound {
                groups.removeLast()
                group.range = min(last.range.lowerBound, group.range.lowerBound)..<group.range.upperBound
                if let earlier = last.matches, let mine = group.matches, earlier.count + mine.count <= TermMatcher.groupLimit {
                    group.matches = earlier + mine
                } else {
                    group.matches = nil
                }
            }
            groups.append(group)
        }

        func findings(_ terms: [Term]) -> [Finding] {
            var findings: [Finding] = []
            findings.reserveCapacity(groups.count)
            for group in groups {
                guard let matches = group.matches else {
                    findings.append(Finding(type: .custom, range: group.range, isUnion: true))
                    continue
                }
                for match in matches.sorted(by: {
                    $0.range.lowerBound != $1.range.lowerBound ? $0.range.lowerBound < $1.range.lowerBound : $0.term < $1.term
                }) {
                    findings.append(Finding(type: .custom, range: match.range, canonical: terms[match.term].canonical))
                }
            }
            return findings
        }
    }
}
