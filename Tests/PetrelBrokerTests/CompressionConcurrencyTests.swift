import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Testing

@testable import PetrelBroker

/// Dictionary training and switching while sends compress concurrently.
@Suite struct CompressionConcurrencyTests {
    @Test func concurrentSendsAcrossRetrainsAndRetirementPassesAllDecompress() async throws {
        let fixture = try await HandlerFixture { configuration in
            CompressionDictionaryTests.configure(&configuration)
            configuration.compression.dictionaryRetrainMessages = 10
        }
        defer { fixture.directory.remove() }
        _ = await fixture.handle(CompressionFixtures.updateTopic("Busy", attributes: "+compression.type=zstd"))
        let senders = 8
        let perRound = 30
        let rounds = 3
        var seen: Set<UInt32> = []
        for round in 0..<rounds {
            await withTaskGroup(of: Void.self) { sends in
                for sender in 0..<senders {
                    sends.addTask {
                        for index in 0..<perRound {
                            let body = CompressionFixtures.event(sender * 1000 + round * perRound + index)
                            let response = await fixture.handle(Requests.send(topic: "Busy", body: body))
                            #expect(response.responseCode == .success, "\(response.remark ?? "")")
                            // Retirement passes run alongside the other senders (nothing is below the
                            // minimum offset, so superseded dictionaries only change state).
                            if index % 5 == 0 {
                                let store = fixture.handler.store
                                fixture.handler.compression.retireDictionaries(
                                    minimumOffset: store.minimumCommitLogOffset.rawValue, maximumOffset: store.maximumCommitLogOffset.rawValue)
                            }
                        }
                    }
                }
            }
            // Each round samples enough to train a (new) dictionary: wait for it so the next round
            // compresses with it while it retrains again.
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                if let current = fixture.handler.compression.currentDictionary(topic: "Busy")?.id, !seen.contains(current) {
                    seen.insert(current)
                    break
                }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        let perSender = rounds * perRound
        let expected = (0..<senders).flatMap { sender in (0..<perSender).map { CompressionFixtures.event(sender * 1000 + $0) } }
        await fixture.waitForQueue("Busy", count: Int64(expected.count))
        let stored = try await CompressionFixtures.pullAll(fixture, "Busy", acceptsZstd: true)
        let dictionaryIds = Set(stored.compactMap { message -> UInt32? in
            guard message.sysFlag.compression == .zstd else { return nil }
            return message.message.body.withUnsafeReadableBytes { try? CompressedBodyEnvelope(parsing: $0) }?.dictionaryId
        })
        #expect(dictionaryIds.subtracting([0]).count >= 2, "several dictionaries were in use: \(dictionaryIds.sorted())")
        let plain = try await CompressionFixtures.pullAll(fixture, "Busy", acceptsZstd: false)
        #expect(plain.map { String(buffer: $0.message.body) }.sorted() == expected.sorted())
        try await fixture.close()
    }
}
