import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Testing

@testable import PetrelBroker

/// Held pulls: answered when a message arrives, or when the suspend time ends.
@Suite struct LongPollingTests {
    @Test func heldPullIsAnsweredWhenAMessageArrives() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        _ = await fixture.handle(Requests.send(topic: "TopicPoll", body: "first"))
        await fixture.waitForQueue("TopicPoll", count: 1)
        // Push-consumer flags: suspend + subscription; offset 1 is the end of the queue.
        async let held = fixture.handle(Requests.pull(topic: "TopicPoll", offset: 1, sysFlag: 6, suspendMilliseconds: 15000))
        while fixture.handler.longPolling.heldCount == 0 { await Task.yield() }
        let clock = ContinuousClock()
        let start = clock.now
        let sent = await fixture.handle(Requests.send(topic: "TopicPoll", body: "second"))
        #expect(sent.responseCode == .success)
        let response = await held
        #expect(clock.now - start < .seconds(5), "answered on arrival, not at the 15 s timeout")
        #expect(response.responseCode == .success)
        #expect(try Requests.messages(in: response).map { String(buffer: $0.message.body) } == ["second"])
        #expect(response.extFields["nextBeginOffset"] == "2")
        try await fixture.close()
    }

    @Test func heldPullTimesOutWithNotFound() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        _ = await fixture.handle(Requests.send(topic: "TopicIdle", body: "only"))
        await fixture.waitForQueue("TopicIdle", count: 1)
        let clock = ContinuousClock()
        let start = clock.now
        let response = await fixture.handle(Requests.pull(topic: "TopicIdle", offset: 1, sysFlag: 6, suspendMilliseconds: 300))
        let waited = clock.now - start
        #expect(response.responseCode == .pullNotFound)
        #expect(response.extFields["nextBeginOffset"] == "1")
        #expect(response.extFields["maxOffset"] == "1")
        // Held for the asked 300 ms, not for the broker's 20 s maximum (the upper bound leaves room for
        // a test process whose threads are all busy on a 2-core machine).
        #expect(waited >= .milliseconds(300) && waited < BrokerRequestHandler.maximumSuspend)
        #expect(fixture.handler.longPolling.heldCount == 0)
        try await fixture.close()
    }

    @Test func pullWithoutSuspendFlagIsNotHeld() async throws {
        let fixture = try await HandlerFixture()
        defer { fixture.directory.remove() }
        _ = await fixture.handle(Requests.send(topic: "TopicNoHold", body: "only"))
        await fixture.waitForQueue("TopicNoHold", count: 1)
        let clock = ContinuousClock()
        let start = clock.now
        let response = await fixture.handle(Requests.pull(topic: "TopicNoHold", offset: 1, sysFlag: 4, suspendMilliseconds: 20000))
        #expect(response.responseCode == .pullNotFound)
        #expect(clock.now - start < .seconds(2))
        try await fixture.close()
    }

    @Test func releaseAllAnswersEveryHeldPull() async throws {
        let service = LongPollingService(sweepInterval: .seconds(60))
        let loop = Task { try? await service.run() }
        while !service.isRunning { await Task.yield() }
        let key = QueueKey(topic: "T", queueId: 0)
        async let first: Void = service.waitForMessages(in: key, beyond: 0, until: .now + .seconds(60)) { false }
        async let second: Void = service.waitForMessages(in: key, beyond: 5, until: .now + .seconds(60)) { false }
        while service.heldCount < 2 { await Task.yield() }
        service.messagesArrived(in: key, maximumOffset: 3)
        await first
        #expect(service.heldCount == 1, "only the waiter below the new maximum is woken")
        service.releaseAll()
        await second
        loop.cancel()
        await loop.value
        #expect(!service.isRunning)
    }
}
