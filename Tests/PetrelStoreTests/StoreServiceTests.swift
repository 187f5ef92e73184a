import Logging
import PetrelCore
@testable import PetrelStore
import ServiceLifecycle
import Testing

/// The store's services under a ServiceGroup: graceful shutdown closes the store cleanly.
@Suite struct StoreServiceTests {
    @Test func gracefulShutdownClosesTheStoreAndTheNextOpenIsClean() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        var configuration = StoreFixtures.configuration(directory.path)
        configuration.cleanInterval = .milliseconds(20)
        let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        #expect(System.exists(directory.path + "/abort"))
        let group = ServiceGroup(
            services: [MessageStoreService(store: store), CleanService(store: store)],
            gracefulShutdownSignals: [], cancellationSignals: [], logger: StoreFixtures.logger)
        async let running: Void = group.run()
        let result = await store.put(StoreFixtures.message(body: "kept"))
        #expect(result.status == .ok)
        await group.triggerGracefulShutdown()
        try await running
        #expect(store.isClosed)
        #expect(!System.exists(directory.path + "/abort"))
        #expect(await store.put(StoreFixtures.message(body: "late")).status == .serviceNotAvailable)
        let reopened = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        #expect(reopened.recoveryReport.crashed == false)
        #expect(try reopened.message(at: #require(result.appended).firstOffset).message.body.readableBytes == 4)
        try reopened.close()
    }
}
