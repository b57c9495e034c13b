import Foundation

/// Messages for the person who started SparkDeck, written at once (stdout to a file or pipe is otherwise buffered).
enum Console {
    static func say(_ text: String, terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((text + terminator).utf8))
    }
}
