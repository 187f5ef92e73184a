import Foundation
import NIOCore
import PetrelCore
@testable import PetrelStore
import Synchronization
import Testing

/// Retention, disk-full refusal, metadata files and body compression.
@Suite struct RetentionTests {
    @Test func expiredSegmentsGoAtTheDeleteHourAndOldReadsSayTooSmall() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var configuration = StoreFixtures.configuration(directory.path, segmentSize: 64 * 1024)
        configuration.fileReservedTime = .seconds(72 * 3600)
        configuration.deleteWhenHours = [4]
        configuration.diskCleanRatio = 1.0
        configuration.forceCleanRatio = 1.0
        configuration.diskFullRatio = 1.0
        let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        defer { try? store.close() }
        var offsets: [CommitLogOffset] = []
        for index in 0..<400 {
            let result = await store.put(StoreFixtures.message(body: "\(index)-" + String(repeating: "r", count: 900), keys: ["key\(index)"]))
            offsets.append(try #require(result.appended).firstOffset)
        }
        #expect(await StoreFixtures.eventually { store.dispatchedCommitLogOffset == store.maximumCommitLogOffset })
        let now = System.nowMilliseconds()
        let segments = store.commitLog.segments
        #expect(segments.count >= 6)
        // The two oldest segments become 100 hours old.
        for segment in segments.prefix(2) { try System.setModificationTime(segment.path, milliseconds: now - 100 * 3_600_000) }
        let notYet = try store.runRetention(nowMilliseconds: now, hourOfDay: 13)
        #expect(notYet.deletedSegments == 0)
        let report = try store.runRetention(nowMilliseconds: now, hourOfDay: 4)
        #expect(report.deletedSegments == 2)
        let minimum = store.minimumCommitLogOffset
        #expect(minimum.rawValue == segments[2].startOffset)
        #expect(!System.exists(segments[0].path) && !System.exists(segments[1].path))
        #expect(throws: StoreError.self) { try store.message(at: offsets[0]) }
        do { _ = try store.message(at: offsets[0]) } catch { #expect(error.code == .offsetTooSmall) }
        let firstKept = try #require(offsets.firstIndex { $0 >= minimum })
        let read = store.getMessages(topic: "TopicTest", queueId: 0, offset: .zero, maximumCount: 1)
        #expect(read.status == .offsetTooSmall || read.queueOffsets.first == QueueOffset(Int64(firstKept)))
        #expect(store.minimumOffset(topic: "TopicTest", queueId: 0) == QueueOffset(Int64(firstKept)))
        let kept = store.getMessages(topic: "TopicTest", queueId: 0, offset: QueueOffset(Int64(firstKept)), maximumCount: 1)
        #expect(try kept.records.first?.decode().message.body == ByteBuffer(string: "\(firstKept)-" + String(repeating: "r", count: 900)))
        #expect(store.queryMessages(topic: "TopicTest", key: "key0", begin: 0, end: .max, limit: 1).isEmpty)
        #expect(store.queryMessages(topic: "TopicTest", key: "key399", begin: 0, end: .max, limit: 1).count == 1)
        // Queue files of 64 units whose every unit pointed into deleted segments went too.
        #expect(report.deletedQueueFiles >= 1)
    }

    @Test func aRetentionFloorKeepsExpiredSegmentsAnOwnerStillNeeds() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var configuration = StoreFixtures.configuration(directory.path, segmentSize: 64 * 1024)
        configuration.fileReservedTime = .seconds(3600)
        configuration.deleteWhenHours = [4]
        configuration.diskCleanRatio = 1.0
        configuration.forceCleanRatio = 1.0
        configuration.diskFullRatio = 1.0
        let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        defer { try? store.close() }
        for index in 0..<400 {
            _ = await store.put(StoreFixtures.message(body: "\(index)-" + String(repeating: "f", count: 900)))
        }
        #expect(await StoreFixtures.eventually { store.dispatchedCommitLogOffset == store.maximumCommitLogOffset })
        let now = System.nowMilliseconds()
        let segments = store.commitLog.segments
        #expect(segments.count >= 5)
        for segment in segments.prefix(4) { try System.setModificationTime(segment.path, milliseconds: now - 2 * 3_600_000) }
        // An owner still needs a record inside the third segment: the first two may go, not the third.
        let floor = Mutex<Int64?>(segments[2].startOffset + 100)
        store.addRetentionFloor { floor.withLock { $0 } }
        let first = try store.runRetention(nowMilliseconds: now, hourOfDay: 4)
        #expect(first.deletedSegments == 2)
        #expect(store.minimumCommitLogOffset.rawValue == segments[2].startOffset)
        // Once the owner needs nothing, the remaining expired segments go at the next round.
        floor.withLock { $0 = nil }
        let second = try store.runRetention(nowMilliseconds: now, hourOfDay: 4)
        #expect(second.deletedSegments == 2)
        #expect(store.minimumCommitLogOffset.rawValue == segments[4].startOffset)
    }

