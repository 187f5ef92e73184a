import Foundation
import Logging
import NIOCore
import PetrelCore
@testable import PetrelStore

/// A fresh directory under the system temp dir, removed by `remove()`.
struct StoreTestDirectory {
    /// The directory's path.
    let path: String

    /// Creates a unique directory.
    init(_ label: String = "petrel-store") {
        path = FileManager.default.temporaryDirectory.path + "/\(label)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Deletes the directory and everything in it.
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Builders shared by the store tests.
enum StoreFixtures {
    /// A small-segment configuration so rolling happens after a few messages.
    static func configuration(_ root: String, segmentSize: Int = 64 * 1024, flushMode: FlushMode = .async) -> StoreConfiguration {
        var configuration = StoreConfiguration(rootDirectory: root)
        configuration.commitLogSegmentSize = segmentSize
        configuration.consumeQueueUnitsPerFile = 64
        configuration.indexSlotCount = 64
        configuration.indexEntryCount = 256
        configuration.flushMode = flushMode
        configuration.asyncFlushInterval = .milliseconds(20)
        configuration.checkpointInterval = .milliseconds(50)
        configuration.maximumMessageSize = 16 * 1024
        configuration.storeHost = MessageHost(ipv4: "10.0.0.1", port: 10911)!
        return configuration
    }

    /// A message with a body, tag and keys.
    static func message(topic: String = "TopicTest", queueId: Int32 = 0, body: String, tags: String? = nil,
                        keys: [String] = [], unique: String? = nil) -> StoredMessage {
        var properties = MessageProperties()
        if let tags { properties[PropertyKey.tags] = tags }
        if !keys.isEmpty { properties[PropertyKey.keys] = keys.joined(separator: " ") }
        if let unique { properties[PropertyKey.uniqueKey] = unique }
        return StoredMessage(
            message: Message(topic: topic, properties: properties, body: ByteBuffer(string: body)),
            queueId: queueId, bornTimestamp: 1_700_000_000_000, bornHost: MessageHost(ipv4: "10.0.0.7", port: 50000)!)
    }

    /// A logger that prints nothing below warning.
    static var logger: Logger {
        var logger = Logger(label: "petrel.store.test")
        logger.logLevel = .warning
        return logger
    }

    /// Waits until `condition` holds, polling, for at most `seconds`; returns whether it held.
    static func eventually(seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }
}
