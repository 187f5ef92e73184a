import Foundation
import NIOCore
import PetrelCore
@testable import PetrelStore
import Testing

/// Commit-log behaviour: segment rolling, batches, limits, the store lock, flush modes.
@Suite struct CommitLogTests {
    @Test func segmentsRollAndRecordsNeverSpanTwoSegments() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let configuration = StoreFixtures.configuration(directory.path, segmentSize: 64 * 1024)
        let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        var offsets: [(CommitLogOffset, Int)] = []
        let body = String(repeating: "x", count: 1000)
        for index in 0..<300 {
            let result = await store.put(StoreFixtures.message(body: "\(index)-" + body))
            let appended = try #require(result.appended)
            #expect(result.status == .ok)
            offsets.append((appended.firstOffset, appended.totalSize))
        }
        let segmentSize = Int64(configuration.commitLogSegmentSize)
        for (offset, size) in offsets {
            #expect(offset.rawValue / segmentSize == (offset.rawValue + Int64(size) - 1) / segmentSize)
        }
        let names = try System.listDirectory(configuration.commitLogDirectory)
        #expect(names.count >= 5)
        #expect(names.allSatisfy { MappedFile.startOffset(fromName: $0).map { $0 % segmentSize == 0 } ?? false })
        for (index, (offset, _)) in offsets.enumerated() {
            let message = try store.message(at: offset)
            #expect(String(buffer: message.message.body) == "\(index)-" + body)
            #expect(message.commitLogOffset == offset)
        }
        try store.close()
        let reopened = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        #expect(reopened.maximumOffset(topic: "TopicTest", queueId: 0).rawValue == 300)
        #expect(try reopened.message(at: offsets[299].0).message.body == ByteBuffer(string: "299-" + body))
        try reopened.close()
    }

    @Test func batchTakesConsecutiveQueueOffsetsAndIllegalMessagesAreRefused() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try MessageStore.open(StoreFixtures.configuration(directory.path), logger: StoreFixtures.logger)
        defer { try? store.close() }
        _ = await store.put(StoreFixtures.message(queueId: 3, body: "single"))
        let batch = (0..<10).map { StoreFixtures.message(queueId: 3, body: "batch-\($0)") }
        let result = await store.put(batch: batch)
        #expect(result.status == .ok)
        let appended = try #require(result.appended)
        #expect(appended.firstQueueOffset == QueueOffset(1))
        #expect(appended.recordOffsets.count == 10)
        for (index, offset) in appended.recordOffsets.enumerated() {
            let message = try store.message(at: offset)
            #expect(message.queueOffset == QueueOffset(Int64(1 + index)))
            #expect(message.storeTimestamp == appended.storeTimestamp)
            #expect(message.storeHost == MessageHost(ipv4: "10.0.0.1", port: 10911))
        }
        let mixed = [StoredMessage](arrayLiteral: StoreFixtures.message(queueId: 1, body: "a"), StoreFixtures.message(queueId: 2, body: "b"))
        guard case .messageIllegal = await store.put(batch: mixed).status else { Issue.record("mixed batch accepted"); return }
        let big = StoreFixtures.message(body: String(repeating: "y", count: 16 * 1024 + 1))
        guard case .messageIllegal(let why) = await store.put(big).status else { Issue.record("oversized accepted"); return }
        #expect(why.contains("maxMessageSize"))
        let longTopic = StoreFixtures.message(topic: String(repeating: "t", count: 128), body: "z")
        guard case .messageIllegal = await store.put(longTopic).status else { Issue.record("long topic accepted"); return }
        #expect(await StoreFixtures.eventually { store.maximumOffset(topic: "TopicTest", queueId: 3) == QueueOffset(11) })
    }

    @Test func preparedTransactionRecordsStayOutOfConsumeQueues() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try MessageStore.open(StoreFixtures.configuration(directory.path), logger: StoreFixtures.logger)
        defer { try? store.close() }
        var half = StoreFixtures.message(body: "half", keys: ["tx1"])
        half.sysFlag.transaction = .prepared
        let stored = await store.put(half)
        #expect(stored.status == .ok)
        _ = await store.put(StoreFixtures.message(body: "normal"))
        #expect(await StoreFixtures.eventually { store.dispatchedCommitLogOffset == store.maximumCommitLogOffset })
        #expect(store.maximumOffset(topic: "TopicTest", queueId: 0) == QueueOffset(1))
        let read = store.getMessages(topic: "TopicTest", queueId: 0, offset: .zero, maximumCount: 10)
        #expect(try read.records.map { String(buffer: try $0.decode().message.body) } == ["normal"])
        #expect(try store.message(at: #require(stored.appended).firstOffset).sysFlag.transaction == .prepared)
    }

    @Test func secondOpenOfTheSameStoreIsRefused() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let configuration = StoreFixtures.configuration(directory.path)
        let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        #expect(throws: StoreError.self) { try MessageStore.open(configuration, logger: StoreFixtures.logger) }
        do {
            _ = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        } catch {
            #expect(error.code == .locked)
        }
        try store.close()
        try MessageStore.open(configuration, logger: StoreFixtures.logger).close()
    }

    @Test func syncFlushAcknowledgesOnlyDurableBytesAndSharesFlushes() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try MessageStore.open(StoreFixtures.configuration(directory.path, segmentSize: 1 << 20, flushMode: .sync),
                                          logger: StoreFixtures.logger)
        defer { try? store.close() }
        let appends = 64 * 20
        let outcomes = await withTaskGroup(of: ([PutResult], Int).self) { group in
            for writer in 0..<64 {
                group.addTask {
                    var results: [PutResult] = []
                    var violations = 0
                    for sequence in 0..<20 {
                        let result = await store.put(StoreFixtures.message(queueId: Int32(writer % 4), body: "w\(writer)-\(sequence)"))
                        // Durable before acknowledged: the flushed offset already covers this append.
                        if let end = result.appended?.endOffset, store.flushedCommitLogOffset < end { violations += 1 }
                        // Consumers never see what is not durable.
                        if store.dispatchedCommitLogOffset > store.flushedCommitLogOffset { violations += 1 }
                        results.append(result)
                    }
                    return (results, violations)
                }
            }
            return await group.reduce(into: [([PutResult], Int)]()) { $0.append($1) }
        }
        let results = outcomes.flatMap(\.0)
        #expect(outcomes.map(\.1).reduce(0, +) == 0)
        #expect(results.count == appends)
        #expect(results.allSatisfy { $0.status == .ok })
        // Group commit: concurrent appends share msyncs.
        #expect(store.flushCount < appends)
        #expect(store.flushCount > 0)
    }

    @Test func asyncFlushReachesTheWrittenEndOnItsInterval() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try MessageStore.open(StoreFixtures.configuration(directory.path, flushMode: .async), logger: StoreFixtures.logger)
        defer { try? store.close() }
        for index in 0..<100 { _ = await store.put(StoreFixtures.message(body: "m\(index)")) }
        let end = store.maximumCommitLogOffset
        #expect(await StoreFixtures.eventually { store.flushedCommitLogOffset >= end })
        #expect(await StoreFixtures.eventually { store.maximumOffset(topic: "TopicTest", queueId: 0) == QueueOffset(100) })
    }
}