    @Test func writesAreRefusedAboveTheDiskFullRatioAndResumeBelowIt() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var configuration = StoreFixtures.configuration(directory.path)
        configuration.diskFullRatio = 0.999_999
        let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        defer { try? store.close() }
        let before = await store.put(StoreFixtures.message(body: "before"))
        #expect(before.status == .ok)
        let usage = try System.diskUsageRatio(directory.path)
        store.diskFullRatio = usage / 2
        try store.checkDiskSpace()
        #expect(await store.put(StoreFixtures.message(body: "refused")).status == .diskFull)
        store.diskFullRatio = 0.999_999
        try store.checkDiskSpace()
        let after = await store.put(StoreFixtures.message(body: "after"))
        #expect(after.status == .ok)
        #expect(await StoreFixtures.eventually { store.maximumOffset(topic: "TopicTest", queueId: 0) == QueueOffset(2) })
        let read = store.getMessages(topic: "TopicTest", queueId: 0, offset: .zero, maximumCount: 10)
        #expect(try read.records.map { String(buffer: try $0.decode().message.body) } == ["before", "after"])
    }

    @Test func atomicFileReplacesWholeAndCheckpointRejectsDamage() throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let path = directory.path + "/meta"
        try AtomicFile.write(Array("first".utf8), to: path)
        try AtomicFile.write(Array("second".utf8), to: path)
        #expect(try AtomicFile.read(path) == Array("second".utf8))
        #expect(!System.exists(path + ".tmp"))
        let checkpoint = Checkpoint(commitLogFlushed: 10, dispatched: 7, indexed: 8, writtenAtMilliseconds: 99)
        #expect(checkpoint.encoded().count == Checkpoint.size)
        #expect(try Checkpoint.decode(checkpoint.encoded(), path: path) == checkpoint)
        #expect(checkpoint.recoveryStart == 7)
        var damaged = checkpoint.encoded()
        damaged[12] ^= 0xFF
        #expect(throws: StoreError.self) { try Checkpoint.decode(damaged, path: path) }
    }

    /// The store keeps bodies opaque: a body the broker compressed (sysFlag zstd, enveloped) is
    /// stored and read back byte for byte with its flag, and reopening changes nothing.
    @Test func flaggedBodiesAreStoredOpaquely() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let configuration = StoreFixtures.configuration(directory.path)
        let opaque: [UInt8] = CompressedBodyEnvelope(originalLength: 5000, dictionaryId: 7).bytes + Array(repeating: 0xA5, count: 40)
        var message = StoreFixtures.message(body: "placeholder")
        message.message.body = ByteBuffer(bytes: opaque)
        message.sysFlag.compression = .zstd
        var store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        let put = await store.put(message)
        try store.close()
        store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        defer { try? store.close() }
        let stored = try store.message(at: #require(put.appended).firstOffset)
        #expect(stored.sysFlag.compression == .zstd)
        #expect(Array(stored.message.body.readableBytesView) == opaque)
    }
}
