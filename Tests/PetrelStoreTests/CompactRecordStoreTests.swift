import Foundation
import NIOCore
import PetrelCore
import PetrelStore
import Testing

/// Writes `count` messages, all compact, or alternating compact and v1 when `mixed`, and closes
/// the store.
private func writeRecords(
    _ configuration: StoreConfiguration, count: Int, mixed: Bool = false
) async throws -> TailFixture.Written {
    let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
    var records: [TailFixture.Record] = []
    for index in 0..<count {
        let queueId = Int32(index % 2)
        let body = "compact-body-\(index)-" + String(repeating: "xyz", count: 1 + index % 5)
        let message = StoreFixtures.message(
            queueId: queueId, body: body, tags: "Tag\(index % 3)", keys: ["compact-\(index)"],
            unique: String(format: "0A00000700002A9F%016X", index))
        let format: StoredRecordFormat = mixed && index % 2 == 1 ? .standard : .compact
        let result = await store.put(message, format: format)
        #expect(result.status == .ok)
        let appended = try #require(result.appended)
        records.append(TailFixture.Record(offset: appended.firstOffset.rawValue, queueId: queueId, body: body))
    }
    let end = store.maximumCommitLogOffset.rawValue
    try store.close()
    return TailFixture.Written(records: records, endOffset: end)
}

@Suite("Compact records in the store")
struct CompactRecordStoreTests {
    @Test("compact records are dispatched, filtered, indexed and served as v1", arguments: [FlushMode.async, .sync])
    func readPaths(flush: FlushMode) async throws {
        let directory = StoreTestDirectory("petrel-compact-read")
        defer { directory.remove() }
        let configuration = StoreFixtures.configuration(directory.path, flushMode: flush)
        let written = try await writeRecords(configuration, count: 40, mixed: true)
        let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        defer { try? store.close() }
        #expect(store.maximumOffset(topic: "TopicTest", queueId: 0).rawValue == 20)
        let result = store.getMessages(topic: "TopicTest", queueId: 0, offset: .zero, maximumCount: 32,
                                       filter: TagFilter(expression: "Tag1"))
        let expected = written.records.enumerated().filter { $0.offset % 2 == 0 && $0.offset % 3 == 1 }.map(\.element.body)
        var wire = ByteBuffer()
        for record in result.records { try record.write(into: &wire) }
        let served = try wire.withUnsafeReadableBytes { try StoredMessageCodec.decodeAll($0) }
        #expect(served.map { String(buffer: $0.message.body) } == expected)
        #expect(result.records.contains { $0.isCompact })
        for (slice, message) in zip(result.records, served) {
            #expect(message.commitLogOffset == slice.commitLogOffset)
            #expect(message == (try slice.decode()))
            #expect(message.storeHost == configuration.storeHost)
            #expect(message.message.properties[PropertyKey.tags] == "Tag1")
        }
        let found = store.queryMessages(topic: "TopicTest", key: "compact-4", begin: 0, end: Int64.max, limit: 4)
        #expect(found.map { String(buffer: $0.message.body) } == [written.records[4].body])
        let unique = store.queryMessages(topic: "TopicTest", key: String(format: "0A00000700002A9F%016X", 6), begin: 0,
                                         end: Int64.max, limit: 4)
        #expect(unique.map { String(buffer: $0.message.body) } == [written.records[6].body])
        let stamp = try #require(store.storeTimestamp(topic: "TopicTest", queueId: 0, offset: .zero))
        #expect(abs(stamp - Int64(Date().timeIntervalSince1970 * 1000)) < 600_000)
    }

