import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore

/// Message look-ups: QUERY_MESSAGE (12) by key and VIEW_MESSAGE_BY_ID (33) by commit-log offset,
/// spec §16. Both answer with stored records as they sit in the commit log (§10), zstd bodies
/// decompressed unless the request declares `acceptCompression=zstd`.
extension BrokerRequestHandler {
    /// Most messages one QUERY_MESSAGE returns, whatever `maxNum` asks (Java's `maxMsgsNumBatch`).
    static let maximumQueryCount = 64
    /// The count used for a `_UNIQUE_KEY_QUERY` (Java's `defaultQueryMaxNum`).
    static let uniqueKeyQueryCount = 32

    /// Messages of `topic` whose KEYS contain `key` (or whose UNIQ_KEY is `key`) stored within
    /// `[beginTimestamp, endTimestamp]`, newest first, concatenated in the body; ext
    /// `indexLastUpdateTimestamp` (newest store time among the matches) and `indexLastUpdatePhyoffset`
    /// (how far the index has been built). None → QUERY_NOT_FOUND, as Java answers.
    func queryMessage(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        let fields = RequestFields(command: request)
        let topic = try fields.nonEmptyString("topic")
        let key = try fields.nonEmptyString("key")
        var limit = Int(try fields.int32("maxNum"))
        let begin = try fields.int64("beginTimestamp")
        let end = try fields.int64("endTimestamp")
        if try fields.optionalBool("_UNIQUE_KEY_QUERY") == true { limit = Self.uniqueKeyQueryCount }
        guard limit > 0 else { throw RequestFailure(.systemError, "the field maxNum must be positive, got \(limit)") }
        let indexedUpTo = store.dispatchedCommitLogOffset.rawValue
        let matches = store.queryMessages(topic: topic, key: key, begin: begin, end: end, limit: min(limit, Self.maximumQueryCount))
        var body = ByteBuffer()
        var newest: Int64 = 0
        for match in matches {
            guard let record = try? store.record(at: match.commitLogOffset) else { continue }
            try writeForClient([record], request: request, into: &body)
            newest = max(newest, match.storeTimestamp)
        }
        let extFields = ["indexLastUpdateTimestamp": String(newest), "indexLastUpdatePhyoffset": String(indexedUpTo)]
        guard body.readableBytes > 0 else {
            return request.response(
                code: .queryNotFound, remark: "can not find message, maybe time range not correct", extFields: extFields)
        }
        return request.response(extFields: extFields, body: body)
    }

    /// The record starting at commit-log offset `offset` (decoded by the client from an offset
    /// message id); SYSTEM_ERROR naming the offset when no message starts there.
    func viewMessageById(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        let offset = try RequestFields(command: request).int64("offset")
        let record: StoredRecordSlice
        do { record = try store.record(at: CommitLogOffset(offset)) } catch {
            throw RequestFailure(.systemError, "can not find message by the offset, \(offset): \(error.message)")
        }
        var body = ByteBuffer()
        body.reserveCapacity(record.count)
        try writeForClient([record], request: request, into: &body)
        return request.response(body: body)
    }
}
