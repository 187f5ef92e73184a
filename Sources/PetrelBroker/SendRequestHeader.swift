import NIOCore
import PetrelCore
import PetrelRemoting

/// The header of SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320) (spec §8.1,
/// §8.2), decoded from either the long field names or V2's one-letter keys.
struct SendRequestHeader: Sendable {
    /// V2's one-letter key of each field (spec §8.2).
    static let shortKeys: [String: String] = [
        "producerGroup": "a", "topic": "b", "defaultTopic": "c", "defaultTopicQueueNums": "d", "queueId": "e",
        "sysFlag": "f", "bornTimestamp": "g", "flag": "h", "properties": "i", "reconsumeTimes": "j",
        "unitMode": "k", "maxReconsumeTimes": "l", "batch": "m",
    ]

    /// The sending group.
    var producerGroup: String
    /// The target topic.
    var topic: String
    /// The auto-create template (`TBW102`).
    var defaultTopic: String
    /// Queues the client wants an auto-created topic to have.
    var defaultTopicQueueNumbers: Int32
    /// The chosen queue; negative lets the broker pick.
    var queueId: Int32
    /// MessageSysFlag bits set by the producer (compression, transaction).
    var sysFlag: Int32
    /// Creation time at the client.
    var bornTimestamp: Int64
    /// The user flag.
    var flag: Int32
    /// The properties string, decoded.
    var properties: MessageProperties
    /// Redeliveries so far (for sends to retry topics).
    var reconsumeTimes: Int32
    /// The client's redelivery limit, honoured from version V3_4_9 on.
    var maxReconsumeTimes: Int32?
    /// Whether the body is a batch (§8.4).
    var isBatch: Bool

    /// Decodes the header of `command`; 320 is always a batch, and `batch` counts as true for
    /// `"true"` or the C++ client's `"1"`.
    init(_ command: RemotingCommand) throws(RequestFailure) {
        let code = command.requestCode
        let short = code == .sendMessageV2 || code == .sendBatchMessage || code == .sendReplyMessageV2
        // The wire key of each field picked directly: a `names` map would hash every long name first.
        let fields = RequestFields(command: command)
        func key(_ long: String, _ shortKey: String) -> String { short ? shortKey : long }
        producerGroup = try fields.string(key("producerGroup", "a"))
        topic = try fields.string(key("topic", "b"))
        defaultTopic = try fields.string(key("defaultTopic", "c"))
        defaultTopicQueueNumbers = try fields.int32(key("defaultTopicQueueNums", "d"))
        queueId = try fields.int32(key("queueId", "e"))
        sysFlag = try fields.int32(key("sysFlag", "f"))
        bornTimestamp = try fields.int64(key("bornTimestamp", "g"))
        flag = try fields.int32(key("flag", "h"))
        properties = MessageProperties.decode(Array((fields.optionalString(key("properties", "i")) ?? "").utf8))
        reconsumeTimes = try fields.optionalInt32(key("reconsumeTimes", "j")) ?? 0
        maxReconsumeTimes = try fields.optionalInt32(key("maxReconsumeTimes", "l"))
        let batchField = try fields.optionalBool(key("batch", "m")) ?? false
        isBatch = code == .sendBatchMessage || batchField
    }
}

/// One message of a batch body (spec §8.4).
struct BatchEntry: Sendable {
    /// The user flag.
    var flag: Int32
    /// The payload.
    var body: ByteBuffer
    /// The entry's own properties (its `UNIQ_KEY`, tags, keys).
    var properties: MessageProperties
}

/// Decodes batch bodies: a concatenation of entries `totalSize int32, magic int32, bodyCRC int32,
/// flag int32, bodyLen int32, body, propertiesLen int16, properties` (spec §8.4).
enum BatchBody {
    /// Fixed bytes before the body.
    static let headerSize = 20

    /// The entries of `body`, read field by field as Java's `MessageDecoder.decodeBatch` does
    /// (totalSize is not trusted). Any length that runs past the end is MESSAGE_ILLEGAL naming the entry.
    static func decode(_ body: ByteBuffer) throws(RequestFailure) -> [BatchEntry] {
        var buffer = body
        var entries: [BatchEntry] = []
        while buffer.readableBytes > 0 {
            let index = entries.count
            func illegal(_ what: String) -> RequestFailure {
                RequestFailure(.messageIllegal, "batch entry \(index): \(what)")
            }
            guard buffer.readableBytes >= headerSize,
                  let _ = buffer.readInteger(as: Int32.self), let _ = buffer.readInteger(as: Int32.self),
                  let _ = buffer.readInteger(as: Int32.self), let flag = buffer.readInteger(as: Int32.self),
                  let bodyLength = buffer.readInteger(as: Int32.self)
            else { throw illegal("fewer than \(headerSize) header bytes") }
            guard bodyLength >= 0, let payload = buffer.readSlice(length: Int(bodyLength)) else {
                throw illegal("body length \(bodyLength) exceeds the \(buffer.readableBytes) bytes left")
            }
            guard let propertiesLength = buffer.readInteger(as: Int16.self), propertiesLength >= 0,
                  let propertyBytes = buffer.readBytes(length: Int(propertiesLength))
            else { throw illegal("properties length is missing or exceeds the bytes left") }
            entries.append(BatchEntry(flag: flag, body: payload, properties: MessageProperties.decode(propertyBytes)))
        }
        guard !entries.isEmpty else { throw RequestFailure(.messageIllegal, "the batch body holds no message") }
        return entries
    }

    /// Encodes entries in the batch layout (for tests and tools).
    static func encode(_ entries: [BatchEntry]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for entry in entries {
            let properties = entry.properties.encoded()
            buffer.writeInteger(Int32(headerSize + entry.body.readableBytes + 2 + properties.count))
            buffer.writeInteger(Int32(0))
            buffer.writeInteger(Int32(0))
            buffer.writeInteger(entry.flag)
            buffer.writeInteger(Int32(entry.body.readableBytes))
            buffer.writeImmutableBuffer(entry.body)
            buffer.writeInteger(Int16(truncatingIfNeeded: properties.count))
            buffer.writeBytes(properties)
        }
        return buffer
    }
}
