import Foundation
import Logging
import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Synchronization
import Testing

@testable import PetrelBroker

/// A fresh directory under the system temp dir, removed by `remove()`.
struct BrokerTestDirectory {
    /// The directory's path.
    let path: String

    /// Creates a unique directory.
    init(_ label: String = "petrel-broker") {
        path = FileManager.default.temporaryDirectory.path + "/\(label)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Deletes the directory and everything in it.
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A client connection that records what the broker sends it, so tests can drive the handler
/// without sockets.
final class FakeClientChannel: ClientChannel {
    /// Source of ids, far from the real connections' ids.
    private static let identifiers = Atomic<UInt64>(1_000_000)

    let id: UInt64
    let remoteAddress: String
    /// Every request the broker sent, in order.
    let sent = Mutex<[RemotingCommand]>([])
    /// Set by `close`.
    let closed = Atomic<Bool>(false)
    /// The same requests as a stream, to await them.
    let notices: AsyncStream<RemotingCommand>
    /// Feeds `notices`.
    private let feed: AsyncStream<RemotingCommand>.Continuation
    /// Every answer given through `answerLater`, in order.
    let laterAnswers = Mutex<[RemotingCommand]>([])
    /// The same answers as a stream, to await them.
    private let laterStream: AsyncStream<RemotingCommand>
    /// Feeds `laterStream`.
    private let laterFeed: AsyncStream<RemotingCommand>.Continuation

    /// A channel whose peer is `remoteAddress`.
    init(remoteAddress: String = "10.0.0.7:50000") {
        id = Self.identifiers.wrappingAdd(1, ordering: .relaxed).oldValue
        self.remoteAddress = remoteAddress
        (notices, feed) = AsyncStream.makeStream()
        (laterStream, laterFeed) = AsyncStream.makeStream()
    }

    func invokeOneway(_ request: RemotingCommand) async throws(RemotingError) {
        sent.withLock { $0.append(request) }
        feed.yield(request)
    }

    func invoke(_ request: RemotingCommand, timeout: Duration) async throws(RemotingError) -> RemotingCommand {
        sent.withLock { $0.append(request) }
        return request.response(body: ByteBuffer(string: "{\"running\":true}"))
    }

    func close() { closed.store(true, ordering: .relaxed) }

    /// Builds the answer at once (there is no event loop) and records it in `laterAnswers`.
    func answerLater(_ request: RemotingCommand, building build: @escaping @Sendable () -> RemotingCommand) {
        let response = build()
        laterAnswers.withLock { $0.append(response) }
        laterFeed.yield(response)
    }

    /// The next answer given through `answerLater`, or nil when none comes within `timeout`.
    func nextLaterAnswer(timeout: Duration = .seconds(30)) async -> RemotingCommand? {
        await firstElement(of: laterStream, within: timeout) { _ in true }
    }

    /// Requests with `code` sent so far.
    func sentCount(_ code: RequestCode) -> Int { sent.withLock { $0.filter { $0.requestCode == code }.count } }
}

extension EventLoopAnswer {
    /// The response when answered at once.
    var response: RemotingCommand? {
        if case .answered(let response) = self { return response }
        return nil
    }

    /// Whether the request was left to the task path.
    var isDeclined: Bool {
        if case .declined = self { return true }
        return false
    }

    /// Whether the request was taken on, to be answered later.
    var isLater: Bool {
        if case .later = self { return true }
        return false
    }
}

/// A thread-safe counter.
final class Counter: Sendable {
    /// The count.
    private let count = Atomic<Int>(0)

    /// Adds one.
    func increment() { count.add(1, ordering: .relaxed) }

    /// The current count.
    var value: Int { count.load(ordering: .relaxed) }
}

/// A broker's handler over a real store in a temporary directory, without a server.
final class HandlerFixture: Sendable {
    let directory: BrokerTestDirectory
    let configuration: BrokerConfiguration
    let handler: BrokerRequestHandler
    /// Counts the handler's requests for a name-server re-registration.
    private let registrationCounter = Counter()
    /// The long-polling loop.
    private let polling: Task<Void, Never>

    var store: MessageStore { handler.store }

    /// How many times the handler asked for a name-server re-registration.
    var registrations: Int { registrationCounter.value }

    /// Opens a fixture in `directory` (a fresh one by default).
    init(directory: BrokerTestDirectory = BrokerTestDirectory(), configure: (inout BrokerConfiguration) -> Void = { _ in }) async throws {
        self.directory = directory
        var configuration = Self.configuration(root: directory.path)
        configure(&configuration)
        self.configuration = configuration
        let root = configuration.store.rootDirectory
        let store = try MessageStore.open(configuration.store, logger: Self.logger)
        let longPolling = LongPollingService(sweepInterval: .milliseconds(20))
        store.setMessageArrivalListener { key, maximum in longPolling.messagesArrived(in: key, maximumOffset: maximum.rawValue) }
        let counter = registrationCounter
        handler = BrokerRequestHandler(
            configuration: configuration, store: store,
            topics: try TopicConfigTable(storeRoot: root, configuration: configuration),
            subscriptionGroups: try SubscriptionGroupTable(storeRoot: root, autoCreate: configuration.autoCreateSubscriptionGroup),
            offsets: try ConsumerOffsetTable(storeRoot: root), clients: ClientRegistry(), longPolling: longPolling,
            compression: try StoreBodyCompression.open(configuration.compression, storeRoot: root, logger: Self.logger),
            logger: Self.logger, onTopicsChanged: { counter.increment() })
        polling = Task { try? await longPolling.run() }
        while !longPolling.isRunning { await Task.yield() }
    }

    /// Small files so a test store is cheap; store host 10.0.0.1:10911.
    static func configuration(root: String) -> BrokerConfiguration {
        var configuration = BrokerConfiguration(storeRoot: root)
        configuration.brokerIP1 = "10.0.0.1"
        configuration.listenPort = 10911
        configuration.defaultTopicQueueNumbers = 8
        configuration.store.commitLogSegmentSize = 1 << 20
        configuration.store.consumeQueueUnitsPerFile = 1024
        configuration.store.indexSlotCount = 64
        configuration.store.indexEntryCount = 256
        configuration.store.asyncFlushInterval = .milliseconds(20)
        configuration.store.checkpointInterval = .milliseconds(50)
        configuration.store.maximumMessageSize = 64 * 1024
        configuration.store.storeHost = MessageHost(configuration.brokerAddress)!
        return configuration
    }

    /// Logs warnings and worse only.
    static var logger: Logger {
        var logger = Logger(label: "petrel.broker.test")
        logger.logLevel = .warning
        return logger
    }

    /// Sends `request` as `client`.
    func handle(_ request: RemotingCommand, client: any ClientChannel = FakeClientChannel()) async -> RemotingCommand {
        await handler.handle(request, client: client)
    }

    /// Waits (at most 5 s) until the queue holds `count` messages, woken by the store's arrival listener.
    func waitForQueue(_ topic: String, _ queueId: Int32 = 0, count: Int64) async {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            let current = store.maximumOffset(topic: topic, queueId: queueId).rawValue
            if current >= count { return }
            await handler.longPolling.waitForMessages(
                in: QueueKey(topic: topic, queueId: queueId), beyond: current, until: deadline
            ) { [store] in store.maximumOffset(topic: topic, queueId: queueId).rawValue > current }
        }
    }

    /// Stops the loop, writes the offsets and closes the store (the directory stays).
    func close() async throws {
        polling.cancel()
        await polling.value
        try handler.offsets.persist(force: true)
        try store.close()
    }
}

/// Request builders with the fields RocketMQ clients send.
enum Requests {
    /// A SEND_MESSAGE (or V2 with short keys) for one message.
    static func send(
        topic: String, body: String, tags: String? = nil, keys: String? = nil, queueId: Int32 = 0,
        code: RequestCode = .sendMessage, extra: [String: String] = [:]
    ) -> RemotingCommand {
        var properties = MessageProperties()
        if let tags { properties[PropertyKey.tags] = tags }
        if let keys { properties[PropertyKey.keys] = keys }
        properties[PropertyKey.uniqueKey] = "0A0000070000529B00006FF14E7F0001"
        properties[PropertyKey.waitStoreMessageOK] = "true"
        var fields = [
            "producerGroup": "PG", "topic": topic, "defaultTopic": "TBW102", "defaultTopicQueueNums": "4",
            "queueId": String(queueId), "sysFlag": "0", "bornTimestamp": "1700000000000", "flag": "0",
            "properties": String(decoding: properties.encoded(), as: UTF8.self), "reconsumeTimes": "0",
            "unitMode": "false", "batch": "false",
        ]
        for (key, value) in extra { fields[key] = value }
        if code == .sendMessageV2 || code == .sendBatchMessage {
            fields = Dictionary(uniqueKeysWithValues: fields.map { (SendRequestHeader.shortKeys[$0.key] ?? $0.key, $0.value) })
        }
        return RemotingCommand.request(code: code, extFields: fields, body: ByteBuffer(string: body))
    }

