extension PatternScanner {
    static let streetSuffixes: Set<String> = [
        "Alley", "Aly", "Annex", "Arcade", "Avenue", "Ave", "Bayou", "Beach", "Bend", "Bluff", "Bluffs", "Bottom", "Boulevard",
        "Blvd", "Branch", "Bridge", "Brook", "Brooks", "Burg", "Burgs", "Bypass", "Camp", "Canyon", "Cape", "Causeway",
        "Center", "Centers", "Circle", "Circles", "Cir", "Cliff", "Cliffs", "Club", "Common", "Corner", "Corners", "Course",
        "Court", "Courts", "Ct", "Cove", "Coves", "Creek", "Crescent", "Crest", "Crossing", "Crossroad", "Curve", "Dale",
        "Dam", "Divide", "Drive", "Drives", "Dr", "Estate", "Estates", "Expressway", "Extension", "Extensions", "Fall",
        "Falls", "Ferry", "Field", "Fields", "Flat", "Flats", "Ford", "Fords", "Forest", "Forge", "Forges", "Fork", "Forks",
        "Fort", "Freeway", "Garden", "Gardens", "Gateway", "Glen", "Glens", "Green", "Greens", "Grove", "Groves", "Harbor",
        "Harbors", "Haven", "Heights", "Highway", "Hwy", "Hill", "Hills", "Hollow", "Inlet", "Island", "Islands", "Isle",
        "Junction", "Junctions", "Key", "Keys", "Knoll", "Knolls", "Lake", "Lakes", "Land", "Landing", "Lane", "Ln", "Light",
        "Lights", "Loaf", "Lock", "Locks", "Lodge", "Loop", "Mall", "Manor", "Manors", "Meadow", "Meadows", "Mews", "Mill",
        "Mills", "Mission", "Motorway", "Mount", "Mountain", "Mountains", "Neck", "Orchard", "Oval", "Overpass", "Park",
        "Parkway", "Parkways", "Pkwy", "Pass", "Passage", "Path", "Pike", "Pine", "Pines", "Place", "Pl", "Plain", "Plains",
        "Plaza", "Point", "Points", "Port", "Ports", "Prairie", "Radial", "Ramp", "Ranch", "Rapid", "Rapids", "Rest", "Ridge",
        "Ridges", "River", "Road", "Roads", "Rd", "Route", "Row", "Rue", "Run", "Shoal", "Shoals", "Shore", "Shores",
        "Skyway", "Spring", "Springs", "Spur", "Square", "Squares", "Sq", "Station", "Stravenue", "Stream", "Street",
        "Streets", "St", "Summit", "Terrace", "Ter", "Throughway", "Trace", "Track", "Trafficway", "Trail", "Trl", "Trailer",
        "Tunnel", "Turnpike", "Underpass", "Union", "Unions", "Valley", "Valleys", "Viaduct", "View", "Views", "Village",
        "Villages", "Ville", "Vista", "Walk", "Walks", "Wall", "Way", "Ways", "Well", "Wells",
    ]

    /// The end of a capitalised word of an address or a company name (`[A-Z0-9][A-Za-z0-9'-]*` for addresses).
    func streetWordEnd(_ at: Int) -> Int? {
        guard t[at].isUpper || t[at].isDigit else { return nil }
        return t.end(from: at + 1) { $0.isAlnum || $0 == .apostrophe || $0 == .hyphen }
    }

    /// A house number, one to four capitalised words on the same line, a USPS street suffix, an optional unit.
    mutating func streetAddress(at index: Int) -> Int? {
        let run = t.digitsEnd(from: index)
        guard run - index <= 6, let end = streetAddress(start: index, number: run) else { return nil }
        add(.address, index..<end)
        return end
    }

    func streetAddress(start: Int, number: Int) -> Int? {
        var p = number
        if t[p].isAlpha { p += 1 }
        let first = t.end(from: p, while: \.isBlank)
        guard first > p else { return nil }
        p = first
        // Words and where each starts; a direction (N, S., ...) first does not count toward the four. Kept inline:
        // this runs at every number of the text.
        var wordStarts = InlineArray<6, Int>(repeating: 0)
        var wordEnds = InlineArray<6, Int>(repeating: 0)
        var words = 0
        while words < 6, let end = streetWordEnd(p) {
            wordStarts[words] = p
            wordEnds[words] = end
            words += 1
            var next = end
            if t[next] == .dot { next += 1 }
            let gap = t.end(from: next, while: \.isBlank)
            guard gap > next else { break }
            p = gap
        }
        guard words >= 2 else { return nil }
        let direction = wordEnds[0] - wordStarts[0] == 1 && "NSEW".utf8.contains(t[wordStarts[0]])
        let limit = direction ? 5 : 4
        for count in stride(from: min(limit, words - 1), through: 1, by: -1) {
            let suffixStart = wordStarts[count]
            let letters = t.end(from: suffixStart, while: \.isAlpha)
            guard !t[letters].isWord, Self.streetSuffixes.contains(t.string(suffixStart..<letters)) else { continue }
            var end = letters
            if t[end] == .dot { end += 1 }
            return unit(after: end) ?? end
        }
        return nil
    }

    /// `, Apt 4B`, `Suite 200`, `# 12` after a street.
    func unit(after end: Int) -> Int? {
        var p = end
        if t[p] == .comma { p += 1 }
        p = t.end(from: p, while: \.isBlank)
        for word in ["Apt", "Apartment", "Suite", "Ste", "Unit", "#"] {
            let bytes = Array(word.utf8)
            guard (0..<bytes.count).allSatisfy({ t[p + $0] == bytes[$0] }) else { continue }
            var q = p + bytes.count
            if t[q] == .dot { q += 1 }
            q = t.end(from: q, while: \.isBlank)
            let idEnd = t.end(from: q) { $0.isAlnum || $0 == .hyphen }
            if idEnd > q { return idEnd }
        }
        return nil
    }
}
