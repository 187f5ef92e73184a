import PetrelCore
import PetrelPluginHost
import Testing

/// Every broken fixture (plugins/fixtures/) is refused with an error naming the plugin and what it
/// did; the process keeps running and a good plugin still loads afterwards.
@Suite struct BrokenPluginTests {
    /// A host over the built plugin directory.
    func host() throws -> PluginHost {
        PluginHost(configuration: PluginHostConfiguration(pluginDirectory: try PluginBuild.directory()))
    }

    /// The error `body` throws; fails the test when it throws none or another type.
    func refusal(_ body: () throws -> Void) -> PluginError? {
        do {
            try body()
            Issue.record("expected a PluginError, nothing was thrown")
        } catch let error as PluginError {
            return error
        } catch {
            Issue.record("expected a PluginError, got \(error)")
        }
        return nil
    }

    /// Load-time refusals: wrong ABI major, no entry symbol, a NULL function, a failing init, a wrong
    /// kind, a missing file.
    @Test func loadTimeRefusalsSayWhy() throws {
        let host = try host()
        let major = refusal { _ = try host.selector(.named("broken-abi-major")) }
        #expect(major?.code == .incompatibleVersion)
        #expect(major?.plugin == "broken-abi-major")
        #expect(major?.message.contains("ABI 99.0") == true)

        let entry = refusal { _ = try host.selector(.named("broken-missing-entry")) }
        #expect(entry?.code == .missingEntry)
        #expect(entry?.description.contains("petrel_plugin_describe_v1") == true)

        let null = refusal { _ = try host.selector(.named("broken-null-function")) }
        #expect(null?.code == .missingFunction)
        #expect(null?.plugin == "broken-null-function")
        #expect(null?.message == "select is NULL")

        let initFailure = refusal { _ = try host.selector(.named("broken-init-failure"), config: "mode=fail") }
        #expect(initFailure?.code == .initFailed)
        #expect(initFailure?.message.contains("(code 42) cannot start with config 'mode=fail'") == true)

        let kind = refusal { _ = try host.allocator(.named("selector-hash")) }
        #expect(kind?.code == .noSuchPlugin)
        #expect(kind?.message == "is a selector plugin, not the allocator asked for")

        let missing = refusal { _ = try host.selector(.named("no-such-plugin")) }
        #expect(missing?.code == .loadFailed)
        #expect(missing?.plugin.hasSuffix("no-such-plugin.so") == true)

        // Still running: a good plugin loads and answers.
        let selector = try host.selector(.named("selector-hash"))
        #expect(try selector.selectQueue(
            topic: "T", tags: nil, keys: [], body: [], argument: PluginSelectorArgument(.integer(5), javaHashCode: 5), queueCount: 4) == 1)
    }

    /// Names resolve inside the configured directory only; paths must be explicit.
    @Test func namesStayInsideThePluginDirectory() throws {
        let host = try host()
        for name in ["../plugins/selector-hash", "/tmp/x", "selector-hash.so", "Selector", ""] {
            #expect(refusal { _ = try host.selector(.named(name)) }?.code == .invalidReference, "\(name)")
        }
        let noDirectory = PluginHost()
        #expect(refusal { _ = try noDirectory.selector(.named("selector-hash")) }?.code == .invalidReference)
        #expect(refusal { _ = try noDirectory.selector(.path("selector-hash.so")) }?.code == .invalidReference)
        let byPath = try noDirectory.selector(.path(try PluginBuild.path("selector-hash")))
        #expect(byPath.name == "selector-hash")
    }

    /// Call-time refusals: a selector index out of range, an allocator naming a queue that does not
    /// exist, overlapping allocations, a decompressor producing the wrong size.
    @Test func badResultsAreRefused() throws {
        let host = try host()
        let library = try PluginBuild.path("broken-results")
        let selector = try host.selector(.path(library, plugin: "broken-selector-range"))
        let range = refusal {
            _ = try selector.selectQueue(
                topic: "T", tags: nil, keys: [], body: [], argument: PluginSelectorArgument(.integer(1), javaHashCode: 1), queueCount: 4)
        }
        #expect(range?.code == .invalidResult)
        #expect(range?.plugin == "broken-selector-range")
        #expect(range?.message.contains("queue index 4") == true)

        let queues = (0..<4).map { MessageQueue(topic: "T", brokerName: "b", queueId: Int32($0)) }
        let missingQueue = try host.allocator(.path(library, plugin: "broken-allocator-range"))
        let missing = refusal { _ = try missingQueue.allocate(group: "G", currentClientId: "a", allClientIds: ["a", "b"], queues: queues) }
        #expect(missing?.code == .invalidResult)
        #expect(missing?.message.contains("queue index 9") == true)

        let overlapping = try host.allocator(.path(library, plugin: "broken-allocator-overlap"))
        let overlap = refusal { _ = try overlapping.allocate(group: "G", currentClientId: "a", allClientIds: ["a", "b"], queues: queues) }
        #expect(overlap?.code == .invalidResult)
        #expect(overlap?.message.contains("to both a and b") == true)
        // With a single client nothing overlaps, so the same plugin's answer is accepted.
        #expect(try overlapping.allocate(group: "G", currentClientId: "a", allClientIds: ["a"], queues: queues) == [0, 1, 2, 3])

        let compressor = PluginCompressor(plugin: try host.compressor(.path(library, plugin: "broken-decompress-size")))
        let packed = try compressor.compress([1, 2, 3, 4])
        let size = refusal { _ = try compressor.decompress(packed, originalSize: 4) }
        #expect(size?.code == .invalidResult)
        #expect(size?.message == "decompress produced 3 bytes; the original was 4")

        let wrongName = refusal { _ = try host.selector(.path(library, plugin: "nothing-here")) }
        #expect(wrongName?.code == .noSuchPlugin)
        #expect(wrongName?.message.contains("broken-selector-range, broken-allocator-range") == true)
    }

    /// Tables only grow at the end: a plugin built for a later minor (larger descriptor and table,
    /// higher minor) loads and works; a table smaller than ABI 1.0's is refused.
    @Test func laterMinorsLoadAndShortTablesAreRefused() throws {
        let host = try host()
        let library = try PluginBuild.path("future-minor")
        let future = try host.selector(.path(library, plugin: "future-minor"))
        #expect(try future.selectQueue(
            topic: "T", tags: nil, keys: [], body: [], argument: PluginSelectorArgument(.integer(0), javaHashCode: 0), queueCount: 5) == 4)
        let short = refusal { _ = try host.selector(.path(library, plugin: "broken-short-table")) }
        #expect(short?.code == .incompatibleVersion)
        #expect(short?.plugin == "broken-short-table")
        #expect(short?.message.contains("function table is 4 bytes") == true)
    }
}
