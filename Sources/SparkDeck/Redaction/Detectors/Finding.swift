/// A span of the normalized text that holds personal data.
public struct Finding: Sendable, Equatable {
    public var type: EntityType
    /// Byte range in the normalized UTF-8 text.
    public var range: Range<Int>
    /// For names learned from a full name: the full name, so every spelling gets one placeholder.
    public var canonical: String?
    /// A span the overlap rule widened over several findings that only partly cover each other.
    public var isUnion = false
}
