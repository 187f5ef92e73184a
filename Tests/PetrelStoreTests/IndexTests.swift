import Foundation
import PetrelCore
@testable import PetrelStore
import Testing

/// A fresh, existing directory under the system temporary directory, removed by `remove()`.
private struct TemporaryDirectory {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("petrel-index-tests-\(UUID().uuidString)").path

    init() { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Offsets as raw numbers, for readable expectations.
private func raw(_ offsets: [CommitLogOffset]) -> [Int64] { offsets.map(\.rawValue) }

/// Base store time of the tests, in ms.
private let baseTime: Int64 = 1_700_000_000_000

@Suite struct IndexTests {
    @Test func putAndQueryManyKeys() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let service = try IndexService(directory: directory.path, slotCount: 16, entryCount: 1000)
        for number in 0..<300 {
            let key = "Topic#key-\(number % 100)"
            try service.index(key: key, commitLogOffset: CommitLogOffset(Int64(number) * 100), storeTimestamp: baseTime + Int64(number))
        }
        for number in 0..<100 {
            let found = service.query(key: "Topic#key-\(number)", begin: 0, end: .max, limit: 32)
            let expected = [200, 100, 0].map { Int64(number + $0) * 100 }
            #expect(raw(found) == expected)
        }
        #expect(service.query(key: "Topic#absent", begin: 0, end: .max, limit: 32).isEmpty)
        #expect(service.query(key: "Other#key-1", begin: 0, end: .max, limit: 32).isEmpty)
        #expect(service.indexedUpTo == CommitLogOffset(29_900))
        #expect(service.lastUpdateTimestamp == baseTime + 299)
    }

    @Test func timeRangeFiltersAtSecondGranularity() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let service = try IndexService(directory: directory.path, slotCount: 8, entryCount: 100)
        // One record every 10 seconds, at 0.5 s past the second.
        for number in 0..<10 {
            let time = baseTime + Int64(number) * 10_000 + 500
            try service.index(key: "T#k", commitLogOffset: CommitLogOffset(Int64(number)), storeTimestamp: time)
        }
        let middle = service.query(key: "T#k", begin: baseTime + 20_000, end: baseTime + 40_999, limit: 32)
        #expect(raw(middle) == [4, 3, 2])
        // Bounds are inclusive: the exact store times select their records.
        let exact = service.query(key: "T#k", begin: baseTime + 30_500, end: baseTime + 30_500, limit: 32)
        #expect(raw(exact) == [3])
        #expect(service.query(key: "T#k", begin: baseTime + 31_500, end: baseTime + 39_999, limit: 32).isEmpty)
        #expect(service.query(key: "T#k", begin: 0, end: baseTime - 1, limit: 32).isEmpty)
        #expect(service.query(key: "T#k", begin: baseTime + 100_000, end: .max, limit: 32).isEmpty)
        #expect(service.query(key: "T#k", begin: 5, end: 4, limit: 32).isEmpty)
    }

