import Foundation
import PetrelClient
import PetrelCore
import PetrelPluginHost
import Testing

/// The built plugins' directory: `$PETREL_PLUGIN_DIR` (set by `make test`), else `make plugins` is
/// run once at the package root and `build/plugins` used.
enum ClientPluginBuild {
    /// The directory, or the reason it could not be built.
    static let directory: Result<String, HarnessError> = {
        if let configured = ProcessInfo.processInfo.environment["PETREL_PLUGIN_DIR"], !configured.isEmpty { return .success(configured) }
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) { root.deleteLastPathComponent() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["make", "-C", root.path, "plugins"]
        do { try process.run() } catch { return .failure(HarnessError("make plugins could not start: \(error)")) }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return .failure(HarnessError("make plugins failed")) }
        return .success(root.appendingPathComponent("build/plugins").path)
    }()
}

/// Selector and allocation plugins used through the client's own protocols.
@Suite(.serialized) struct PluginClientTests {
    /// Ordered sends through `selector-hash` (loaded by name) land on `orderId % queues`, as stored
    /// by the broker; the same plugin loaded by path agrees.
    @Test func orderedSendsThroughSelectorHashLandOnOrderIdModuloQueues() async throws {
        let directory = try ClientPluginBuild.directory.get()
        let byName = try PluginQueueSelector(named: "selector-hash", directory: directory)
        let byPath = try PluginQueueSelector(path: directory + "/selector-hash.so")
        let broker = try await BrokerProcess.startRetryingPortClash()
        defer { broker.stop() }
        let raw = RawBrokerAccess()
        try await ProducerFixture.createTopic("PluginOrders", on: broker, queues: 4, raw: raw)
        let producer = try await ProducerFixture.producer(nameServer: broker.nameServer)
        let orderIds: [Int64] = [0, 1, 2, 3, 5, 6, 11, 1_000_003, 42]
        for orderId in orderIds {
            let message = ProducerMessage(topic: "PluginOrders", body: "order-\(orderId)", tags: "paid", keys: ["order-\(orderId)"])
            let result = try await producer.send(message, selector: byName, argument: .integer(orderId))
            #expect(result.queue.queueId == Int32(orderId % 4), "order \(orderId)")
            let queues = try await producer.publishQueues(of: "PluginOrders")
            #expect(byPath.select(from: queues, message: message, argument: .integer(orderId)) == result.queue)
        }
        for queueId: Int32 in 0..<4 {
            let expected = orderIds.filter { Int32($0 % 4) == queueId }.map { "order-\($0)" }
            let stored = Locked<[StoredMessage]>([])
            _ = await poll(seconds: 15) {
                stored.value = (try? await raw.pull(address: broker.address, topic: "PluginOrders", queueId: queueId)) ?? []
                return stored.value.count >= expected.count
            }
            #expect(stored.value.map(\.text) == expected, "queue \(queueId) holds its orders in send order")
        }
        await producer.shutdown()
        await raw.close()
    }

    /// A selector plugin answering an index out of range fails the send with `.pluginFailed` naming
    /// the plugin; the producer keeps working.
    @Test func aMisbehavingSelectorFailsTheSendWithItsReason() async throws {
        let directory = try ClientPluginBuild.directory.get()
        let broken = try PluginQueueSelector(.path(directory + "/broken-results.so", plugin: "broken-selector-range"))
        let broker = try await BrokerProcess.startRetryingPortClash()
        defer { broker.stop() }
        let raw = RawBrokerAccess()
        try await ProducerFixture.createTopic("PluginBroken", on: broker, queues: 2, raw: raw)
        let producer = try await ProducerFixture.producer(nameServer: broker.nameServer)
        do {
            _ = try await producer.send(ProducerMessage(topic: "PluginBroken", body: "x"), selector: broken, argument: 1)
            Issue.record("the send should have been refused")
        } catch {
            #expect(error.code == .pluginFailed)
            #expect(error.message.contains("broken-selector-range") && error.message.contains("queue index 2"))
        }
        let good = try await producer.send(ProducerMessage(topic: "PluginBroken", body: "y"), selector: HashQueueSelector(), argument: 1)
        #expect(good.queue.queueId == 1)
        await producer.shutdown()
        await raw.close()
    }

