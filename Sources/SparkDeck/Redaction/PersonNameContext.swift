/// Context that says a capitalised word no list holds is a name: attendee and recipient lists, a speaker's turn at
/// the start of a line, a verb of speech or action after it, a known surname after it.
extension PersonNameDetector {
    /// Words that head a list of people (`Attendees: Piotr Dyja, Virginie Brunel`).
    static let listHeads: Set<String> = [
        "attendees", "attendee", "attending", "attendance", "participants", "present", "absent", "apologies", "invitees",
        "invited", "recipients", "to", "cc", "bcc", "from", "speakers", "panel", "panelists", "members", "reviewers",
        "reviewer", "assignees", "assignee", "assigned", "guests", "owners", "owner", "people", "contacts", "organizer",
        "organiser", "host", "hosts", "chair", "moderator", "interviewer", "interviewee", "candidate", "candidates",
        "author", "authors", "approver", "approvers", "witness", "witnesses", "team", "staff", "with", "by", "lead",
        "leads", "facilitator", "notetaker", "scribe", "requester", "reporter", "sender", "signatories", "volunteers",
        // Roles written before a name in tickets, records and transcripts (`Agent: Olwethu Mahlobo`).
        "agent", "customer", "patient", "client", "employee", "name", "contact", "caller", "user", "technician",
        "engineer", "manager", "doctor", "physician", "nurse", "tenant", "landlord", "buyer", "seller", "applicant",
        "student", "teacher", "beneficiary", "cardholder", "holder", "supervisor", "representative", "rep",
        "emergency", "next", "spouse", "parent", "guardian", "referred", "prepared", "reviewed", "approved",
        "submitted", "requested", "escalated", "signed", "interpreter", "attorney", "lawyer", "landlady", "driver",
        "account", "primary", "secondary", "billing",
    ]
    static let listHeadHashes: Set<UInt64> = Set(listHeads.map { WordTable.hash($0.utf8) })

    /// Verbs of speech and action that follow a person (`Dyja said`, `Brunel will review`).
    static let personVerbs: Set<String> = [
        "said", "says", "asked", "asks", "wrote", "writes", "mentioned", "mentions", "noted", "notes", "agreed",
        "agrees", "suggested", "suggests", "confirmed", "confirms", "reported", "reports", "explained", "explains",
        "replied", "replies", "presented", "presents", "proposed", "proposes", "added", "adds", "stated", "states",
        "thinks", "thought", "believes", "will", "would", "should", "could", "can", "cannot", "can't", "won't",
        "joined", "joins", "called", "calls", "emailed", "emails", "texted", "sent", "sends", "shared", "shares",
        "raised", "raises", "argued", "argues", "approved", "approves", "reviewed", "reviews", "recommended",
        "recommends", "wants", "needs", "requested", "requests", "promised", "promises", "offered", "offers",
        "volunteered", "owns", "leads", "led", "took", "takes", "made", "makes", "decided", "decides", "answered",
        "answers", "responded", "responds", "commented", "comments", "pointed", "objected", "insisted", "warned",
        "reminded", "recalled", "admitted", "announced", "demoed", "summarized", "summarised", "clarified",
        "questioned", "signed", "booked", "scheduled", "organized", "organised", "drafted", "prepared", "submitted",
        "merged", "fixed", "found", "opened", "closed", "filed", "assigned", "handled", "tested", "checked",
        "updated", "met", "visited", "arrived", "left", "missed", "attended", "hosted", "chaired", "and",
    ]
    static let personVerbHashes: Set<UInt64> = Set(personVerbs.map { WordTable.hash($0.utf8) })

    /// Whether a capitalised word may be a name: a first-name list knows it, or it is no English word (a surname
    /// that is also a word, `Card`, `Price`, counts only with a first name before it).
    func couldBeAName(_ token: Token, _ t: TextBytes) -> Bool {
        token.is(.firstName) || !isEnglish(token, t)
    }

    func isEnglish(_ token: Token, _ t: TextBytes) -> Bool { englishValue(token, t) != 0 }

    /// The token's `EnglishWord` value, 0 for no English word.
    func englishValue(_ token: Token, _ t: TextBytes) -> UInt8 {
        guard t.bytes[token.range].allSatisfy({ $0 < 0x80 }) else { return 0 }
        return englishWords.value(t.bytes, token.range, hash: token.hash) ?? 0
    }

