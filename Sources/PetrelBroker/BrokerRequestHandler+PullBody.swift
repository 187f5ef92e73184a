import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore

/// The body of a pull response, and what happens to a stored record whose zstd body cannot be
/// decompressed for a client that needs plain bodies (a missing dictionary file, a damaged frame).
///
/// Such a record must not block its queue: a RocketMQ consumer retries a failed pull from the
/// same offset forever. So a pull leaves it out, as a tag filter leaves out records that do not
/// match: the next offset moves past it, and when every record read is left out the answer is
/// PULL_RETRY_IMMEDIATELY (the client's NO_MATCHED_MSG, which moves its offset on). Each record left
/// out is logged (topic, queue, queue offset, commit-log offset, reason) and counted per topic
/// (`undecodableBodies` in GET_MAX_OFFSET, shown by petrel-admin topicStatus). The record stays in
/// the store: Petrel's client pulls it verbatim (`acceptCompression=zstd`), and single-message
/// look-ups (VIEW_MESSAGE_BY_ID, QUERY_MESSAGE) still fail with the reason. The pull response
/// names the queue offsets left out (`undecodableOffsets`, comma-separated, with the first reason
/// in `undecodableReason`) so tools such as petrel-admin queryMsgByOffset can say why.
extension BrokerRequestHandler {
    /// The pull response ext field naming the queue offsets left out as undecodable.
    static let undecodableOffsetsField = "undecodableOffsets"
    /// The pull response ext field with the reason the first of them was left out.
    static let undecodableReasonField = "undecodableReason"

    /// What `writePullBody` appended.
    struct PullBody {
        /// Records appended.
        var appended = 0
        /// Records dealt with, appended or left out; the next read starts at the record after them.
        var consumed = 0
        /// Queue offsets of the records left out because their bodies cannot be decompressed.
        var undecodableOffsets: [Int64] = []
        /// Why the first of them was left out.
        var firstReason: String?
    }

    /// Appends the records of `result` for the client of `request`: verbatim when it accepts zstd,
    /// else with plain bodies. A record whose body cannot be decompressed is left out (logged and
    /// counted). The store kept the STORED bytes within `byteBudget`, but plain bodies may be far
    /// larger (32 highly compressible 4 MiB bodies fit a 256 KiB pull), so a record that would take
    /// the appended bytes past the budget is left for the next pull, unless nothing was appended yet.
    func writePullBody(
        _ result: GetResult, header: PullRequestHeader, request: RemotingCommand, into buffer: inout ByteBuffer, byteBudget: Int
    ) -> PullBody {
        let verbatim = Self.acceptsZstd(request)
        let start = buffer.writerIndex
        var body = PullBody()
        for (index, record) in result.records.enumerated() {
            let before = buffer.writerIndex
            do { try compression.write(record, verbatim: verbatim, into: &buffer) } catch {
                // A failed re-encode may have written part of the record.
                buffer.moveWriterIndex(to: before)
                let queueOffset = result.queueOffsets[index].rawValue
                reportUndecodable(record, header: header, queueOffset: queueOffset, reason: error.message)
                body.undecodableOffsets.append(queueOffset)
                if body.firstReason == nil { body.firstReason = error.message }
                body.consumed = index + 1
                continue
            }
            if body.appended > 0, buffer.writerIndex - start > byteBudget {
                buffer.moveWriterIndex(to: before)
                return body
            }
            body.appended += 1
            body.consumed = index + 1
        }
        return body
    }

    /// Counts one record left out of a pull, and logs it when it is the topic's first this minute
    /// (with the number of skips not logged before it).
    func reportUndecodable(_ record: StoredRecordSlice, header: PullRequestHeader, queueOffset: Int64, reason: String) {
        compression.countUndecodable(topic: header.topic)
        guard let quiet = compression.undecodableSkipToLog(topic: header.topic, nowMilliseconds: System.nowMilliseconds()) else { return }
        logger.error("a stored message body cannot be decompressed for a client without acceptCompression=zstd; the pull skips it", metadata: [
            "topic": "\(header.topic)", "queueId": "\(header.queueId)", "queueOffset": "\(queueOffset)",
            "commitLogOffset": "\(record.commitLogOffset.rawValue)", "consumerGroup": "\(header.consumerGroup)", "reason": "\(reason)",
            "skipsNotLoggedBefore": "\(quiet)",
        ])
    }

    /// The pull response: the four offset fields always, the records concatenated as the body on
    /// SUCCESS (each slice copied once, straight from the mapping). When every record read was left
    /// out as undecodable the answer is PULL_RETRY_IMMEDIATELY past them, as for filtered records.
    func pullResponse(_ request: RemotingCommand, _ header: PullRequestHeader, _ outcome: PullOutcome) -> RemotingCommand {
        let result = outcome.result
        var code = outcome.code
        var body: ByteBuffer?
        var nextBeginOffset = outcome.nextBeginOffset
        var extFields: [String: String] = [:]
        if outcome.code == .success {
            var buffer = ByteBufferAllocator().buffer(capacity: result.totalBytes)
            let written = writePullBody(result, header: header, request: request, into: &buffer, byteBudget: Self.maximumPullBytes)
            if written.consumed < result.records.count { nextBeginOffset = result.queueOffsets[written.consumed].rawValue }
            statistics.recordGets(written.appended)
            if written.appended > 0 { body = buffer } else { code = .pullRetryImmediately }
            if let reason = written.firstReason {
                extFields[Self.undecodableOffsetsField] = written.undecodableOffsets.map(String.init).joined(separator: ",")
                extFields[Self.undecodableReasonField] = reason
            }
        }
        extFields["nextBeginOffset"] = String(nextBeginOffset)
        extFields["minOffset"] = String(result.minimumOffset.rawValue)
        extFields["maxOffset"] = String(result.maximumOffset.rawValue)
        extFields["suggestWhichBrokerId"] = "0"
        return request.response(code: code, extFields: extFields, body: body)
    }
}
