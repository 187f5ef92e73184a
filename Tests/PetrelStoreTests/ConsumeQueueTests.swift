import Foundation
import NIOCore
import PetrelCore
@testable import PetrelStore
import Testing

/// Consume-queue reads: offsets, statuses, limits, tag filters, timestamps, key queries.
@Suite struct ConsumeQueueTests {
    /// A store holding `count` messages in queue 0, tags cycling through `tags`.
    private func filledStore(_ directory: StoreTestDirectory, count: Int, tags: [String]) async throws -> MessageStore {
        let store = try MessageStore.open(StoreFixtures.configuration(directory.path), logger: StoreFixtures.logger)
        for index in 0..<count {
            let result = await store.put(StoreFixtures.message(body: "m\(index)", tags: tags[index % tags.count], keys: ["key\(index)"]))
            #expect(result.status == .ok)
        }
        let expected = QueueOffset(Int64(count))
        #expect(await StoreFixtures.eventually { store.maximumOffset(topic: "TopicTest", queueId: 0) == expected })
        return store
    }

    @Test func statusesAndOffsetsFollowRocketMQ() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try await filledStore(directory, count: 200, tags: ["TagA"])
        defer { try? store.close() }
        #expect(store.getMessages(topic: "Nope", queueId: 0, offset: .zero, maximumCount: 1).status == .noMatchedLogicQueue)
        let overflowOne = store.getMessages(topic: "TopicTest", queueId: 0, offset: QueueOffset(200), maximumCount: 1)
        #expect(overflowOne.status == .offsetOverflowOne)
        #expect(overflowOne.nextBeginOffset == QueueOffset(200))
        let overflowBadly = store.getMessages(topic: "TopicTest", queueId: 0, offset: QueueOffset(500), maximumCount: 1)
        #expect(overflowBadly.status == .offsetOverflowBadly)
        #expect(overflowBadly.nextBeginOffset == QueueOffset(200))
        let page = store.getMessages(topic: "TopicTest", queueId: 0, offset: QueueOffset(70), maximumCount: 32)
        #expect(page.status == .found)
        #expect(page.queueOffsets == (70..<102).map { QueueOffset(Int64($0)) })
        #expect(page.nextBeginOffset == QueueOffset(102))
        #expect(page.minimumOffset == .zero && page.maximumOffset == QueueOffset(200))
        #expect(try page.records.map { String(buffer: try $0.decode().message.body) } == (70..<102).map { "m\($0)" })
        // Consume-queue files hold 64 units: a read across a file boundary stays dense.
        let across = store.getMessages(topic: "TopicTest", queueId: 0, offset: QueueOffset(60), maximumCount: 10)
        #expect(across.queueOffsets.first == QueueOffset(60) && across.queueOffsets.last == QueueOffset(69))
        let recordSize = page.records[0].count
        let limited = store.getMessages(topic: "TopicTest", queueId: 0, offset: .zero, maximumCount: 32, maximumBytes: recordSize * 3)
        #expect(limited.records.count == 3)
        let atLeastOne = store.getMessages(topic: "TopicTest", queueId: 0, offset: .zero, maximumCount: 32, maximumBytes: 1)
        #expect(atLeastOne.records.count == 1)
    }

    @Test func tagFilterChecksTheExactTagBehindEqualHashes() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        // "Aa" and "BB" have the same Java hashCode, so the consume queue cannot tell them apart.
        #expect(TagHash.javaStringHashCode("Aa") == TagHash.javaStringHashCode("BB"))
        let store = try await filledStore(directory, count: 90, tags: ["Aa", "BB", "TagC"])
        defer { try? store.close() }
        let onlyAa = store.getMessages(topic: "TopicTest", queueId: 0, offset: .zero, maximumCount: 100, filter: TagFilter(expression: "Aa"))
        #expect(onlyAa.status == .found)
        #expect(try onlyAa.records.allSatisfy { try $0.decode().message.tags == "Aa" })
        #expect(onlyAa.records.count == 30)
        let either = store.getMessages(topic: "TopicTest", queueId: 0, offset: .zero, maximumCount: 100, filter: TagFilter(expression: "BB || TagC"))
        #expect(either.records.count == 60)
        #expect(try either.records.allSatisfy { try ["BB", "TagC"].contains($0.decode().message.tags) })
        let none = store.getMessages(topic: "TopicTest", queueId: 0, offset: .zero, maximumCount: 10, filter: TagFilter(expression: "Zz"))
        #expect(none.status == .noMatchedMessage)
        #expect(none.nextBeginOffset > .zero)
        #expect(TagFilter(expression: " * ") == .all)
    }

    @Test func searchByTimestampAndEarliestStoreTime() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try MessageStore.open(StoreFixtures.configuration(directory.path), logger: StoreFixtures.logger)
        defer { try? store.close() }
        var stamps: [Int64] = []
        for index in 0..<3 {
            let stored = await store.put(StoreFixtures.message(body: "before-\(index)"))
            stamps.append(try #require(stored.appended).storeTimestamp)
        }
        let later = stamps.last! + 5
        #expect(await StoreFixtures.eventually { System.nowMilliseconds() >= later })
        let after = await store.put(StoreFixtures.message(body: "after"))
        let afterStamp = try #require(after.appended).storeTimestamp
        #expect(await StoreFixtures.eventually { store.maximumOffset(topic: "TopicTest", queueId: 0) == QueueOffset(4) })
        #expect(store.offset(forTimestamp: later, topic: "TopicTest", queueId: 0) == QueueOffset(3))
        #expect(store.offset(forTimestamp: 0, topic: "TopicTest", queueId: 0) == .zero)
        #expect(store.offset(forTimestamp: afterStamp + 1, topic: "TopicTest", queueId: 0) == QueueOffset(4))
        #expect(store.earliestStoreTime(topic: "TopicTest", queueId: 0) == stamps[0])
    }

    @Test func keyQueriesReturnOnlyRealMatches() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try MessageStore.open(StoreFixtures.configuration(directory.path), logger: StoreFixtures.logger)
        defer { try? store.close() }
        // "Aa"/"BB" collide in the index hash; index slots are few (64), so unrelated keys share slots too.
        _ = await store.put(StoreFixtures.message(body: "first", keys: ["Aa", "order-1"], unique: "UNIQ-1"))
        _ = await store.put(StoreFixtures.message(body: "second", keys: ["BB"]))
        _ = await store.put(StoreFixtures.message(topic: "Other", body: "third", keys: ["Aa"]))
        for index in 0..<300 { _ = await store.put(StoreFixtures.message(body: "filler", keys: ["k\(index)"])) }
        #expect(await StoreFixtures.eventually { store.dispatchedCommitLogOffset == store.maximumCommitLogOffset })
        let aa = store.queryMessages(topic: "TopicTest", key: "Aa", begin: 0, end: .max, limit: 10)
        #expect(aa.map { String(buffer: $0.message.body) } == ["first"])
        #expect(store.queryMessages(topic: "TopicTest", key: "BB", begin: 0, end: .max, limit: 10).map { String(buffer: $0.message.body) } == ["second"])
        #expect(store.queryMessages(topic: "TopicTest", key: "UNIQ-1", begin: 0, end: .max, limit: 10).count == 1)
        #expect(store.queryMessages(topic: "TopicTest", key: "order-1", begin: 0, end: 1, limit: 10).isEmpty)
        #expect(store.queryMessages(topic: "TopicTest", key: "k150", begin: 0, end: .max, limit: 10).count == 1)
        #expect(store.queryMessages(topic: "TopicTest", key: "missing", begin: 0, end: .max, limit: 10).isEmpty)
    }
}
