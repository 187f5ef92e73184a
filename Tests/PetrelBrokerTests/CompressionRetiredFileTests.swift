import Foundation
import NIOCore
import PetrelCore
import Testing

@testable import PetrelBroker

/// The persisted retired-dictionary offsets under concurrent retirement passes and re-stores.
@Suite struct CompressionRetiredFileTests {
    /// A zstd body re-stored unchanged that references dictionary `id`.
    static func restored(dictionary id: UInt32) -> StoredMessage {
        let body = CompressedBodyEnvelope(originalLength: 10, dictionaryId: id).bytes + [0, 0]
        var message = StoredMessage(message: Message(topic: "T", body: ByteBuffer(bytes: body)))
        message.sysFlag.compression = .zstd
        return message
    }

    @Test func theRetiredFileEndsAsTheStateAfterConcurrentPassesAndReStores() async throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        // Dictionaries 1-4 of one topic: 4 is current, 1-3 superseded.
        for id in UInt32(1)...4 {
            try CompressionDictionaryFile.write(CompressionDictionary(id: id, topic: "T", bytes: Array(repeating: UInt8(id), count: 64)), storeRoot: directory.path)
        }
        let compression = try StoreBodyCompression(
            configuration: CompressionConfiguration(), compressor: nil, storeRoot: directory.path, logger: HandlerFixture.logger)
        compression.retireDictionaries(minimumOffset: 0, maximumOffset: 100)
        compression.retireDictionaries(minimumOffset: 0, maximumOffset: 100)
        #expect(compression.state.withLock { $0.retiredOffsets } == [1: 100, 2: 100, 3: 100])
        // Re-stores put dictionaries back in use while passes retire them again at growing offsets:
        // each writes the file; whatever the interleaving, the last write must match the state.
        // The writers fsync, so they run on threads of their own: on the cooperative pool (one
        // thread per core) they would stall every other test of the process meanwhile.
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                DispatchQueue.concurrentPerform(iterations: 5) { worker in
                    if worker == 4 {
                        for pass in 0..<150 { compression.retireDictionaries(minimumOffset: 0, maximumOffset: Int64(200 + pass)) }
                    } else {
                        for round in 0..<75 { try? compression.noteRestored([Self.restored(dictionary: UInt32(1 + (worker + round) % 3))]) }
                    }
                }
                finished.resume()
            }
        }
        let inMemory = compression.state.withLock { $0.retiredOffsets }
        let onDisk = try StoreBodyCompression.readRetired(storeRoot: directory.path)
        #expect(onDisk == inMemory, "a stale snapshot must not land after a newer one")
    }
}
