import Foundation
import NIOConcurrencyHelpers
import PetrelCore
import PetrelRemoting

/// Sends one request to the master of a broker by name; what offset stores and rebalancing need
/// from the client instance, kept this narrow so they can be tested against a real broker alone.
public typealias BrokerInvoker = @Sendable (_ brokerName: String, _ request: RemotingCommand) async throws -> RemotingCommand

/// Where a consumer group's progress is kept: the next offset to consume per queue.
public protocol ConsumerOffsetStore: Sendable {
    /// The offset in memory for `queue`, nil when none is known yet.
    func offset(of queue: MessageQueue) -> Int64?
    /// Reads `queue`'s stored offset (from the broker or the local file) into memory; nil when none is stored.
    func fetchStoredOffset(of queue: MessageQueue) async throws -> Int64?
    /// Records `offset` in memory; with `increaseOnly` a lower value than the current one is ignored
    /// (a late concurrent delivery must not move progress back).
    func update(_ queue: MessageQueue, offset: Int64, increaseOnly: Bool)
    /// Writes the in-memory offsets of `queues` to where they are kept.
    func persist(_ queues: [MessageQueue]) async throws
    /// Forgets `queue` (it is no longer assigned).
    func remove(_ queue: MessageQueue)
}

/// The in-memory offset table both stores share.
final class OffsetTable: Sendable {
    /// Offsets by queue.
    private let table = NIOLockedValueBox<[MessageQueue: Int64]>([:])

    /// The offset of `queue`.
    func offset(of queue: MessageQueue) -> Int64? { table.withLockedValue { $0[queue] } }

    /// Sets the offset of `queue`, or raises it only, with `increaseOnly`.
    func update(_ queue: MessageQueue, offset: Int64, increaseOnly: Bool) {
        table.withLockedValue { table in
            if increaseOnly, let current = table[queue], current >= offset { return }
            table[queue] = offset
        }
    }

    /// Forgets `queue`.
    func remove(_ queue: MessageQueue) { _ = table.withLockedValue { $0.removeValue(forKey: queue) } }

    /// A copy of the table.
    var snapshot: [MessageQueue: Int64] { table.withLockedValue { $0 } }
}

/// Clustering mode: offsets live on the broker of each queue (QUERY_CONSUMER_OFFSET 14,
/// UPDATE_CONSUMER_OFFSET 15, spec §13).
public final class RemoteOffsetStore: ConsumerOffsetStore {
    /// The consumer group.
    public let group: String
    /// Reaches brokers.
    private let invoker: BrokerInvoker
    /// Offsets in memory.
    private let table = OffsetTable()

    /// A store for `group` that reaches brokers through `invoker`.
    public init(group: String, invoker: @escaping BrokerInvoker) {
        self.group = group
        self.invoker = invoker
    }

    /// The offset in memory.
    public func offset(of queue: MessageQueue) -> Int64? { table.offset(of: queue) }

    /// QUERY_CONSUMER_OFFSET; QUERY_NOT_FOUND (22) means the group has no offset for the queue.
    public func fetchStoredOffset(of queue: MessageQueue) async throws -> Int64? {
        let request = RemotingCommand.request(
            code: .queryConsumerOffset,
            extFields: ["consumerGroup": group, "topic": queue.topic, "queueId": String(queue.queueId)])
        let response = try await invoker(queue.brokerName, request)
        switch response.responseCode {
        case .success:
            let offset = try response.int64("offset")
            table.update(queue, offset: offset, increaseOnly: false)
            return offset
        case .queryNotFound:
            return nil
        default:
            throw ClientError.response(response, doing: "QUERY_CONSUMER_OFFSET for \(queue)", address: nil)
        }
    }

    /// Records `offset` in memory.
    public func update(_ queue: MessageQueue, offset: Int64, increaseOnly: Bool) {
        table.update(queue, offset: offset, increaseOnly: increaseOnly)
    }

    /// UPDATE_CONSUMER_OFFSET for each of `queues` with a known offset; every queue is tried, and the
    /// first failure is rethrown after the rest were sent.
    public func persist(_ queues: [MessageQueue]) async throws {
        let snapshot = table.snapshot
        var firstFailure: (any Error)?
        for queue in queues {
            guard let offset = snapshot[queue] else { continue }
            let request = RemotingCommand.request(
                code: .updateConsumerOffset,
                extFields: [
                    "consumerGroup": group, "topic": queue.topic, "queueId": String(queue.queueId),
                    "commitOffset": String(offset),
                ])
            do {
                let response = try await invoker(queue.brokerName, request)
                if response.responseCode != .success {
                    throw ClientError.response(response, doing: "UPDATE_CONSUMER_OFFSET for \(queue)", address: nil)
                }
            } catch {
                if firstFailure == nil { firstFailure = error }
            }
        }
        if let firstFailure { throw firstFailure }
    }

    /// Forgets `queue`.
    public func remove(_ queue: MessageQueue) { table.remove(queue) }
}

/// Broadcasting mode: every client keeps its own offsets, in memory or in a JSON file at a path
/// the application chose: `{"offsetTable":{"topic@broker#queueId":offset,…}}`.
public final class LocalOffsetStore: ConsumerOffsetStore {
    /// The file, nil for memory only.
    public let path: String?
    /// Offsets in memory.
    private let table = OffsetTable()
    /// The file's content as last read, by queue description.
    private let fileOffsets = NIOLockedValueBox<[String: Int64]>([:])

    /// A store kept in memory and, when `path` is given, in that file (read now if it exists).
    public init(path: String?) throws {
        self.path = path
        guard let path, FileManager.default.fileExists(atPath: path) else { return }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let json = try JSONValue.parse(Array(data))
        let reader = try JSONObjectReader(json, context: "local offset file")
        var offsets: [String: Int64] = [:]
        for (key, value) in try reader.stringMap("offsetTable") ?? [:] {
            guard let offset = Int64(value) else { throw ClientError(.invalidConfiguration, "offset file \(path): '\(key)' has no integer offset") }
            offsets[key] = offset
        }
        fileOffsets.withLockedValue { $0 = offsets }
    }

    /// The offset in memory.
    public func offset(of queue: MessageQueue) -> Int64? { table.offset(of: queue) }

    /// The offset the file held for `queue` when the store was created.
    public func fetchStoredOffset(of queue: MessageQueue) async throws -> Int64? {
        guard let offset = fileOffsets.withLockedValue({ $0[queue.description] }) else { return nil }
        table.update(queue, offset: offset, increaseOnly: false)
        return offset
    }

    /// Records `offset` in memory.
    public func update(_ queue: MessageQueue, offset: Int64, increaseOnly: Bool) {
        table.update(queue, offset: offset, increaseOnly: increaseOnly)
    }

    /// Rewrites the file (atomically: a temporary file renamed over it) with every known offset.
    public func persist(_ queues: [MessageQueue]) async throws {
        guard let path else { return }
        let merged = fileOffsets.withLockedValue { offsets in
            for (queue, offset) in table.snapshot { offsets[queue.description] = offset }
            return offsets
        }
        let json = JSONValue.object(["offsetTable": .object(merged.mapValues { .integer($0) })])
        try Data(json.serialized()).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Forgets `queue` in memory (its last offset stays in the file).
    public func remove(_ queue: MessageQueue) { table.remove(queue) }
}
