import Foundation
import NIOCore
import NIOPosix

/// Sends one probe to a target and reports what came back, within a deadline.
///
/// Each probe opens a fresh TCP connection: a pooled keep-alive connection would hide a service that stopped
/// accepting, and a hung service (TCP accepted, no answer) must count as a failure after the timeout.
public protocol Prober: Sendable {
    /// One HTTP/1.1 request on a fresh connection; `body` is sent as JSON.
    func http(_ method: String, host: String, port: Int, path: String, body: String?, timeoutMs: Int) async -> ProbeAnswer
    func tcpConnect(host: String, port: Int, timeoutMs: Int) async -> ProbeAnswer
}

extension Prober {
    public func httpGet(host: String, port: Int, path: String, timeoutMs: Int) async -> ProbeAnswer {
        await http("GET", host: host, port: port, path: path, body: nil, timeoutMs: timeoutMs)
    }
}

/// The real prober: SwiftNIO sockets.
public struct SocketProber: Prober {
    let group: any EventLoopGroup
    /// Most bytes of a health answer read; health bodies are tiny.
    static let maxAnswerBytes = 64 * 1024

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
    }

    public func tcpConnect(host: String, port: Int, timeoutMs: Int) async -> ProbeAnswer {
        await withDeadline(timeoutMs) {
            let channel = try await connect(host: host, port: port, timeoutMs: timeoutMs)
            try await channel.executeThenClose { _, _ in }
            return .http(status: 200, body: "")
        }
    }

    public func http(_ method: String, host: String, port: Int, path: String, body: String?, timeoutMs: Int) async -> ProbeAnswer {
        await withDeadline(timeoutMs) {
            let channel = try await connect(host: host, port: port, timeoutMs: timeoutMs)
            return try await channel.executeThenClose { inbound, outbound in
                var request =
                    "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: SparkDeck-probe\r\n"
                    + "Accept: */*\r\nConnection: close\r\n"
                if let body {
                    request += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
                } else {
                    request += "\r\n"
                }
                try await outbound.write(ByteBuffer(string: request))
                var parser = HTTPAnswerParser()
                for try await chunk in inbound {
                    parser.append(chunk)
                    if parser.isComplete || parser.byteCount > Self.maxAnswerBytes { break }
                }
                return try parser.answer()
            }
        }
    }

    private func connect(host: String, port: Int, timeoutMs: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(Int64(timeoutMs)))
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    private func withDeadline(_ timeoutMs: Int, _ body: @escaping @Sendable () async throws -> ProbeAnswer) async -> ProbeAnswer {
        await withTaskGroup(of: ProbeAnswer?.self) { group in
            group.addTask {
                do { return try await body() } catch { return Self.classify(error, timeoutMs: timeoutMs) }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(timeoutMs))
                return Task.isCancelled ? nil : .timedOut(afterMs: timeoutMs)
            }
            var first: ProbeAnswer?
            while first == nil, let next = await group.next() { first = next }
            group.cancelAll()
            return first ?? .timedOut(afterMs: timeoutMs)
        }
    }

    static func classify(_ error: any Error, timeoutMs: Int) -> ProbeAnswer {
        if let ioError = error as? IOError, ioError.errnoCode == ECONNREFUSED { return .refused("connection refused") }
        if let connectionError = error as? NIOConnectionError {
            let errors = connectionError.connectionErrors.map(\.error)
            if errors.contains(where: { ($0 as? IOError)?.errnoCode == ECONNREFUSED }) { return .refused("connection refused") }
            if errors.contains(where: { $0 is ChannelError }) || connectionError.connectionErrors.isEmpty {
                return .timedOut(afterMs: timeoutMs)
            }
        }
        if case ChannelError.connectTimeout = error { return .timedOut(afterMs: timeoutMs) }
        if error is CancellationError { return .timedOut(afterMs: timeoutMs) }
        let text = String(describing: error)
        if text.localizedCaseInsensitiveContains("refused") { return .refused("connection refused") }
        if text.localizedCaseInsensitiveContains("reset") { return .broken("connection reset") }
        return .broken(text)
    }
}

/// Reads an HTTP/1.1 answer far enough to judge it: status line, headers, and a body up to its length.
struct HTTPAnswerParser {
    private var bytes: [UInt8] = []
    var byteCount: Int { bytes.count }

    struct Malformed: Error, CustomStringConvertible {
        var description: String { "answer is not HTTP" }
    }

    mutating func append(_ buffer: ByteBuffer) {
        bytes.append(contentsOf: buffer.readableBytesView)
    }

    private var headerEnd: Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }

    var isComplete: Bool {
        guard let end = headerEnd else { return false }
        let head = String(decoding: bytes[..<end], as: UTF8.self).lowercased()
        if let length = Self.header("content-length", in: head).flatMap({ Int($0) }) {
            return bytes.count - end >= length
        }
        if Self.header("transfer-encoding", in: head)?.contains("chunked") == true {
            return String(decoding: bytes[end...], as: UTF8.self).contains("0\r\n\r\n")
        }
        return false
    }

    func answer() throws -> ProbeAnswer {
        let text = String(decoding: bytes, as: UTF8.self)
        let statusLine = text.prefix { $0 != "\r" && $0 != "\n" }
        let fields = statusLine.split(separator: " ", maxSplits: 2)
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/"), let status = Int(fields[1]) else { throw Malformed() }
        guard let end = headerEnd else { return .http(status: status, body: "") }
        let head = String(decoding: bytes[..<end], as: UTF8.self).lowercased()
        var body = String(decoding: bytes[end...], as: UTF8.self)
        if Self.header("transfer-encoding", in: head)?.contains("chunked") == true {
            body = Self.dechunk(body)
        }
        return .http(status: status, body: body)
    }

    static func header(_ name: String, in head: String) -> String? {
        for line in head.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    static func dechunk(_ body: String) -> String {
        var rest = Array(body.utf8)[...]
        var output: [UInt8] = []
        while let lineEnd = rest.firstIndex(of: 13), lineEnd + 1 < rest.endIndex, rest[lineEnd + 1] == 10,
            let size = Int(String(decoding: rest[..<lineEnd], as: UTF8.self), radix: 16), size > 0
        {
            let start = lineEnd + 2
            let end = min(start + size, rest.endIndex)
            output += rest[start..<end]
            rest = rest[min(end + 2, rest.endIndex)...]
        }
        return String(decoding: output, as: UTF8.self)
    }
}
