import Foundation
import NIOCore
import PetrelCore
@testable import PetrelStore
import Testing

/// Sealing a full segment on the `SYNC_FLUSH` (`pwrite`) path, and what recovery makes of the
/// offsets recorded around a seal.
///
/// The blank record that seals a segment is 8 bytes long but stands for the whole rest of the
/// segment. The flush thread once took the end of those 8 bytes for the written end, so a flush
/// round that ended with a blank reported (and the checkpoint recorded) an offset inside the blank's
/// padding. A kill before the next checkpoint then made recovery start its scan there, find zeros,
/// see the next segment's valid records and refuse to start: "damaged" mid-log, though nothing was.
@Suite struct SegmentSealTests {
    /// Segment size of these tests: a few hundred records fill one.
    static let segmentSize = 64 * 1024

    @Test("on the pwrite path the written end after a seal is the segment's end, not the blank's 8 bytes")
    func committedEndAfterSealIsTheSegmentEnd() throws {
        let directory = StoreTestDirectory("petrel-seal")
        defer { directory.remove() }
        let log = try CommitLog(directory: directory.path + "/commitlog", segmentSize: Self.segmentSize, writesThroughMapping: false)
        var staging: [UInt8] = []
        try log.ensureSegment(at: 0)

        // Some records written in a round of their own: the end is the last record's end.
        var recordsEnd = try Self.appendUntilSeal(log, maximumCount: 5)
        #expect(try log.writePending(staging: &staging) == recordsEnd)

        // Fill the segment up to the seal; the round that writes the blank ends at the segment end.
        recordsEnd = try Self.appendUntilSeal(log, maximumCount: .max)
        let segmentEnd = Int64(Self.segmentSize)
        #expect(recordsEnd < segmentEnd - Int64(StoredMessageLayout.blankRecordSize))
        #expect(log.writtenOffset == segmentEnd)
        #expect(try log.writePending(staging: &staging) == segmentEnd)
        #expect(log.committedOffset == segmentEnd)
        let sealed = try #require(log.segment(containing: 0))
        guard case .blank(let size) = RecordScanner.scan(sealed, position: Int(recordsEnd), verifyChecksum: true) else {
            Issue.record("no blank record at \(recordsEnd) after the seal was written")
            return
        }
        #expect(Int64(size) == segmentEnd - recordsEnd)

        // A round holding only the blank (the next record not yet queued) also ends at the segment end.
        try log.ensureSegment(at: segmentEnd)
        let nextEnd = try Self.appendUntilSeal(log, maximumCount: .max)
        #expect(try log.writePending(staging: &staging) == 2 * segmentEnd)
        #expect(nextEnd < 2 * segmentEnd)
        try log.ensureSegment(at: 2 * segmentEnd)
        let afterRoll = try Self.appendUntilSeal(log, maximumCount: 1)
        #expect(try log.writePending(staging: &staging) == afterRoll)
        #expect(afterRoll > 2 * segmentEnd)
    }

    @Test("a checkpoint that ends 8 bytes into a sealed segment's blank (older stores) recovers past the blank")
    func checkpointInsideBlankRecovers() async throws {
        let directory = StoreTestDirectory("petrel-seal-checkpoint")
        defer { directory.remove() }
        let configuration = StoreFixtures.configuration(directory.path, segmentSize: Self.segmentSize)
        let written = try await TailFixture.write(configuration, count: 400)
        let segmentEnd = Int64(Self.segmentSize)
        #expect(written.records.contains { $0.offset == segmentEnd }, "the fixture must fill the first segment")
        let blank = try Self.blankPosition(configuration, segment: 0)
        let insideBlank = blank + Int64(StoredMessageLayout.blankRecordSize)
        // What the flush thread and checkpointer used to record when a flush round ended with the
        // blank: flushed 8 bytes into it, dispatched past it. Then a kill.
        try AtomicFile.write(Checkpoint(commitLogFlushed: insideBlank, dispatched: segmentEnd, indexed: segmentEnd,
                                        writtenAtMilliseconds: System.nowMilliseconds()).encoded(),
                             to: configuration.rootDirectory + "/checkpoint")
        _ = FileManager.default.createFile(atPath: configuration.rootDirectory + "/abort", contents: nil)

        let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        #expect(store.recoveryReport.crashed)
        #expect(store.recoveryReport.end == written.endOffset)
        #expect(store.recoveryReport.scanStart <= blank)
        for record in written.records {
            let message = try store.message(at: CommitLogOffset(record.offset))
            #expect(String(buffer: message.message.body) == record.body)
        }
        for queueId: Int32 in 0..<2 {
            let expected = Int64(written.records.filter { $0.queueId == queueId }.count)
            #expect(store.maximumOffset(topic: "TopicTest", queueId: queueId).rawValue == expected)
        }
        let next = await store.put(StoreFixtures.message(body: "after-recovery"))
        #expect(next.appended?.firstOffset.rawValue == written.endOffset)
        try store.close()
    }