    /// The `allocate-consistent-hash` plugin and the built-in `ConsistentHashAllocationStrategy` use
    /// the same ring, so they give every client the same share; a refusing allocator plugin surfaces
    /// through `checkedAllocate` and yields nothing through `allocate`.
    @Test func consistentHashPluginAgreesWithTheBuiltIn() throws {
        let directory = try ClientPluginBuild.directory.get()
        let plugin = try PluginAllocationStrategy(named: "allocate-consistent-hash", directory: directory)
        let builtIn = ConsistentHashAllocationStrategy()
        #expect(plugin.name == "allocate-consistent-hash")
        let queues = (0..<12).map { MessageQueue(topic: "T", brokerName: "broker-\($0 % 2)", queueId: Int32($0 / 2)) }.sorted()
        let clients = (1...4).map { "192.168.0.\($0)@pid\($0)" }.sorted()
        for client in clients {
            let mine = try plugin.checkedAllocate(group: "G", currentClientId: client, allClientIds: clients, allQueues: queues)
            #expect(mine == builtIn.allocate(group: "G", currentClientId: client, allClientIds: clients, allQueues: queues))
        }
        let overlap = try PluginAllocationStrategy(.path(directory + "/broken-results.so", plugin: "broken-allocator-overlap"))
        #expect(throws: ClientError.self) {
            try overlap.checkedAllocate(group: "G", currentClientId: clients[0], allClientIds: clients, allQueues: queues)
        }
        #expect(overlap.allocate(group: "G", currentClientId: clients[0], allClientIds: clients, allQueues: queues).isEmpty)
    }

    /// Push consumers using `allocate-consistent-hash` cover every queue exactly once as a second and
    /// third consumer join and the first leaves; every message sent is received.
    @Test func pushConsumersWithThePluginCoverEveryQueueOnce() async throws {
        let directory = try ClientPluginBuild.directory.get()
        let broker = try await ConsumerTestBroker.start()
        defer { broker.broker.stop() }
        try await broker.createTopic("PluginRebalance", queues: 8)
        let recorder = ReceivedRecorder()
        func configuration() throws -> PushConsumerConfiguration {
            var configuration = ConsumerPushTests.configuration(broker, group: "G-plugin", topic: "PluginRebalance")
            configuration.allocationStrategy = try PluginAllocationStrategy(named: "allocate-consistent-hash", directory: directory)
            return configuration
        }
        let first = try await ConsumerPushTests.consumer(configuration(), recorder: recorder, label: "first")
        #expect(await poll(seconds: 30) { Self.coversOnce([first], queues: 8) })
        let second = try await ConsumerPushTests.consumer(configuration(), recorder: recorder, label: "second")
        #expect(await poll(seconds: 60) { Self.coversOnce([first, second], queues: 8) })
        let third = try await ConsumerPushTests.consumer(configuration(), recorder: recorder, label: "third")
        #expect(await poll(seconds: 60) { Self.coversOnce([first, second, third], queues: 8) })
        for index in 0..<40 { _ = try await broker.send(topic: "PluginRebalance", queueId: Int32(index % 8), body: "p\(index)") }
        await first.shutdown()
        #expect(await poll(seconds: 60) { Self.coversOnce([second, third], queues: 8) })
        let everything = Set((0..<40).map { "p\($0)" })
        #expect(await poll(seconds: 60) { recorder.distinctBodies == everything }, "received \(recorder.distinctBodies.count) of 40")
        await second.shutdown()
        await third.shutdown()
        await broker.raw.shutdown()
    }

    /// True when the consumers' assignments are disjoint and together cover all `queues` (a consumer
    /// may own none: consistent hashing does not promise every member a queue).
    static func coversOnce(_ consumers: [PushConsumer], queues: Int) -> Bool {
        let shares = consumers.map { $0.assignedQueues.filter { $0.topic == "PluginRebalance" } }
        let union = shares.reduce(into: Set<MessageQueue>()) { $0.formUnion($1) }
        return union.count == queues && shares.map(\.count).reduce(0, +) == queues
    }
}

extension BrokerProcess {
    /// A broker on free ports, started again (up to three times) when another test took its port
    /// between `freePort()` and the broker's bind.
    static func startRetryingPortClash() async throws -> BrokerProcess {
        var attempt = 1
        while true {
            do {
                return try await BrokerProcess()
            } catch where attempt < 3 && "\(error)".contains("Address already in use") {
                attempt += 1
            }
        }
    }
}
