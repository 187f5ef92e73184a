import NIOCore
import PetrelCore
@testable import PetrelStore
import Testing

@Suite struct SmokeTests {
    @Test func putGetRestart() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let configuration = StoreFixtures.configuration(directory.path)
        var store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        for index in 0..<500 {
            let result = await store.put(StoreFixtures.message(queueId: Int32(index % 2), body: "body-\(index)", tags: index % 3 == 0 ? "TagA" : "TagB", keys: ["k\(index)"]))
            #expect(result.status == .ok)
        }
        #expect(await StoreFixtures.eventually { store.maximumOffset(topic: "TopicTest", queueId: 0).rawValue == 250 })
        let got = store.getMessages(topic: "TopicTest", queueId: 0, offset: .zero, maximumCount: 32)
        #expect(got.status == .found)
        #expect(got.records.count == 32)
        let first = try got.records[0].decode()
        #expect(String(buffer: first.message.body) == "body-0")
        let found = store.queryMessages(topic: "TopicTest", key: "k7", begin: 0, end: Int64.max, limit: 10)
        #expect(found.count == 1)
        try store.close()
        store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        #expect(store.recoveryReport.crashed == false)
        #expect(store.maximumOffset(topic: "TopicTest", queueId: 1).rawValue == 250)
        let again = await store.put(StoreFixtures.message(queueId: 1, body: "after"))
        #expect(again.appended?.firstQueueOffset.rawValue == 250)
        try store.close()
    }
}