    @Test("a lost blank with valid records in the next segment is still refused as mid-log damage")
    func lostBlankIsStillRefused() async throws {
        let directory = StoreTestDirectory("petrel-seal-lost")
        defer { directory.remove() }
        let configuration = StoreFixtures.configuration(directory.path, segmentSize: Self.segmentSize)
        let written = try await TailFixture.write(configuration, count: 400)
        let segmentEnd = Int64(Self.segmentSize)
        #expect(written.endOffset > segmentEnd)
        let blank = try Self.blankPosition(configuration, segment: 0)
        let segmentPath = TailFixture.segmentPath(configuration, containing: 0)
        try TailFixture.overwrite(segmentPath, at: blank, with: [UInt8](repeating: 0, count: StoredMessageLayout.blankRecordSize))
        // Even with a checkpoint whose scan starts just past where the blank was.
        let insideBlank = blank + Int64(StoredMessageLayout.blankRecordSize)
        try AtomicFile.write(Checkpoint(commitLogFlushed: insideBlank, dispatched: segmentEnd, indexed: segmentEnd,
                                        writtenAtMilliseconds: System.nowMilliseconds()).encoded(),
                             to: configuration.rootDirectory + "/checkpoint")
        _ = FileManager.default.createFile(atPath: configuration.rootDirectory + "/abort", contents: nil)
        do {
            let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
            try? store.close()
            Issue.record("opening a store whose first segment lost its blank record succeeded")
        } catch {
            #expect(error.code == .corruptLog, "\(error)")
            #expect(error.message.contains(segmentPath), "\(error.message)")
            #expect(error.message.contains("a valid record follows at offset \(segmentEnd)"), "\(error.message)")
        }
    }

    /// Appends 700-byte messages until the current segment is sealed or `maximumCount` were
    /// appended; returns the end of the last record appended.
    static func appendUntilSeal(_ log: CommitLog, maximumCount: Int) throws -> Int64 {
        var end = log.writtenOffset
        var count = 0
        while count < maximumCount {
            var batch = try EncodedBatch([StoreFixtures.message(body: String(repeating: "s", count: 700))],
                                         maximumMessageSize: 16 * 1024)
            switch log.append(&batch) {
            case .appended(let appended):
                end = appended.firstOffset.rawValue + Int64(appended.totalSize)
                count += 1
            case .needsSegment:
                return end
            }
        }
        return end
    }

    /// Where the blank record of a sealed segment starts, found by walking its records.
    static func blankPosition(_ configuration: StoreConfiguration, segment start: Int64) throws -> Int64 {
        let file = try MappedFile(directory: configuration.commitLogDirectory, startOffset: start, size: Self.segmentSize)
        var position = 0
        while position < Self.segmentSize {
            switch RecordScanner.scan(file, position: position, verifyChecksum: true) {
            case .message(let request): position += Int(request.size)
            case .blank: return start + Int64(position)
            case .empty, .invalid: throw KillTestError("segment \(start) has no blank record (stopped at \(position))")
            }
        }
        throw KillTestError("segment \(start) has no blank record")
    }
}
