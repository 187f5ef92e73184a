import Logging
import NIOCore
import NIOPosix
import PetrelCore
import PetrelRemoting
import PetrelStore
import ServiceLifecycle
import Synchronization
import Testing

@testable import PetrelBroker

/// A name server that records the broker's registrations.
final class RecordingNameServer: RemotingRequestHandler {
    /// Every request, in arrival order.
    let received = Mutex<[RemotingCommand]>([])
    /// The same requests, to await them.
    let requests: AsyncStream<RemotingCommand>
    /// Feeds `requests`.
    private let feed: AsyncStream<RemotingCommand>.Continuation

    init() { (requests, feed) = AsyncStream.makeStream() }

    func handle(_ request: RemotingCommand, from connection: RemotingConnection) async -> RemotingCommand? {
        received.withLock { $0.append(request) }
        feed.yield(request)
        return request.response()
    }

    /// The next request with `code`, or nil after `timeout`.
    func next(_ code: RequestCode, timeout: Duration = .seconds(30)) async -> RemotingCommand? {
        await firstElement(of: requests, within: timeout) { $0.requestCode == code }
    }
}

/// The whole broker over TCP: open, register, send and pull, graceful shutdown, reopen.
@Suite struct BrokerControllerTests {
    @Test func brokerServesClientsRegistersAndShutsDownGracefully() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let nameServer = RecordingNameServer()
        let nameServerListener = RemotingServer(host: "127.0.0.1", port: 0, group: group, handler: nameServer, logger: HandlerFixture.logger)
        let nameServerPort = try await nameServerListener.start()
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        var configuration = HandlerFixture.configuration(root: directory.path)
        configuration.brokerIP1 = "127.0.0.1"
        configuration.listenPort = 0
        configuration.nameServerAddresses = ["127.0.0.1:\(nameServerPort)"]

        let broker = try await BrokerController.open(configuration: configuration, group: group, logger: HandlerFixture.logger)
        #expect(broker.listenPort > 0)
        #expect(broker.store.configuration.storeHost.description == "127.0.0.1:\(broker.listenPort)")
        let services = ServiceGroup(services: [broker], gracefulShutdownSignals: [], cancellationSignals: [], logger: HandlerFixture.logger)
        let running = Task { try await services.run() }

        let registration = try #require(await nameServer.next(.registerBroker))
        #expect(registration.extFields["brokerAddr"] == "127.0.0.1:\(broker.listenPort)")
        #expect(registration.extFields["brokerName"] == "broker-a")
        let body = try RegisterBrokerBody(jsonBuffer: try #require(registration.body))
        #expect(body.topicConfigTable["TBW102"] != nil)

        let client = RemotingClient(group: group, logger: HandlerFixture.logger)
        let address = "127.0.0.1:\(broker.listenPort)"
        let sent = try await client.invoke(address: address, request: Requests.send(topic: "NetTopic", body: "over tcp"), timeout: .seconds(5))
        #expect(sent.responseCode == .success, "\(sent.remark ?? "")")
        let reRegistration = try #require(await nameServer.next(.registerBroker), "auto-create re-registers at once")
        let table = try RegisterBrokerBody(jsonBuffer: try #require(reRegistration.body)).topicConfigTable
        #expect(table["NetTopic"] != nil)

        // A long-polling pull is answered when the message is dispatched.
        let pulled = try await client.invoke(
            address: address, request: Requests.pull(topic: "NetTopic", offset: 0, sysFlag: 6, suspendMilliseconds: 5000), timeout: .seconds(10))
        #expect(pulled.responseCode == .success)
        let message = try #require(try Requests.messages(in: pulled).first)
        #expect(String(buffer: message.message.body) == "over tcp")
        #expect(message.bornHost.addressText == "127.0.0.1")

        let commit = RemotingCommand.request(code: .updateConsumerOffset, extFields: ["consumerGroup": "CG", "topic": "NetTopic", "queueId": "0", "commitOffset": "1"])
        #expect(try await client.invoke(address: address, request: commit, timeout: .seconds(5)).responseCode == .success)

        await services.triggerGracefulShutdown()
        try await running.value
        #expect(await nameServer.next(.unregisterBroker) != nil)
        #expect(broker.store.isClosed)
        await client.shutdown()
        await nameServerListener.shutdown()

        // Everything survives a restart.
        var again = configuration
        again.nameServerAddresses = ["127.0.0.1:1"]
        var quiet = HandlerFixture.logger
        quiet.logLevel = .error
        let reopened = try await BrokerController.open(configuration: again, group: group, logger: quiet)
        #expect(reopened.handler.topics.topic("NetTopic") != nil)
        #expect(reopened.handler.offsets.offset(group: "CG", topic: "NetTopic", queueId: 0) == 1)
        #expect(reopened.store.maximumOffset(topic: "NetTopic", queueId: 0).rawValue == 1)
        try await reopened.shutdown()
    }
}
