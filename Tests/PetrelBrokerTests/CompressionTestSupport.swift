import Foundation
import NIOCore
import PetrelCore
import PetrelPluginHost
import PetrelRemoting
import Testing

@testable import PetrelBroker

/// The built compress-zstd plugin and request builders for the compression tests.
enum CompressionFixtures {
    /// `$PETREL_PLUGIN_DIR` (set by `make test`), else `<package root>/build/plugins` after running
    /// `make plugins` once in this process.
    static func pluginDirectory() throws -> String { try built.get() }

    /// The one plugin build per process.
    private static let built: Result<String, PluginDirectoryError> = {
        if let configured = ProcessInfo.processInfo.environment["PETREL_PLUGIN_DIR"], !configured.isEmpty { return .success(configured) }
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while root.path != "/", !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["make", "-C", root.path, "plugins"]
        do { try process.run() } catch { return .failure(PluginDirectoryError(description: "make plugins: \(error)")) }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return .failure(PluginDirectoryError(description: "make plugins failed")) }
        return .success(root.appendingPathComponent("build/plugins").path)
    }()

    /// Configures the zstd plugin by name in the built plugin directory.
    static func useZstd(_ configuration: inout BrokerConfiguration) throws {
        configuration.compression.pluginDirectory = try pluginDirectory()
        configuration.compression.compressorPlugin = .named("compress-zstd")
    }

    /// A JSON event of a few hundred bytes, different per `index` (what the dictionary learns from).
    static func event(_ index: Int) -> String {
        let kinds = ["page_view", "click", "purchase", "signup", "logout"]
        let padding = String(repeating: "detail-\(index % 13) ", count: 4 + index % 9)
        return """
            {"event_id":"evt-\(100_000 + index)","kind":"\(kinds[index % kinds.count])","user":{"id":\(index * 7919 % 100_003),\
            "country":"\(["DE", "FR", "US", "JP"][index % 4])","plan":"\(["free", "pro"][index % 2])"},"timestamp":\(1_700_000_000_000 + index * 137),\
            "properties":{"path":"/products/\(index % 50)","referrer":"https://example.com/\(index % 11)","note":"\(padding)"}}
            """
    }

    /// UPDATE_AND_CREATE_TOPIC for `topic` with the `attributes` field when given.
    static func updateTopic(_ topic: String, attributes: String?) -> RemotingCommand {
        var fields = [
            "topic": topic, "defaultTopic": "TBW102", "readQueueNums": "1", "writeQueueNums": "1", "perm": "6",
            "topicFilterType": "SINGLE_TAG", "topicSysFlag": "0", "order": "false",
        ]
        if let attributes { fields["attributes"] = attributes }
        return RemotingCommand.request(code: .updateAndCreateTopic, extFields: fields)
    }

    /// A pull of queue 0 that declares zstd support when `acceptsZstd`.
    static func pull(_ topic: String, offset: Int64, acceptsZstd: Bool) -> RemotingCommand {
        var request = Requests.pull(topic: topic, offset: offset, sysFlag: 4, suspendMilliseconds: 0)
        if acceptsZstd { request.extFields["acceptCompression"] = "zstd" }
        return request
    }

    /// Every message of queue 0 of `topic`, pulled from offset 0 on.
    static func pullAll(_ fixture: HandlerFixture, _ topic: String, acceptsZstd: Bool) async throws -> [StoredMessage] {
        var messages: [StoredMessage] = []
        var offset: Int64 = 0
        while true {
            let response = await fixture.handle(pull(topic, offset: offset, acceptsZstd: acceptsZstd))
            guard response.responseCode == .success else {
                #expect(response.responseCode == .pullNotFound, "\(response.remark ?? "")")
                return messages
            }
            messages += try Requests.messages(in: response)
            offset = Int64(try #require(response.extFields["nextBeginOffset"]))!
        }
    }
}

/// The plugin directory could not be found or built.
struct PluginDirectoryError: Error, CustomStringConvertible {
    /// What happened.
    var description: String
}
