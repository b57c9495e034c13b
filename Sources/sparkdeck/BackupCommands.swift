import ArgumentParser
import Foundation
import SparkDeck

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract:
            "Copy SparkDeck's store and vault key into a new folder, consistently, while SparkDeck serves (SQLite's online backup).")
    @Option(help: "SparkDeck's data folder (the one `serve --data` uses).")
    var data: String
    @Option(help: "A new folder for the backup.")
    var to: String

    func run() throws {
        do {
            let summary = try Backup.write(dataDirectory: data, to: to)
            Console.say("Backed up \(data) to \(to): \(summary).")
        } catch let error as Backup.Failure {
            throw ValidationError(error.description)
        }
    }
}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Put a backup made by `sparkdeck backup` into a data folder that holds no store yet.")
    @Option(help: "The backup's folder.")
    var from: String
    @Option(help: "The data folder to restore into (new, or moved aside first); then `serve --data` it.")
    var data: String

    func run() throws {
        do {
            let summary = try Backup.restore(from: from, to: data)
            Console.say("Restored \(from) into \(data): \(summary).")
        } catch let error as Backup.Failure {
            throw ValidationError(error.description)
        }
    }
}
