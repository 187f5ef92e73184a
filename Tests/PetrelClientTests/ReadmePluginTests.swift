import Foundation
import NIOCore
import PetrelClient
import PetrelCore
import Testing

/// The selector plugin README.md shows, extracted from README.md, built with the command the README
/// gives and used through `PluginQueueSelector(path:)` as the README does.
@Suite struct ReadmePluginTests {
    /// The package root.
    static let root: URL = {
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) { root.deleteLastPathComponent() }
        return root
    }()

    /// The lines of the first ```c block after the `plugin-example` marker.
    static func exampleSource() throws -> [String] {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let marker = lines.firstIndex(where: { $0.contains("<!-- plugin-example:") }),
              let open = lines[marker...].firstIndex(of: "```c"),
              let close = lines[(open + 1)...].firstIndex(of: "```")
        else { throw HarnessError("README.md has no plugin-example C block") }
        return Array(lines[(open + 1)..<close])
    }

    /// Builds the README's plugin with the README's flags into a temporary directory; its path.
    static func buildExample() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-readme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let source = directory.appendingPathComponent("selector-vip.c")
        try (exampleSource().joined(separator: "\n") + "\n").write(to: source, atomically: true, encoding: .utf8)
        let library = directory.appendingPathComponent("selector-vip.so").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
            "-I", root.appendingPathComponent("include").path, "-o", library, source.path,
        ]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError("cc failed on the README's plugin") }
        return library
    }

    /// The README's plugin is under 40 lines, compiles warning-free, and routes as it says: `vip` to
    /// queue 0, other orders over the remaining queues; a string argument fails with its message.
    @Test func theReadmeSelectorBuildsAndRoutes() throws {
        #expect(try Self.exampleSource().count < 40)
        let library = try Self.buildExample()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: library).deletingLastPathComponent().path) }
        let vip = try PluginQueueSelector(path: library)
        #expect(vip.plugin.name == "selector-vip")
        let queues = (0..<4).map { MessageQueue(topic: "Orders", brokerName: "broker-a", queueId: Int32($0)) }
        let tagged = ProducerMessage(topic: "Orders", body: "v", tags: "vip")
        let plain = ProducerMessage(topic: "Orders", body: "p", tags: "normal")
        #expect(vip.select(from: queues, message: tagged, argument: 42)?.queueId == 0)
        for orderId: Int64 in [0, 1, 2, 7, 100] {
            #expect(vip.select(from: queues, message: plain, argument: .integer(orderId))?.queueId == Int32(1 + orderId % 3))
        }
        #expect(throws: ClientError.self) { try vip.checkedSelect(from: queues, message: plain, argument: "text") }
        do {
            _ = try vip.checkedSelect(from: queues, message: plain, argument: -1)
            Issue.record("a negative order id should be refused by the plugin")
        } catch {
            #expect(error.code == .pluginFailed)
            #expect(error.message.contains("selector-vip") && error.message.contains("non-negative order id"))
        }
    }
}
