import Foundation
import PetrelClient
import PetrelCore
import Testing

/// The broadcasting offset store keeps offsets in memory and, when given a path, in a file.
@Suite struct ConsumerOffsetStoreTests {
    /// A queue of topic `T`.
    static func queue(_ id: Int32) -> MessageQueue { MessageQueue(topic: "T", brokerName: "b", queueId: id) }

    /// Offsets only increase with `increaseOnly`, survive a reopen through the file, and a damaged
    /// file is refused with the path in the message.
    @Test func localStorePersistsAcrossReopen() async throws {
        let path = NSTemporaryDirectory() + "petrel-offsets-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try LocalOffsetStore(path: path)
        #expect(try await store.fetchStoredOffset(of: Self.queue(0)) == nil)
        store.update(Self.queue(0), offset: 10, increaseOnly: true)
        store.update(Self.queue(0), offset: 7, increaseOnly: true)
        store.update(Self.queue(1), offset: 3, increaseOnly: false)
        #expect(store.offset(of: Self.queue(0)) == 10)
        try await store.persist([Self.queue(0), Self.queue(1)])
        let reopened = try LocalOffsetStore(path: path)
        #expect(reopened.offset(of: Self.queue(0)) == nil)
        #expect(try await reopened.fetchStoredOffset(of: Self.queue(0)) == 10)
        #expect(try await reopened.fetchStoredOffset(of: Self.queue(1)) == 3)
        try Data("{\"offsetTable\":{\"x\":\"nope\"}}".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: (any Error).self) { _ = try LocalOffsetStore(path: path) }
    }

    /// Without a path the store lives in memory only.
    @Test func memoryOnlyStore() async throws {
        let store = try LocalOffsetStore(path: nil)
        store.update(Self.queue(0), offset: 5, increaseOnly: false)
        try await store.persist([Self.queue(0)])
        #expect(store.offset(of: Self.queue(0)) == 5)
        store.remove(Self.queue(0))
        #expect(store.offset(of: Self.queue(0)) == nil)
    }
}
