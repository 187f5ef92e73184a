import Foundation
import NIOCore
import PetrelCore
import PetrelStore
import Testing

@testable import PetrelBroker

/// A retirement pass and a re-store of a body naming the dictionary it deletes, in both orders (the
/// two run under one lock, so these are the only interleavings): the copy never ends up naming a
/// dictionary the broker has deleted.
@Suite struct CompressionRetirementRaceTests {
    /// Dictionaries 1 and 2 of topic T (2 current) under `directory`, and dictionary 1 deleted by
    /// three passes (settling, retired after 100, deleted once the log starts past 100).
    static func deletedDictionary(_ directory: BrokerTestDirectory) throws -> (StoreBodyCompression, CompressionDictionary) {
        let first = CompressionDictionary(id: 1, topic: "T", bytes: Array(repeating: 1, count: 64))
        try CompressionDictionaryFile.write(first, storeRoot: directory.path)
        try CompressionDictionaryFile.write(CompressionDictionary(id: 2, topic: "T", bytes: Array(repeating: 2, count: 64)), storeRoot: directory.path)
        let compression = try StoreBodyCompression(
            configuration: CompressionConfiguration(), compressor: nil, storeRoot: directory.path, logger: HandlerFixture.logger)
        #expect(compression.retireDictionaries(minimumOffset: 0, maximumOffset: 100).isEmpty)
        #expect(compression.retireDictionaries(minimumOffset: 0, maximumOffset: 100).isEmpty)
        #expect(compression.retireDictionaries(minimumOffset: 101, maximumOffset: 200) == [1])
        #expect(compression.dictionary(1) == nil)
        #expect(!System.exists(CompressionDictionaryFile.path(storeRoot: directory.path, id: 1)))
        return (compression, first)
    }

    @Test func aCopyReStoredRightAfterThePassDeletedItsDictionaryBringsTheDictionaryBack() throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        let (compression, first) = try Self.deletedDictionary(directory)
        try compression.noteRestored([CompressionRetiredFileTests.restored(dictionary: 1)])
        #expect(compression.dictionary(1) == first)
        let path = CompressionDictionaryFile.path(storeRoot: directory.path, id: 1)
        #expect(try CompressionDictionaryFile.decode(try #require(try AtomicFile.read(path)), path: path) == first)
        #expect(compression.state.withLock { $0.retirement[1] } == nil, "back in use")
        // It starts over: settling, retired after the copy, deleted only once the log passes that.
        #expect(compression.retireDictionaries(minimumOffset: 1000, maximumOffset: 300).isEmpty)
        #expect(compression.retireDictionaries(minimumOffset: 250, maximumOffset: 300).isEmpty)
        #expect(try StoreBodyCompression.readRetired(storeRoot: directory.path) == [1: 300])
        #expect(compression.retireDictionaries(minimumOffset: 301, maximumOffset: 400) == [1])
    }

    @Test func aDictionaryPutBackInUseBeforeThePassIsNotDeleted() throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        let (compression, _) = try Self.deletedDictionary(directory)
        try compression.noteRestored([CompressionRetiredFileTests.restored(dictionary: 1)])
        // Retired again after 500, then a re-store lands before the pass that would delete it.
        #expect(compression.retireDictionaries(minimumOffset: 0, maximumOffset: 500).isEmpty)
        #expect(compression.retireDictionaries(minimumOffset: 0, maximumOffset: 500).isEmpty)
        try compression.noteRestored([CompressionRetiredFileTests.restored(dictionary: 1)])
        #expect(compression.retireDictionaries(minimumOffset: 10_000, maximumOffset: 600).isEmpty)
        #expect(compression.dictionary(1) != nil)
        #expect(System.exists(CompressionDictionaryFile.path(storeRoot: directory.path, id: 1)))
    }

    @Test func aDictionaryThatCannotBeWrittenBackRefusesTheCopyAndOneGoneLongerIsLeftAlone() throws {
        let directory = BrokerTestDirectory()
        defer { directory.remove() }
        let (compression, _) = try Self.deletedDictionary(directory)
        // The dictionaries directory replaced by a file: the write-back fails.
        let dictionaries = CompressionDictionaryFile.directory(storeRoot: directory.path)
        try FileManager.default.moveItem(atPath: dictionaries, toPath: dictionaries + ".away")
        #expect(FileManager.default.createFile(atPath: dictionaries, contents: Data([1])))
        let refused = #expect(throws: BrokerError.self) {
            try compression.noteRestored([CompressionRetiredFileTests.restored(dictionary: 1)])
        }
        #expect(refused?.code == .compressionFailure && refused?.message.contains("dictionary 1") == true, "\(refused?.message ?? "")")
        #expect(compression.dictionary(1) == nil)
        try FileManager.default.removeItem(atPath: dictionaries)
        try FileManager.default.moveItem(atPath: dictionaries + ".away", toPath: dictionaries)

        // After one more pass it is gone for good; a copy naming it is already undecodable and is
        // not refused (Petrel's client moves such bodies to the dead-letter topic).
        compression.retireDictionaries(minimumOffset: 1000, maximumOffset: 1000)
        try compression.noteRestored([CompressionRetiredFileTests.restored(dictionary: 1)])
        #expect(compression.dictionary(1) == nil)
        #expect(!System.exists(CompressionDictionaryFile.path(storeRoot: directory.path, id: 1)))
    }
}
