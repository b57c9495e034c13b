/// A span of the normalized text that holds personal data.
public struct Finding: Sendable, Equatable {
    public var type: EntityType
    /// Byte range in the normalized UTF-8 text.
    public var range: Range<Int>
    /// For names learned from a full name: the full name, so every spelling gets one placeholder.
    public var canonical: String?
    /// A span the overlap rule widened over several findings that only partly cover each other.
    public var isUnion = false
    /// For a person mentioned by one part of the full name: which part (`Maria` of `Maria Gonzalez` is `.first`).
    public var part: NamePart?

    public init(type: EntityType, range: Range<Int>, canonical: String? = nil, isUnion: Bool = false, part: NamePart? = nil) {
        self.type = type
        self.range = range
        self.canonical = canonical
        self.isUnion = isUnion
        self.part = part
    }
}

/// The part of a person's full name that a mention holds on its own.
public enum NamePart: String, Sendable, Equatable {
    case first = "FIRST"
    case last = "LAST"
}
