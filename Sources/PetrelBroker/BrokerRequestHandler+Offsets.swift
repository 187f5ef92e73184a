import Foundation
import PetrelCore
import PetrelRemoting
import PetrelStore

/// Consumer offsets and queue bounds: QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15),
/// SEARCH_OFFSET_BY_TIMESTAMP (29), GET_MAX_OFFSET (30), GET_MIN_OFFSET (31),
/// GET_EARLIEST_MSG_STORETIME (32), spec §13.
extension BrokerRequestHandler {
    /// Share of physical memory Java assumes holds the newest part of the commit log
    /// (`accessMessageInMemoryMaxRatio`, 40 %).
    static let inMemoryRatio = 0.4

    /// The committed offset; for a group that never committed one, 0 when the queue still starts at
    /// 0 and its first message is recent enough to be in memory (a new group then reads everything a
    /// young queue holds, as Java decides), else QUERY_NOT_FOUND.
    func queryConsumerOffset(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        let fields = RequestFields(command: request)
        let group = try fields.string("consumerGroup")
        let topic = try fields.string("topic")
        let queueId = try fields.int32("queueId")
        if let offset = offsets.offset(group: group, topic: topic, queueId: queueId), offset >= 0 {
            return request.response(extFields: ["offset": String(offset)])
        }
        if store.minimumOffset(topic: topic, queueId: queueId).rawValue <= 0, !firstMessageIsOnDisk(topic: topic, queueId: queueId) {
            return request.response(extFields: ["offset": "0"])
        }
        throw RequestFailure(.queryNotFound, "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first")
    }

    /// Java's `checkInDiskByConsumeOffset(topic, queueId, 0)`: whether the queue's message 0 lies more
    /// than 40 % of physical memory behind the end of the commit log. False when there is no message 0.
    func firstMessageIsOnDisk(topic: String, queueId: Int32) -> Bool {
        let first = store.getMessages(topic: topic, queueId: queueId, offset: .zero, maximumCount: 1, maximumBytes: 1)
        guard let record = first.records.first else { return false }
        let behind = store.maximumCommitLogOffset.rawValue - record.commitLogOffset.rawValue
        return Double(behind) > Double(ProcessInfo.processInfo.physicalMemory) * Self.inMemoryRatio
    }

    /// Stores a committed offset.
    func updateConsumerOffset(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        let fields = RequestFields(command: request)
        let group = try fields.string("consumerGroup")
        let topic = try fields.string("topic")
        let queueId = try fields.int32("queueId")
        let offset = try fields.int64("commitOffset")
        offsets.commit(group: group, topic: topic, queueId: queueId, offset: offset)
        return request.response()
    }

    /// The next offset to be written in the queue, plus the topic's body byte counters
    /// (`bodyBytesReceived`, `bodyBytesStored`) and how often pulls skipped an undecodable body
    /// (`undecodableBodies`) for petrel-admin topicStatus.
    func maximumOffset(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        let (topic, queueId) = try queueFields(request)
        // Petrel's topicStatus also reads the topic's body byte counters from here (other clients ignore them).
        let bytes = compression.bodyBytes(topic: topic)
        return request.response(extFields: [
            "offset": String(store.maximumOffset(topic: topic, queueId: queueId).rawValue),
            "bodyBytesReceived": String(bytes.received), "bodyBytesStored": String(bytes.stored),
            "undecodableBodies": String(compression.undecodableSkips(topic: topic)),
        ])
    }

    /// The oldest offset kept in the queue.
    func minimumOffset(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        let (topic, queueId) = try queueFields(request)
        return request.response(extFields: ["offset": String(store.minimumOffset(topic: topic, queueId: queueId).rawValue)])
    }

    /// The first offset stored at or after `timestamp`.
    func searchOffset(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        let (topic, queueId) = try queueFields(request)
        let timestamp = try RequestFields(command: request).int64("timestamp")
        let offset = store.offset(forTimestamp: timestamp, topic: topic, queueId: queueId)
        return request.response(extFields: ["offset": String(offset.rawValue)])
    }

    /// Store time of the queue's oldest message; -1 when the queue is empty (as Java answers).
    func earliestStoreTime(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        let (topic, queueId) = try queueFields(request)
        let timestamp = store.earliestStoreTime(topic: topic, queueId: queueId) ?? -1
        return request.response(extFields: ["timestamp": String(timestamp)])
    }

    /// `topic` and `queueId`, both required.
    private func queueFields(_ request: RemotingCommand) throws(RequestFailure) -> (String, Int32) {
        let fields = RequestFields(command: request)
        return (try fields.string("topic"), try fields.int32("queueId"))
    }
}
