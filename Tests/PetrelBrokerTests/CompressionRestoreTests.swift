import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Testing

@testable import PetrelBroker

/// Bodies the broker re-stores itself (retry, schedule, dead letter) keep their compressed bytes.
@Suite struct CompressionRestoreTests {
    @Test func retryScheduleAndDeadLetterCopiesKeepTheCompressedBodyAndServeItPlain() async throws {
        let fixture = try await HandlerFixture { configuration in
            try? CompressionFixtures.useZstd(&configuration)
            configuration.messageDelayLevels = [.seconds(1), .seconds(1), .seconds(1)]
        }
        defer { fixture.directory.remove() }
        _ = await fixture.handle(CompressionFixtures.updateTopic("Moves", attributes: "+compression.type=zstd,+compression.dictionary=false"))
        let body = CompressionFixtures.event(42)
        // A delayed send is parked under SCHEDULE_TOPIC_XXXX but compressed for its real topic.
        let delayed = RetryAndDelayTests.send(topic: "Moves", body: body, properties: [(PropertyKey.delayLevel, "1")])
        #expect(await fixture.handle(delayed).responseCode == .success)
        #expect(await fixture.handle(Requests.send(topic: "Moves", body: body)).responseCode == .success)
        await fixture.waitForQueue("Moves", count: 1)
        let original = try #require(try RetryAndDelayTests.messages(fixture, "Moves").first)
        #expect(original.sysFlag.compression == .zstd)
        let parkedDelayed = try #require(try RetryAndDelayTests.messages(fixture, SystemNames.scheduleTopic, 0).first)
        #expect(parkedDelayed.sysFlag.compression == .zstd && parkedDelayed.message.body == original.message.body)

        #expect(await fixture.handle(RetryAndDelayTests.sendBack(offset: original.commitLogOffset, group: "CG_moves")).responseCode == .success)
        await fixture.waitForQueue(SystemNames.scheduleTopic, 2, count: 1)  // delayLevel 0 → level 3 → queue 2
        let schedule = try RetryAndDelayTests.schedule(fixture)
        _ = await schedule.deliverDue(now: RetryAndDelayTests.later)
        await fixture.waitForQueue("%RETRY%CG_moves", count: 1)
        let retry = try #require(try RetryAndDelayTests.messages(fixture, "%RETRY%CG_moves").first)
        #expect(retry.sysFlag.compression == .zstd && retry.message.body == original.message.body)

        #expect(await fixture.handle(RetryAndDelayTests.sendBack(offset: retry.commitLogOffset, group: "CG_moves", delayLevel: -1))
            .responseCode == .success)
        await fixture.waitForQueue("%DLQ%CG_moves", count: 1)
        let dead = try #require(try RetryAndDelayTests.messages(fixture, "%DLQ%CG_moves").first)
        #expect(dead.sysFlag.compression == .zstd && dead.message.body == original.message.body)
        let plain = try await CompressionFixtures.pullAll(fixture, "%DLQ%CG_moves", acceptsZstd: false)
        #expect(plain.map { String(buffer: $0.message.body) } == [body])
        try await fixture.close()
    }
}
