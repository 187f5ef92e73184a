import PetrelCore
import PetrelPluginHost
import Testing

/// The plugins shipped in plugins/: selector-hash, allocate-consistent-hash and compress-zstd.
@Suite struct ShippedPluginTests {
    /// A host over the built plugin directory.
    func host() throws -> PluginHost {
        PluginHost(configuration: PluginHostConfiguration(pluginDirectory: try PluginBuild.directory()))
    }

    /// Integer arguments land on `orderId mod queueCount` (negative ids folded into range); string
    /// arguments on Java's hash of the string mod the count.
    @Test func selectorHashIsOrderIdModuloQueueCount() throws {
        let selector = try host().selector(.named("selector-hash"))
        #expect(selector.name == "selector-hash")
        for queueCount in [1, 3, 4, 7] {
            for orderId: Int64 in [0, 1, 5, 6, 41, 1_000_003, -9] {
                let index = try selector.selectQueue(
                    topic: "Orders", tags: "paid", keys: ["k1", "k2"], body: [1, 2, 3],
                    argument: PluginSelectorArgument(.integer(orderId), javaHashCode: 0), queueCount: queueCount)
                let expected = ((orderId % Int64(queueCount)) + Int64(queueCount)) % Int64(queueCount)
                #expect(index == Int(expected), "order \(orderId) over \(queueCount) queues")
            }
        }
        let byString = try selector.selectQueue(
            topic: "Orders", tags: nil, keys: [], body: [], argument: PluginSelectorArgument(.string("order-42"), javaHashCode: 1_207_056_381),
            queueCount: 4)
        #expect(byString == 1, "1_207_056_381 mod 4")
    }

    /// As clients join one by one and then leave, the shares always cover every queue exactly once,
    /// and a membership change moves far fewer queues than a reshuffle would.
    @Test func consistentHashCoversEveryQueueOnceAsClientsJoinAndLeave() throws {
        let allocator = try host().allocator(.named("allocate-consistent-hash"))
        let queues = (0..<16).map { MessageQueue(topic: "T", brokerName: $0 < 8 ? "broker-a" : "broker-b", queueId: Int32($0 % 8)) }
        let everyone = (1...5).map { "10.0.0.\($0)@\($0)" }
        var memberships: [[String]] = (1...5).map { Array(everyone.prefix($0)) }
        memberships += [Array(everyone.dropFirst()), Array(everyone.dropFirst(2)), [everyone[4]]]
        var previous: [Int: String]?
        for clients in memberships {
            var owner: [Int: String] = [:]
            for client in clients {
                for index in try allocator.allocate(group: "G", currentClientId: client, allClientIds: clients.sorted(), queues: queues) {
                    #expect(owner[index] == nil, "queue \(index) given twice")
                    owner[index] = client
                }
            }
            #expect(owner.count == queues.count, "every queue is consumed with clients \(clients)")
            if let previous, clients.count > 1 {
                let moved = queues.indices.filter { previous[$0] != owner[$0] && clients.contains(previous[$0] ?? "") }
                #expect(moved.count <= queues.count / 2, "only the changed member's arcs move, not \(moved.count) queues")
            }
            previous = owner
        }
        let outsider = try allocator.allocate(group: "G", currentClientId: "stranger", allClientIds: everyone, queues: queues)
        #expect(outsider.isEmpty)
    }

    /// The allocator refuses a bad config with its own message.
    @Test func consistentHashRefusesABadConfig() throws {
        #expect {
            try host().allocator(.named("allocate-consistent-hash"), config: "virtual-nodes=0")
        } throws: { error in
            let error = error as? PluginError
            return error?.code == .initFailed && error?.message.contains("virtual-nodes=N") == true
        }
    }

    /// zstd round trips at several levels, with and without a dictionary; a dictionary-compressed
    /// frame does not decompress without the dictionary; a wrong original size is refused.
    @Test func zstdRoundTripsWithAndWithoutADictionary() throws {
        let plugin = try host().compressor(.named("compress-zstd"), config: "level=3")
        let text = Array(String(repeating: "{\"order\":12345,\"status\":\"paid\",\"items\":[1,2,3]} ", count: 40).utf8)
        for level: Int32 in [0, 1, 19] {
            let compressor = PluginCompressor(plugin: plugin, level: level)
            let compressed = try compressor.compress(text)
            #expect(compressed.count < text.count / 4, "repetitive JSON compresses at level \(level)")
            #expect(try compressor.decompress(compressed, originalSize: text.count) == text)
        }
        let dictionary = Array(String(repeating: "{\"order\":,\"status\":\"paid\",\"items\":[]} ", count: 8).utf8)
        let small = Array("{\"order\":7,\"status\":\"paid\",\"items\":[4]}".utf8)
        let withDictionary = PluginCompressor(plugin: plugin, level: 3, dictionary: dictionary)
        let packed = try withDictionary.compress(small)
        #expect(packed.count < (try PluginCompressor(plugin: plugin).compress(small)).count, "the dictionary helps a small message")
        #expect(try withDictionary.decompress(packed, originalSize: small.count) == small)
        #expect(throws: PluginError.self) { try PluginCompressor(plugin: plugin).decompress(packed, originalSize: small.count) }
        #expect {
            try withDictionary.decompress(packed, originalSize: small.count + 1)
        } throws: { ($0 as? PluginError)?.code == .invalidResult }
        #expect(try withDictionary.compress([]).isEmpty == false, "an empty input still makes a frame")
    }
}
