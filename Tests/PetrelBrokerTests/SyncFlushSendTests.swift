import Foundation
import Logging
import NIOCore
import NIOPosix
import PetrelCore
import PetrelRemoting
import Synchronization
import Testing

@testable import PetrelBroker
@testable import PetrelStore

/// SYNC_FLUSH sends answered on the connection's event loop from the flush completion, without a
/// task per send. The store's flush round gate, held, stands for an msync that has not returned.
@Suite struct SyncFlushSendTests {
    /// A handler over a SYNC_FLUSH store whose flush waits time out after `timeout`.
    private static func syncFixture(timeout: Duration = .seconds(30)) async throws -> HandlerFixture {
        try await HandlerFixture { configuration in
            configuration.store.flushMode = .sync
            configuration.store.syncFlushTimeout = timeout
        }
    }

    /// A send with `WAIT=false`: answered once stored, without waiting for the flush.
    private static func sendWithoutWait(topic: String, body: String) -> RemotingCommand {
        var properties = MessageProperties()
        properties[PropertyKey.waitStoreMessageOK] = "false"
        return Requests.send(topic: topic, body: body, extra: ["properties": String(decoding: properties.encoded(), as: UTF8.self)])
    }

    @Test("a SYNC_FLUSH send is taken on by the event loop and answered once durable")
    func answeredFromTheFlushCompletion() async throws {
        let fixture = try await Self.syncFixture()
        defer { fixture.directory.remove() }
        let client = FakeClientChannel()
        let gate = fixture.store.flushService.roundGate
        gate.hold()
        let taken = fixture.handler.sendOnEventLoop(Requests.send(topic: "SyncTopic", body: "durable"), client: client)
        #expect(taken.isLater)
        // WAIT=false is answered at once, even while the flush is held.
        let eager = fixture.handler.sendOnEventLoop(Self.sendWithoutWait(topic: "SyncTopic", body: "eager"), client: client)
        #expect(eager.response?.responseCode == .success)
        #expect(eager.response?.extFields["queueOffset"] == "1")
        #expect(client.laterAnswers.withLock { $0.isEmpty }, "no answer before the flush")
        gate.release()
        let answer = try #require(await client.nextLaterAnswer())
        #expect(answer.responseCode == .success, "\(answer.remark ?? "")")
        #expect(answer.extFields["queueOffset"] == "0")
        #expect(answer.extFields["msgId"]?.isEmpty == false)
        // Nothing is appended any more: the round that answered made everything written durable.
        #expect(fixture.store.flushedCommitLogOffset >= fixture.store.maximumCommitLogOffset, "acknowledged once durable")
        #expect(fixture.handler.sendsAnsweredAfterFlush.load(ordering: .relaxed) == 1)
        try await fixture.close()
    }

    @Test("a flush timeout answers FLUSH_DISK_TIMEOUT through the event-loop path, as the task path does")
    func flushTimeoutAnswersFlushDiskTimeout() async throws {
        let fixture = try await Self.syncFixture(timeout: .milliseconds(200))
        defer { fixture.directory.remove() }
        let client = FakeClientChannel()
        let gate = fixture.store.flushService.roundGate
        gate.hold()
        #expect(fixture.handler.sendOnEventLoop(Requests.send(topic: "SlowDisk", body: "stuck"), client: client).isLater)
        let answer = try #require(await client.nextLaterAnswer())
        let fromTask = await fixture.handle(Requests.send(topic: "SlowDisk", body: "stuck too"))
        gate.release()
        #expect(answer.responseCode == .flushDiskTimeout)
        #expect(fromTask.responseCode == .flushDiskTimeout)
        #expect(answer.remark == fromTask.remark)
        #expect(Set(answer.extFields.keys) == Set(fromTask.extFields.keys))
        #expect(answer.extFields["queueOffset"] == "0", "the message is stored, only its durability is unsure")
        try await fixture.close()
    }

    @Test("closing the store answers a send still waiting for its flush")
    func closeAnswersPendingSend() async throws {
        let fixture = try await Self.syncFixture()
        defer { fixture.directory.remove() }
        let client = FakeClientChannel()
        let gate = fixture.store.flushService.roundGate
        gate.hold()
        #expect(fixture.handler.sendOnEventLoop(Requests.send(topic: "Closing", body: "last"), client: client).isLater)
        // The close waits for the flush thread, which the gate holds; the last round covers the send.
        // It blocks, so it runs on a thread of its own, never on one of the few cooperative threads.
        let closeReturned = Counter()
        let store = fixture.store
        Thread {
            try? store.close()
            closeReturned.increment()
        }.start()
        _ = await Polling.eventually { store.isClosed }
        gate.release()
        let answer = try #require(await client.nextLaterAnswer())
        #expect(await Polling.eventually { closeReturned.value == 1 })
        #expect(answer.responseCode == .success, "\(answer.remark ?? "")")
        // After the close a send is refused at once.
        let refused = fixture.handler.sendOnEventLoop(Requests.send(topic: "Closing", body: "late"), client: client)
        #expect(refused.response?.responseCode == .serviceNotAvailable)
        try await fixture.close()
    }

    @Test("over TCP, pipelined SYNC_FLUSH sends are answered from one flush round, without tasks")
    func pipelinedSendsOverTCPShareOneRound() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        var configuration = HandlerFixture.configuration(root: directory.path)
        configuration.brokerIP1 = "127.0.0.1"
        configuration.listenPort = 0
        configuration.nameServerAddresses = ["127.0.0.1:1"]
        configuration.store.flushMode = .sync
        var quiet = HandlerFixture.logger
        quiet.logLevel = .critical
        let broker = try await BrokerController.open(configuration: configuration, group: group, logger: quiet)
        let client = RemotingClient(group: group, logger: quiet)
        let address = "127.0.0.1:\(broker.listenPort)"
        let first = try await client.invoke(address: address, request: Requests.send(topic: "Piped", body: "first"), timeout: .seconds(10))
        #expect(first.responseCode == .success, "\(first.remark ?? "")")
        let count = 64
        let takenBefore = broker.handler.sendsAnsweredAfterFlush.load(ordering: .relaxed)
        let gate = broker.store.flushService.roundGate
        gate.hold()
        let sending = Task {
            try await withThrowingTaskGroup(of: RemotingCommand.self) { sends in
                for index in 0..<count {
                    sends.addTask {
                        try await client.invoke(address: address, request: Requests.send(topic: "Piped", body: "m\(index)"), timeout: .seconds(30))
                    }
                }
                return try await sends.reduce(into: [RemotingCommand]()) { $0.append($1) }
            }
        }
        let allWaiting = await Polling.eventually { broker.store.flushService.waiterCount == count }
        let roundsBefore = broker.store.flushCount
        gate.release()
        let responses = try await sending.value
        #expect(allWaiting, "every send waits for the held flush")
        #expect(responses.count == count)
        #expect(responses.allSatisfy { $0.responseCode == .success })
        #expect(Set(responses.compactMap { $0.extFields["queueOffset"] }).count == count)
        #expect(broker.store.flushCount - roundsBefore == 1, "one round answered all \(count) sends")
        #expect(takenBefore == broker.handler.sendsAnsweredAfterFlush.load(ordering: .relaxed) - count, "the event-loop path, no task per send")
        await client.shutdown()
        try await broker.shutdown()
    }
}

/// Bounded polling for broker tests that wait on store state.
enum Polling {
    /// Waits until `condition` holds, polling, for at most `seconds`; returns whether it held.
    static func eventually(seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }
}