    @Test("a compact batch takes consecutive queue offsets and survives a crash", arguments: [FlushMode.async, .sync])
    func batch(flush: FlushMode) async throws {
        let directory = StoreTestDirectory("petrel-compact-batch")
        defer { directory.remove() }
        let configuration = StoreFixtures.configuration(directory.path, flushMode: flush)
        var store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        let bodies = (0..<5).map { "batch-\($0)-" + String(repeating: "q", count: $0 * 40) }
        _ = await store.put(StoreFixtures.message(queueId: 1, body: "first, v1"))
        let result = await store.put(batch: bodies.map { StoreFixtures.message(queueId: 1, body: $0, tags: "B") }, format: .compact)
        #expect(result.status == .ok)
        #expect(result.appended?.firstQueueOffset == QueueOffset(1))
        try store.close()
        try TailFixture.simulateCrash(configuration.rootDirectory)
        store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        defer { try? store.close() }
        #expect(store.recoveryReport.end == result.appended?.endOffset.rawValue)
        let read = store.getMessages(topic: "TopicTest", queueId: 1, offset: QueueOffset(1), maximumCount: 32)
        #expect(read.records.count == bodies.count)
        #expect(read.records.map(\.commitLogOffset) == result.appended?.recordOffsets)
        let messages = try read.records.map { try $0.decode() }
        #expect(messages.map { String(buffer: $0.message.body) } == bodies)
        #expect(messages.map(\.queueOffset) == (1...5).map { QueueOffset(Int64($0)) })
    }

    @Test("a compact record cut at every byte is dropped as a torn tail", arguments: [FlushMode.async, .sync])
    func tornCompactTail(flush: FlushMode) async throws {
        let directory = StoreTestDirectory("petrel-compact-torn")
        defer { directory.remove() }
        let configuration = StoreFixtures.configuration(directory.path, flushMode: flush)
        let written = try await writeRecords(configuration, count: 12)
        let (last, end) = (written.last!.offset, written.endOffset)
        let segment = TailFixture.segmentPath(configuration, containing: last)
        let position = last % Int64(configuration.commitLogSegmentSize)
        let original = try TailFixture.read(segment, at: position, count: Int(end - last))
        var failures: [String] = []
        for cut in (last + 1)..<end {
            var image = Array(original[0..<Int(cut - last)])
            image += [UInt8](repeating: 0, count: 4096 - image.count)
            try TailFixture.overwrite(segment, at: position, with: image)
            try TailFixture.simulateCrash(configuration.rootDirectory)
            let problems = await TailFixture.expectTailDropped(configuration, written: written, replacement: "cut-\(cut)")
            if !problems.isEmpty { failures.append("cut at \(cut): " + problems.joined(separator: "; ")) }
        }
        #expect(failures.isEmpty, "\(failures.count) cuts not recovered as a torn tail:\n\(failures.prefix(8).joined(separator: "\n"))")
    }

    @Test("a compact record with MAGICCODE still 0 (the commit log writes it last) reads as torn")
    func unpublishedMagicIsTorn() async throws {
        let directory = StoreTestDirectory("petrel-compact-magic")
        defer { directory.remove() }
        let configuration = StoreFixtures.configuration(directory.path)
        let written = try await writeRecords(configuration, count: 6)
        let last = written.last!.offset
        let segment = TailFixture.segmentPath(configuration, containing: last)
        try TailFixture.overwrite(segment, at: last % Int64(configuration.commitLogSegmentSize) + 4, with: [0, 0, 0, 0])
        try TailFixture.simulateCrash(configuration.rootDirectory)
        let problems = await TailFixture.expectTailDropped(configuration, written: written, replacement: "after-magic")
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test("a damaged compact record mid-log stops start-up naming its offset")
    func midLogDamage() async throws {
        let directory = StoreTestDirectory("petrel-compact-corrupt")
        defer { directory.remove() }
        let configuration = StoreFixtures.configuration(directory.path)
        let written = try await writeRecords(configuration, count: 60)
        let victim = written.records[30].offset
        let segment = TailFixture.segmentPath(configuration, containing: victim)
        // A byte of the body, which CHECK covers.
        try TailFixture.flipByte(segment, at: victim % Int64(configuration.commitLogSegmentSize) + 70)
        try TailFixture.simulateCrash(configuration.rootDirectory)
        do {
            let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
            try? store.close()
            Issue.record("opening a store with a damaged compact record in the middle of the log succeeded")
        } catch {
            #expect(error.code == .corruptLog, "\(error)")
            #expect(error.message.contains("offset \(victim)"), "\(error.message)")
        }
    }
}