    /// Two capitalised words next to each other on one line that no list holds and that are no English words, each
    /// of three letters or more: a name from anywhere (`Thalente Mlalane`, `Bolatito Ogunde`). Both must be unknown:
    /// one listed word is left to the rules that know it.
    func unknownPair(_ index: Int, _ end: Int, tokens: [Token], t: TextBytes) -> Bool {
        guard end == index + 1 else { return false }
        let first = tokens[index]
        let second = tokens[end]
        guard first.shape == .title, second.shape == .title, first.letters >= 3, second.letters >= 3,
            first.kind.isEmpty, second.kind.isEmpty, !isEnglish(first, t), !isEnglish(second, t),
            !t.bytes[first.range.upperBound..<second.range.lowerBound].contains(.newline)
        else { return false }
        return true
    }

    /// Whether the word after the name ending at token `end` is a verb of speech or action (one space between).
    func verbAfter(_ end: Int, tokens: [Token], t: TextBytes) -> Bool {
        let next = end + 1
        guard next < tokens.count, tokens[next].shape == .lower, tokens[next].range.lowerBound == tokens[end].range.upperBound + 1,
            t[tokens[end].range.upperBound] == .space, Self.personVerbHashes.contains(tokens[next].hash)
        else { return false }
        // "and" joins two people only when a name-like word follows it ("Dyja and Brunel").
        if tokens[next].equals(Array("and".utf8), t) {
            return next + 1 < tokens.count && tokens[next + 1].shape == .title && couldBeAName(tokens[next + 1], t)
                && !tokens[next + 1].is(.function)
        }
        return true
    }

    /// An unknown, non-English capitalised word right before a listed surname: `Xiomara Gonzalez`.
    func unknownBeforeSurname(_ index: Int, _ end: Int, tokens: [Token], t: TextBytes) -> Bool {
        end > index && !tokens[index].is(.firstName) && tokens[index + 1].is(.surname) && !tokens[index + 1].is(.everyday)
    }

    /// Which line the scan is on, as the tokens go by: whether it lists people after a list head and a colon (or is a
    /// bullet under such a head), and which token starts it.
    struct LineContext {
        /// Bytes before this were looked at for line breaks.
        var scanned = 0
        var firstToken = 0
        /// People may be listed after this byte of the current line (`Int.max`: not a list line).
        var listFrom = Int.max
        /// A list head with nothing after its colon: the bullet lines under it list people.
        var listBlock = false

        mutating func advance(to index: Int, tokens: [PersonNameDetector.Token], t: TextBytes, detector: PersonNameDetector) {
            let start = tokens[index].range.lowerBound
            var lineStart = index == 0 ? 0 : -1
            var p = scanned
            while p < start {
                if t.bytes[p] == .newline { lineStart = p + 1 }
                p += 1
            }
            scanned = tokens[index].range.upperBound
            guard lineStart >= 0 else { return }
            firstToken = index
            var bullet = false
            for q in lineStart..<start where t.bytes[q] == .hyphen || t.bytes[q] == UInt8(ascii: "*") || t.bytes[q] == 0xE2 {
                bullet = true
            }
            let token = tokens[index]
            if PersonNameDetector.listHeadHashes.contains(token.hash), let colon = Self.colon(after: token, index, tokens, t) {
                listFrom = colon
                var rest = colon + 1
                while rest < t.count, t.bytes[rest] == .space || t.bytes[rest] == .tab { rest += 1 }
                listBlock = rest >= t.count || t.bytes[rest] == .newline || t.bytes[rest] == 13
            } else if bullet && listBlock {
                listFrom = lineStart
            } else {
                listFrom = Int.max
                if !bullet { listBlock = false }
            }
        }

        /// The colon after a list head of one or two words (`Attendees:`, `Present today:`), on the same line.
        static func colon(
            after token: PersonNameDetector.Token, _ index: Int, _ tokens: [PersonNameDetector.Token],
            _ t: TextBytes
        ) -> Int? {
            var end = token.range.upperBound
            if t[end] != .colon, index + 1 < tokens.count, tokens[index + 1].range.lowerBound == end + 1, t[end] == .space {
                end = tokens[index + 1].range.upperBound
            }
            return t[end] == .colon ? end : nil
        }

        func inList(_ token: PersonNameDetector.Token) -> Bool { token.range.lowerBound > listFrom }

        func startsLine(_ index: Int) -> Bool { index == firstToken }
    }
}
