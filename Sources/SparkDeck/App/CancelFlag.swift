import Synchronization

/// A flag set once and read from any task: a long computation checks it between its steps (set when whoever waits
/// for it no longer does); a supervisor stops restarting what it watches; a log follower says it has seen the line
/// a wait is for.
public final class CancelFlag: Sendable {
    private let value = Atomic<Bool>(false)
    public init() {}
    public var isSet: Bool { value.load(ordering: .acquiring) }
    public func set() { value.store(true, ordering: .releasing) }
}
