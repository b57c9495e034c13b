/// Why an inventory file was refused: every problem found, each with its key path and line.
public struct InventoryError: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var issues: [InventoryIssue]

    public var description: String {
        let lines = issues.map { "  \(file):\($0)" }
        return "inventory \(file) is not valid (\(issues.count) problem\(issues.count == 1 ? "" : "s")):\n"
            + lines.joined(separator: "\n")
    }
}

/// One problem in an inventory: where it is and what to do about it.
public struct InventoryIssue: Equatable, Sendable, CustomStringConvertible {
    /// `services[1].port`; empty for the whole document.
    public var path: String
    public var line: Int?
    public var message: String

    public var description: String {
        let location = line.map { "\($0): " } ?? " "
        return path.isEmpty ? "\(location)\(message)" : "\(location)\(path): \(message)"
    }
}