    @Test func limitKeepsTheNewest() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let service = try IndexService(directory: directory.path, slotCount: 4, entryCount: 100)
        for number in 0..<10 {
            try service.index(key: "T#same", commitLogOffset: CommitLogOffset(Int64(number)), storeTimestamp: baseTime)
        }
        #expect(raw(service.query(key: "T#same", begin: 0, end: .max, limit: 3)) == [9, 8, 7])
        #expect(service.query(key: "T#same", begin: 0, end: .max, limit: 0).isEmpty)
        #expect(service.query(key: "T#same", begin: 0, end: .max, limit: 100).count == 10)
    }

    @Test func duplicateEntriesAreReturnedOnce() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let service = try IndexService(directory: directory.path, slotCount: 4, entryCount: 6)
        // Re-indexing the same record after recovery, across a file boundary.
        for _ in 0..<3 {
            for number in 0..<3 {
                try service.index(key: "T#again", commitLogOffset: CommitLogOffset(Int64(number)), storeTimestamp: baseTime)
            }
        }
        #expect(service.fileCount == 2)
        #expect(raw(service.query(key: "T#again", begin: 0, end: .max, limit: 32)) == [2, 1, 0])
    }

    @Test func rollsToNewFilesWhenFull() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let service = try IndexService(directory: directory.path, slotCount: 4, entryCount: 8)
        for number in 0..<30 {
            let key = number % 2 == 0 ? "T#even" : "T#odd"
            try service.index(key: key, commitLogOffset: CommitLogOffset(Int64(number)), storeTimestamp: baseTime + Int64(number) * 1000)
        }
        // 7 usable entries per file: 30 entries need 5 files.
        #expect(service.fileCount == 5)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == (0..<5).map { MappedFile.fileName(for: Int64($0)) })
        let evens = service.query(key: "T#even", begin: 0, end: .max, limit: 100)
        #expect(raw(evens) == Array(stride(from: 28, through: 0, by: -2)))
        let spanning = service.query(key: "T#odd", begin: baseTime + 5_000, end: baseTime + 17_000, limit: 100)
        #expect(raw(spanning) == [17, 15, 13, 11, 9, 7, 5])
        #expect(raw(service.query(key: "T#odd", begin: 0, end: .max, limit: 4)) == [29, 27, 25, 23])
        #expect(service.indexedUpTo == CommitLogOffset(29))
    }

    @Test func reopenReturnsTheSameResults() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var service = try IndexService(directory: directory.path, slotCount: 4, entryCount: 8)
        #expect(service.indexedUpTo == .zero)
        for number in 0..<20 {
            let offset = CommitLogOffset(Int64(number) * 50)
            try service.index(key: "T#k\(number % 3)", commitLogOffset: offset, storeTimestamp: baseTime + Int64(number) * 1000)
        }
        #expect(service.fileCount == 3)
        let before = (0..<3).map { service.query(key: "T#k\($0)", begin: 0, end: .max, limit: 32) }
        let indexedBefore = service.indexedUpTo
        try service.flush()
        service.close()
        #expect(service.query(key: "T#k0", begin: 0, end: .max, limit: 32).isEmpty)
        #expect(throws: StoreError.self) {
            try service.index(key: "T#k0", commitLogOffset: CommitLogOffset(5000), storeTimestamp: baseTime)
        }

        service = try IndexService(directory: directory.path, slotCount: 4, entryCount: 8)
        #expect(service.fileCount == 3)
        #expect(service.indexedUpTo == indexedBefore)
        #expect(indexedBefore == CommitLogOffset(950))
        #expect((0..<3).map { service.query(key: "T#k\($0)", begin: 0, end: .max, limit: 32) } == before)
        // Indexing continues in the newest file.
        try service.index(key: "T#k0", commitLogOffset: CommitLogOffset(1000), storeTimestamp: baseTime + 20_000)
        #expect(service.query(key: "T#k0", begin: 0, end: .max, limit: 1) == [CommitLogOffset(1000)])
        #expect(service.fileCount == 3)
        service.close()
    }

    @Test func collidingKeysAreBothCandidatesAndSlotSharersAreNot() throws {
        #expect(TagHash.javaStringHashCode("T#Aa") == TagHash.javaStringHashCode("T#BB"))
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let service = try IndexService(directory: directory.path, slotCount: 4, entryCount: 100)
        try service.index(key: "T#Aa", commitLogOffset: CommitLogOffset(10), storeTimestamp: baseTime)
        try service.index(key: "T#BB", commitLogOffset: CommitLogOffset(20), storeTimestamp: baseTime)
        #expect(raw(service.query(key: "T#Aa", begin: 0, end: .max, limit: 32)) == [20, 10])
        #expect(raw(service.query(key: "T#BB", begin: 0, end: .max, limit: 32)) == [20, 10])

        // Two keys with different hashes in the same slot of 4.
        let first = "T#slot-0"
        let firstHash = IndexFile.keyHash(of: first)
        let second = try #require((1..<100).map { "T#slot-\($0)" }.first { key in
            let hash = IndexFile.keyHash(of: key)
            return hash != firstHash && hash % 4 == firstHash % 4
        })
        try service.index(key: first, commitLogOffset: CommitLogOffset(30), storeTimestamp: baseTime)
        try service.index(key: second, commitLogOffset: CommitLogOffset(40), storeTimestamp: baseTime)
        #expect(raw(service.query(key: first, begin: 0, end: .max, limit: 32)) == [30])
        #expect(raw(service.query(key: second, begin: 0, end: .max, limit: 32)) == [40])
    }

    @Test func keyHashMapsMinimumToZero() {
        #expect(IndexFile.keyHash(of: "Aa") == 2112)
        #expect(IndexFile.keyHash(of: "polygenelubricants") == 0)  // Java hashCode is Int32.min
        #expect(IndexFile.keyHash(of: "T#key") == abs(TagHash.javaStringHashCode("T#key")))
    }

    @Test func deleteFilesKeepsTheNewest() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let service = try IndexService(directory: directory.path, slotCount: 4, entryCount: 8)
        for number in 0..<21 {
            try service.index(key: "T#k", commitLogOffset: CommitLogOffset(Int64(number)), storeTimestamp: baseTime)
        }
        #expect(service.fileCount == 3)
        // Only the first file ends (at 6) below 7.
        #expect(try service.deleteFiles(endingBelow: CommitLogOffset(7)) == 1)
        #expect(service.fileCount == 2)
        #expect(try service.deleteFiles(endingBelow: CommitLogOffset(Int64.max)) == 1)
        #expect(service.fileCount == 1)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(names == [MappedFile.fileName(for: 2)])
        #expect(raw(service.query(key: "T#k", begin: 0, end: .max, limit: 100)) == Array((14...20).reversed()))
        #expect(service.indexedUpTo == CommitLogOffset(20))
        try service.index(key: "T#k", commitLogOffset: CommitLogOffset(21), storeTimestamp: baseTime)
        #expect(service.fileCount == 2)
    }

    @Test func differentSlotCountIsCorruptMetadata() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let service = try IndexService(directory: directory.path, slotCount: 4, entryCount: 8)
        try service.index(key: "T#k", commitLogOffset: CommitLogOffset(1), storeTimestamp: baseTime)
        service.close()
        do throws(StoreError) {
            _ = try IndexService(directory: directory.path, slotCount: 5, entryCount: 8)
            Issue.record("opening with another slot count succeeded")
        } catch {
            #expect(error.code == .corruptMetadata)
            #expect(error.path?.hasSuffix(MappedFile.fileName(for: 0)) == true)
        }
    }

    @Test func corruptChainDoesNotHang() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = try IndexFile(directory: directory.path, sequence: 0, slotCount: 4, entryCount: 16)
        for number in 1...3 {
            #expect(file.put(key: "T#k", commitLogOffset: CommitLogOffset(Int64(number)), storeTimestamp: baseTime))
        }
        let entriesStart = IndexFile.headerSize + 4 * IndexFile.slotSize
        let writer = RawWriter(base: file.mappedFile.base)
        // Entry 1 links forward to entry 3, closing the loop 3 → 2 → 1 → 3.
        writer.put(Int32(3), at: entriesStart + 1 * IndexFile.entrySize + 16)
        var results: [CommitLogOffset] = []
        file.lookup(key: "T#k", begin: 0, end: .max, limit: 100, into: &results)
        #expect(raw(results) == [3, 2, 1])
        // Entry 3 links to itself.
        writer.put(Int32(3), at: entriesStart + 3 * IndexFile.entrySize + 16)
        results = []
        file.lookup(key: "T#k", begin: 0, end: .max, limit: 100, into: &results)
        #expect(raw(results) == [3])
        // A slot pointing past the written entries is ignored.
        let slot = IndexFile.headerSize + Int(IndexFile.keyHash(of: "T#k")) % 4 * IndexFile.slotSize
        writer.put(Int32(1000), at: slot)
        results = []
        file.lookup(key: "T#k", begin: 0, end: .max, limit: 100, into: &results)
        #expect(results.isEmpty)
    }

    @Test func fileSizeMatchesTheLayout() throws {
        #expect(IndexFile.fileSize(slotCount: IndexFile.defaultSlotCount, entryCount: IndexFile.defaultEntryCount) == 420_000_040)
        #expect(IndexFile.fileSize(slotCount: 5_000_000, entryCount: 20_000_000) == 40 + 5_000_000 * 4 + 20_000_000 * 20)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = try IndexFile(directory: directory.path, sequence: 7, slotCount: 10, entryCount: 30)
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.size] as? NSNumber)?.intValue == 40 + 10 * 4 + 30 * 20)
        #expect(file.path.hasSuffix("/00000000000000000007"))
    }

    @Test func fileHeaderAndFullness() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = try IndexFile(directory: directory.path, sequence: 0, slotCount: 2, entryCount: 4)
        #expect(!file.isFull && file.endCommitLogOffset == .zero && file.hasUnflushedChanges)
        #expect(file.put(key: "T#a", commitLogOffset: CommitLogOffset(100), storeTimestamp: baseTime))
        #expect(file.put(key: "T#b", commitLogOffset: CommitLogOffset(200), storeTimestamp: baseTime + 5_000))
        #expect(file.put(key: "T#c", commitLogOffset: CommitLogOffset(300), storeTimestamp: baseTime + 9_000))
        #expect(file.isFull)
        #expect(!file.put(key: "T#d", commitLogOffset: CommitLogOffset(400), storeTimestamp: baseTime + 9_000))
        #expect(file.beginTimestamp == baseTime && file.endTimestamp == baseTime + 9_000)
        #expect(file.beginCommitLogOffset == CommitLogOffset(100) && file.endCommitLogOffset == CommitLogOffset(300))
        #expect(file.storedEntryCount == 3)
        try file.flush()
        #expect(!file.hasUnflushedChanges)
        let header = file.mappedFile.bytes(from: 0, to: IndexFile.headerSize)
        let reader = RawReader(bytes: header)
        #expect(try reader.int64(at: 0) == baseTime)
        #expect(try reader.int64(at: 8) == baseTime + 9_000)
        #expect(try reader.int64(at: 16) == 100)
        #expect(try reader.int64(at: 24) == 300)
        #expect(try reader.int32(at: 32) == 2)
        #expect(try reader.int32(at: 36) == 4)
        let entriesStart = IndexFile.headerSize + 2 * IndexFile.slotSize
        let second = RawReader(bytes: file.mappedFile.bytes(from: entriesStart + 2 * 20, to: entriesStart + 3 * 20))
        #expect(try second.int32(at: 0) == IndexFile.keyHash(of: "T#b"))
        #expect(try second.int64(at: 4) == 200)
        #expect(try second.int32(at: 12) == 5)
    }

    @Test func flushTracksChangedFiles() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let service = try IndexService(directory: directory.path, slotCount: 4, entryCount: 8)
        try service.flush()
        try service.index(key: "T#k", commitLogOffset: CommitLogOffset(1), storeTimestamp: baseTime)
        let file = try #require(service.indexFiles.last)
        #expect(file.hasUnflushedChanges)
        try service.flush()
        #expect(!file.hasUnflushedChanges)
    }

    @Test func lookupsRunConcurrentlyWithIndexing() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let service = try IndexService(directory: directory.path, slotCount: 16, entryCount: 64)
        let count = 2_000
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for number in 0..<count {
                    try? service.index(key: "T#k\(number % 7)", commitLogOffset: CommitLogOffset(Int64(number)), storeTimestamp: baseTime)
                }
            }
            group.addTask {
                for round in 0..<500 {
                    let found = service.query(key: "T#k\(round % 7)", begin: 0, end: .max, limit: 50)
                    #expect(found.allSatisfy { $0.rawValue % 7 == Int64(round % 7) })
                    #expect(found == found.sorted(by: >))
                }
            }
        }
        #expect(service.query(key: "T#k3", begin: 0, end: .max, limit: 10_000).count == (count - 3 + 6) / 7)
    }
}
