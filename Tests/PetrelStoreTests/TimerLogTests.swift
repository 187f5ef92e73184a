import Foundation
import PetrelCore
import Testing

@testable import PetrelStore

/// The timer log's byte format, reopen, holes, file deletion below the watermark, truncation, and
/// the timer checkpoint.
@Suite struct TimerLogTests {
    /// An entry with recognisable fields for index `index`.
    static func entry(_ index: Int64, state: TimerLog.State = .pending) -> TimerLog.Entry {
        TimerLog.Entry(deliverAtMilliseconds: 1_700_000_000_000 + index, commitLogOffset: 4096 * index, size: 100 + Int32(index),
                       state: state, deliveredOffset: state == .delivered ? 9_000 + index : -1)
    }

    @Test func entryIsThirtyTwoBigEndianBytesInFilesNamedByByteOffset() throws {
        let directory = StoreTestDirectory("petrel-timerlog")
        defer { directory.remove() }
        #expect(TimerLog.entrySize == 32)
        let log = try TimerLog(directory: directory.path + "/timerlog", entriesPerFile: 4)
        let written = TimerLog.Entry(deliverAtMilliseconds: 0x0102_0304_0506_0708, commitLogOffset: 0x1112_1314_1516_1718,
                                     size: 0x2122_2324, state: .delivered, deliveredOffset: 0x3132_3334_3536_3738)
        try log.write(written, at: 5)
        #expect(log.endIndex == 6)
        #expect(try log.entry(at: 5) == written)
        // Entry 5 is the second slot of the file starting at entry 4 = byte 128.
        let path = directory.path + "/timerlog/00000000000000000128"
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.count == 4 * 32, "files are preallocated to entriesPerFile × 32 bytes")
        #expect(Array(bytes[32..<64]) == [
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
            0x21, 0x22, 0x23, 0x24, 0x00, 0x00, 0x00, 0x02, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
        ])
        #expect(bytes[0..<32].allSatisfy { $0 == 0 }, "slot 4 was never written")
        #expect(try log.entry(at: 4) == nil)
        #expect(try log.entry(at: 100) == nil)
    }

    @Test func reopenFindsTheEndHolesAndDeliveredMarks() throws {
        let directory = StoreTestDirectory("petrel-timerlog")
        defer { directory.remove() }
        let path = directory.path + "/timerlog"
        do {
            let log = try TimerLog(directory: path, entriesPerFile: 4)
            for index in Int64(0)..<10 where index != 6 { try log.write(Self.entry(index), at: index) }
            try log.markDelivered(2, deliveredOffset: 777)
            try log.flush()
            #expect(throws: StoreError.self) { try log.markDelivered(6, deliveredOffset: 1) }
        }
        let reopened = try TimerLog(directory: path, entriesPerFile: 4)
        #expect(reopened.endIndex == 10)
        #expect(reopened.startIndex == 0)
        #expect(try reopened.entry(at: 6) == nil, "a hole stays a hole")
        for index in Int64(0)..<10 where index != 6 && index != 2 {
            #expect(try reopened.entry(at: index) == Self.entry(index))
        }
        let delivered = try #require(try reopened.entry(at: 2))
        #expect(delivered.state == .delivered)
        #expect(delivered.deliveredOffset == 777)
        #expect(delivered.commitLogOffset == Self.entry(2).commitLogOffset)
    }

    @Test func filesWhollyBelowTheWatermarkAreDeletedNeverTheLast() throws {
        let directory = StoreTestDirectory("petrel-timerlog")
        defer { directory.remove() }
        let path = directory.path + "/timerlog"
        let log = try TimerLog(directory: path, entriesPerFile: 4)
        for index in Int64(0)..<10 { try log.write(Self.entry(index), at: index) }
        #expect(try System.listDirectory(path).count == 3)
        #expect(try log.deleteFiles(below: 7) == 1, "entries 4…7 are not all below 7")
        #expect(log.startIndex == 4)
        #expect(try log.entry(at: 3) == nil)
        #expect(try log.entry(at: 4) == Self.entry(4))
        #expect(try log.deleteFiles(below: 100) == 1, "the last file stays")
        #expect(try System.listDirectory(path) == ["00000000000000000256"])
        let reopened = try TimerLog(directory: path, entriesPerFile: 4)
        #expect(reopened.startIndex == 8)
        #expect(reopened.endIndex == 10)
    }

    @Test func truncateErasesTheTailDurably() throws {
        let directory = StoreTestDirectory("petrel-timerlog")
        defer { directory.remove() }
        let path = directory.path + "/timerlog"
        let log = try TimerLog(directory: path, entriesPerFile: 4)
        for index in Int64(0)..<10 { try log.write(Self.entry(index), at: index) }
        try log.truncate(from: 3)
        #expect(log.endIndex == 3)
        #expect(try log.entry(at: 3) == nil)
        #expect(try log.entry(at: 9) == nil)
        #expect(try log.entry(at: 2) == Self.entry(2))
        #expect(try TimerLog(directory: path, entriesPerFile: 4).endIndex == 3)
    }

    @Test func checkpointIsTwentyFourBytesAndRejectsDamage() throws {
        let directory = StoreTestDirectory("petrel-timerlog")
        defer { directory.remove() }
        let bytes = TimerCheckpoint(deliveredBelow: 0x0102_0304_0506_0708).encoded()
        #expect(bytes.count == TimerCheckpoint.size)
        #expect(TimerCheckpoint.size == 24)
        #expect(Array(bytes[0..<16]) == [0x50, 0x54, 0x4D, 0x52, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8])
        #expect(try TimerCheckpoint.decode(bytes, path: "x").deliveredBelow == 0x0102_0304_0506_0708)
        var damaged = bytes
        damaged[9] ^= 0xFF
        #expect(throws: StoreError.self) { try TimerCheckpoint.decode(damaged, path: "x") }
        #expect(throws: StoreError.self) { try TimerCheckpoint.decode(Array(bytes[0..<20]), path: "x") }
        let path = directory.path + "/checkpoint"
        #expect(try TimerCheckpoint.read(path) == nil)
        try TimerCheckpoint(deliveredBelow: 42).write(to: path)
        #expect(try TimerCheckpoint.read(path)?.deliveredBelow == 42)
    }
}
