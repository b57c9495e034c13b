/// SparkDeck's version: the one place it is written in Swift.
///
/// `package/startos/versions/` names the same version (a test checks they agree); `packageRevision` is the StartOS
/// package's own revision of that version (`X.Y.Z:N`).
public enum SparkDeckVersion {
    public static let version = "0.9.0"
    public static let packageRevision = 0
    public static var packageVersion: String { "\(version):\(packageRevision)" }
}
