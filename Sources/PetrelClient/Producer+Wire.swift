import NIOCore
import PetrelCore
import PetrelRemoting

/// The send frames: SEND_MESSAGE_V2 (310) for one message, SEND_BATCH_MESSAGE (320) for a batch,
/// both with V2's one-letter header keys (spec §8.2), and the answer's mapping to `SendResult`.
extension Producer {
    /// Sends `prepared` to `queue`'s master. Returns the result, or nil for a oneway send.
    @discardableResult
    func sendRequest(_ prepared: PreparedMessage, to queue: MessageQueue, oneway: Bool, timeout: Duration) async throws(ClientError) -> SendResult? {
        var address = instance.masterAddress(brokerName: queue.brokerName)
        if address == nil {
            _ = try? await instance.refreshRoute(prepared.topic)
            address = instance.masterAddress(brokerName: queue.brokerName)
        }
        guard let address else {
            throw ClientError(.brokerNotFound, "broker \(queue.brokerName) of topic \(prepared.topic) has no known master address")
        }
        let request = sendCommand(prepared, queueId: queue.queueId)
        if oneway {
            try await instance.invokeOneway(address: address, request: request)
            return nil
        }
        let response = try await instance.invoke(address: address, request: request, timeout: timeout)
        return try Self.sendResult(response, prepared: prepared, queue: queue, address: address)
    }

    /// The request frame for `prepared` to queue `queueId`.
    func sendCommand(_ prepared: PreparedMessage, queueId: Int32) -> RemotingCommand {
        let fields: [String: String] = [
            "a": configuration.group,
            "b": prepared.topic,
            "c": configuration.templateTopic,
            "d": String(configuration.defaultTopicQueueNumbers),
            "e": String(queueId),
            "f": String(prepared.sysFlag.rawValue),
            "g": String(Self.nowMilliseconds()),
            "h": String(prepared.flag),
            "i": String(decoding: prepared.properties.encoded(), as: UTF8.self),
            "j": "0",
            "k": "false",
            "m": prepared.isBatch ? "true" : "false",
        ]
        return RemotingCommand.request(code: prepared.isBatch ? .sendBatchMessage : .sendMessageV2, extFields: fields, body: prepared.body)
    }

    /// The `SendResult` of a send answer; failure codes become `.brokerError` with the remark.
    static func sendResult(_ response: RemotingCommand, prepared: PreparedMessage, queue: MessageQueue, address: String) throws(ClientError) -> SendResult {
        guard let status = SendStatus(responseCode: response.responseCode) else {
            throw ClientError.response(response, doing: "sending to \(queue)", address: address)
        }
        guard let offsetMessageId = response.extFields["msgId"],
              let offsetText = response.extFields["queueOffset"], let queueOffset = Int64(offsetText)
        else {
            throw ClientError(.malformedResponse, "the send answer lacks msgId or queueOffset", address: address)
        }
        // The broker may store to another queue than asked (a negative id, a retry topic); trust its answer.
        var stored = queue
        if let queueText = response.extFields["queueId"], let queueId = Int32(queueText) { stored.queueId = queueId }
        return SendResult(
            status: status, messageId: prepared.uniqueKeys.joined(separator: ","), offsetMessageId: offsetMessageId,
            queue: stored, queueOffset: queueOffset, transactionId: response.extFields["transactionId"],
            regionId: response.extFields["MSG_REGION"])
    }
}

/// The batch body of SEND_BATCH_MESSAGE (spec §8.4): entries back to back, each
///
/// ```
///  0           4           8           12          16          20
///  +-----------+-----------+-----------+-----------+-----------+------------+----------+-------------+
///  | totalSize | magic (0) | bodyCRC 0 | flag      | bodyLen n | body (n)   | propLen p| props (p)   |
///  | int32     | int32     | int32     | int32     | int32     |            | int16    | UTF-8       |
///  +-----------+-----------+-----------+-----------+-----------+------------+----------+-------------+
///  totalSize = 22 + n + p
/// ```
enum BatchEncoding {
    /// Fixed bytes of an entry besides body and properties.
    static let fixedSize = 22

    /// The batch body of `entries` (flag, body, properties).
    static func encode(_ entries: [(flag: Int32, body: ByteBuffer, properties: MessageProperties)]) -> ByteBuffer {
        let encoded = entries.map { (flag: $0.flag, body: $0.body, properties: $0.properties.encoded()) }
        let total = encoded.reduce(0) { $0 + fixedSize + $1.body.readableBytes + $1.properties.count }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(total)
        for entry in encoded {
            buffer.writeInteger(Int32(fixedSize + entry.body.readableBytes + entry.properties.count))
            buffer.writeInteger(Int32(0))
            buffer.writeInteger(Int32(0))
            buffer.writeInteger(entry.flag)
            buffer.writeInteger(Int32(entry.body.readableBytes))
            buffer.writeImmutableBuffer(entry.body)
            buffer.writeInteger(Int16(truncatingIfNeeded: entry.properties.count))
            buffer.writeBytes(entry.properties)
        }
        return buffer
    }
}