    /// A PULL_MESSAGE as the C++ pull consumer sends it (subscription flag, no suspend unless asked).
    static func pull(
        group: String = "CG", topic: String, queueId: Int32 = 0, offset: Int64, maxMessages: Int32 = 32,
        subscription: String = "*", sysFlag: Int32 = 4, suspendMilliseconds: Int64 = 20000, commitOffset: Int64 = 0
    ) -> RemotingCommand {
        RemotingCommand.request(code: .pullMessage, extFields: [
            "consumerGroup": group, "topic": topic, "queueId": String(queueId), "queueOffset": String(offset),
            "maxMsgNums": String(maxMessages), "sysFlag": String(sysFlag), "commitOffset": String(commitOffset),
            "suspendTimeoutMillis": String(suspendMilliseconds), "subscription": subscription, "subVersion": "0",
        ])
    }

    /// A HEART_BEAT of a push consumer of `group` subscribed to `topic`.
    static func heartbeat(clientId: String, group: String, topic: String, expression: String = "*") -> RemotingCommand {
        let data = HeartbeatData(clientID: clientId, consumerDataSet: [
            ConsumerData(groupName: group, subscriptionDataSet: [SubscriptionData(topic: topic, subString: expression)]),
        ])
        return RemotingCommand.request(code: .heartBeat, body: data.jsonBuffer())
    }

    /// The stored messages in a pull body.
    static func messages(in response: RemotingCommand) throws -> [StoredMessage] {
        guard let body = response.body else { return [] }
        return try body.withUnsafeReadableBytes { try StoredMessageCodec.decodeAll($0) }
    }
}

/// The first element of `stream` that `accepts`, or nil when none comes within `timeout`.
func firstElement(
    of stream: AsyncStream<RemotingCommand>, within timeout: Duration, where accepts: @escaping @Sendable (RemotingCommand) -> Bool
) async -> RemotingCommand? {
    await withTaskGroup(of: RemotingCommand?.self) { group in
        group.addTask {
            for await element in stream where accepts(element) { return element }
            return nil
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}
