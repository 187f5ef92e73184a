import PetrelCore
import Synchronization

/// Every consume queue of the store, by topic and queue id, loaded from
/// `<root>/consumequeue/<topic>/<queueId>/` at open and created on first dispatch.
final class ConsumeQueueTable: @unchecked Sendable {
    /// `<root>/consumequeue`.
    let directory: String
    /// Units per file.
    let unitsPerFile: Int
    /// The queues.
    private let queues = Mutex<[QueueKey: ConsumeQueue]>([:])

    /// Loads every queue found on disk.
    init(directory: String, unitsPerFile: Int) throws(StoreError) {
        self.directory = directory
        self.unitsPerFile = unitsPerFile
        try System.makeDirectories(directory)
        var loaded: [QueueKey: ConsumeQueue] = [:]
        for topic in try System.listDirectory(directory) where System.isDirectory(directory + "/" + topic) {
            for queueName in try System.listDirectory(directory + "/" + topic) {
                guard let queueId = Int32(queueName) else { continue }
                let key = QueueKey(topic: topic, queueId: queueId)
                loaded[key] = try ConsumeQueue(root: directory, key: key, unitsPerFile: unitsPerFile)
            }
        }
        queues.withLock { $0 = loaded }
    }

    /// The queue for `key`, if it exists.
    func queue(_ key: QueueKey) -> ConsumeQueue? { queues.withLock { $0[key] } }

    /// The queue for `key`, created when missing.
    func queueCreating(_ key: QueueKey) throws(StoreError) -> ConsumeQueue {
        if let existing = queue(key) { return existing }
        let created = try ConsumeQueue(root: directory, key: key, unitsPerFile: unitsPerFile)
        return queues.withLock { table in
            if let raced = table[key] { return raced }
            table[key] = created
            return created
        }
    }

    /// Every queue.
    var all: [ConsumeQueue] { queues.withLock { Array($0.values) } }

    /// Next queue offset of every queue, for the commit log's offset table.
    var maximumOffsets: [QueueKey: Int64] {
        queues.withLock { table in table.mapValues { $0.maximumOffset } }
    }

    /// Queue ids present for a topic.
    func queueIds(topic: String) -> [Int32] {
        queues.withLock { table in table.keys.filter { $0.topic == topic }.map(\.queueId).sorted() }
    }
}
