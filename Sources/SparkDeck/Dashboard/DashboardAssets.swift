import Foundation
import Hummingbird

/// The dashboard's static files, read once from the library's resources and served from memory.
///
/// Only the files that exist in the bundle at start-up can be served, by exact name: no request path ever reaches
/// the file system, so there is nothing to traverse.
public struct DashboardAssets: Sendable {
    struct Asset: Sendable {
        var bytes: ByteBuffer
        var contentType: String
    }

    private let assets: [String: Asset]

    static let contentTypes = [
        "html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml", "png": "image/png",
        "ico": "image/x-icon", "json": "application/json",
    ]

    /// The dashboard shipped in this library's resource bundle.
    public static func bundled() throws -> DashboardAssets {
        try DashboardAssets(
            directory: Bundle.module.url(forResource: "index", withExtension: "html", subdirectory: "Resources")?
                .deletingLastPathComponent())
    }

    public init(directory: URL?) throws {
        var assets: [String: Asset] = [:]
        if let directory {
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
                let ext = (name as NSString).pathExtension.lowercased()
                guard let type = Self.contentTypes[ext] else { continue }
                let data = try Data(contentsOf: directory.appendingPathComponent(name))
                assets[name] = Asset(bytes: ByteBuffer(bytes: data), contentType: type)
            }
        }
        guard assets["index.html"] != nil else {
            throw DashboardMissing(directory: directory?.path ?? "(no resource bundle)")
        }
        self.assets = assets
    }

    struct DashboardMissing: Error, CustomStringConvertible {
        var directory: String
        var description: String { "the dashboard's index.html is missing from \(directory); reinstall SparkDeck" }
    }

    func addRoutes(to router: Router<some RequestContext>) {
        for (name, asset) in assets {
            let path = name == "index.html" ? "/" : "/\(name)"
            router.get(RouterPath(path)) { _, _ in
                Response(
                    status: .ok,
                    headers: [
                        .contentType: asset.contentType,
                        .cacheControl: "no-cache",
                        .init("X-Content-Type-Options")!: "nosniff",
                        // The admin key sits in the page's storage: no other site may frame the dashboard (clickjacking).
                        .init("Content-Security-Policy")!:
                            "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; frame-ancestors 'none'",
                        .init("X-Frame-Options")!: "DENY",
                        .init("Referrer-Policy")!: "no-referrer",
                    ], body: .init(byteBuffer: asset.bytes))
            }
        }
    }
}
