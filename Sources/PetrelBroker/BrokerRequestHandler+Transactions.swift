import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore

/// Transactional messages (spec §15): half messages parked in `RMQ_SYS_TRANS_HALF_TOPIC` and
/// END_TRANSACTION (37).
extension BrokerRequestHandler {
    /// Whether a send is a transactional half message: `TRAN_MSG=true` or the prepared sysFlag.
    static func isHalfMessage(_ header: SendRequestHeader) -> Bool {
        header.properties[PropertyKey.transactionPrepared] == "true"
            || MessageSysFlag(rawValue: header.sysFlag).transaction == .prepared
    }

    /// `message` parked as a half message: topic `RMQ_SYS_TRANS_HALF_TOPIC` queue 0, `REAL_TOPIC` /
    /// `REAL_QID` set, `TRAN_MSG=true` and `PGROUP` kept (the prepared state lives in properties),
    /// sysFlag transaction bits reset to NOT_TYPE so the record is dispatched to the half queue
    /// (and no consumer subscribes to that topic).
    static func halfMessage(_ message: StoredMessage, producerGroup: String) -> StoredMessage {
        var half = message
        half.message.properties[PropertyKey.realTopic] = message.message.topic
        half.message.properties[PropertyKey.realQueueId] = String(message.queueId)
        half.message.properties[PropertyKey.transactionPrepared] = "true"
        if half.message.properties[PropertyKey.producerGroup] == nil {
            half.message.properties[PropertyKey.producerGroup] = producerGroup
        }
        half.message.topic = SystemNames.transactionHalfTopic
        half.queueId = 0
        half.sysFlag.transaction = .notTransaction
        return half
    }

    /// The message a commit stores: topic and queue from `REAL_TOPIC`/`REAL_QID`, `TRAN_MSG` and the
    /// `REAL_*` properties cleared, sysFlag COMMIT, prepared transaction offset = the half record's
    /// commit-log offset; nil when the half message does not say where it belongs.
    static func committedMessage(_ half: StoredMessage) -> StoredMessage? {
        var properties = half.message.properties
        guard let topic = properties[PropertyKey.realTopic], !topic.isEmpty,
              let queueText = properties[PropertyKey.realQueueId], let queueId = Int32(queueText), queueId >= 0 else { return nil }
        properties[PropertyKey.realTopic] = nil
        properties[PropertyKey.realQueueId] = nil
        properties[PropertyKey.transactionPrepared] = nil
        properties[PropertyKey.waitStoreMessageOK] = "false"
        var sysFlag = half.sysFlag
        sysFlag.transaction = .commit
        return StoredMessage(
            message: Message(topic: topic, flag: half.message.flag, properties: properties, body: half.message.body),
            queueId: queueId, sysFlag: sysFlag, bornTimestamp: half.bornTimestamp, bornHost: half.bornHost,
            reconsumeTimes: half.reconsumeTimes, preparedTransactionOffset: half.commitLogOffset.rawValue)
    }


    /// END_TRANSACTION (37): commit (8) stores the real message once and records the outcome;
    /// rollback (12) records the outcome; unknown (0) does nothing. A half message that already has
    /// an outcome is never committed again: the same outcome is answered SUCCESS, a different one
    /// TRANSACTION_FAILED with a remark. Clients send it oneway; the server drops the answer then.
    func endTransaction(_ request: RemotingCommand) async throws(RequestFailure) -> RemotingCommand {
        if configuration.brokerRole == .slave {
            throw RequestFailure(.slaveNotAvailable, "the broker is a slave and cannot end transactions")
        }
        try checkWritable()
        let fields = RequestFields(command: request)
        let group = try fields.string("producerGroup")
        let tableOffset = try fields.int64("tranStateTableOffset")
        let commitLogOffset = try fields.int64("commitLogOffset")
        let kind = try fields.int32("commitOrRollback")
        let fromCheck = try fields.optionalBool("fromTransactionCheck") ?? false
        let wanted: TransactionOutcome
        switch kind {
        case TransactionState.commit.rawValue: wanted = .commit
        case TransactionState.rollback.rawValue: wanted = .rollback
        case TransactionState.notTransaction.rawValue:
            logger.debug("transaction state unknown; waiting for a check-back", metadata: [
                "group": "\(group)", "halfOffset": "\(tableOffset)", "fromCheck": "\(fromCheck)",
            ])
            return request.response()
        default:
            throw RequestFailure(.systemError, "commitOrRollback \(kind) is not 0, 8 or 12")
        }
        let half: StoredMessage
        do { half = try store.message(at: CommitLogOffset(commitLogOffset)) } catch {
            throw RequestFailure(.systemError, "find prepared transaction message failed: \(error)")
        }
        guard half.message.topic == SystemNames.transactionHalfTopic else {
            throw RequestFailure(.systemError, "the message at commitLogOffset \(commitLogOffset) is not a half message")
        }
        guard half.message.properties[PropertyKey.producerGroup] == group else {
            throw RequestFailure(.systemError, "the producer group wrong")
        }
        guard half.queueOffset.rawValue == tableOffset else {
            throw RequestFailure(.systemError, "the transaction state table offset wrong")
        }
        let outcomes = transactionOutcomes
        if let existing = outcomes.claim(halfOffset: tableOffset, wanted) {
            if existing == wanted {
                return request.response(remark: "the transaction was already \(existing == .commit ? "committed" : "rolled back")")
            }
            throw RequestFailure(.transactionFailed, "the transaction already ended with \(existing.rawValue); \(wanted.rawValue) refused")
        }
        if wanted == .commit && outcomes.committedCopyExists(half) {
            logger.info("the half message was committed before a restart; only its op record is written", metadata: [
                "halfOffset": "\(tableOffset)",
            ])
        } else if wanted == .commit {
            guard let real = Self.committedMessage(half) else {
                outcomes.release(halfOffset: tableOffset)
                throw RequestFailure(.systemError, "the half message has no REAL_TOPIC/REAL_QID")
            }
            let stored = ScheduleService.parked(real, levelCount: configuration.messageDelayLevels.count)
            do { try compression.noteRestored([stored]) } catch {
                outcomes.release(halfOffset: tableOffset)
                throw RequestFailure(.systemError, "storing the committed message failed: \(error.message)")
            }
            let result = await store.put(stored)
            switch result.status {
            case .ok, .flushDiskTimeout:
                break
            default:
                outcomes.release(halfOffset: tableOffset)
                throw RequestFailure(.systemError, "storing the committed message failed: \(result.status)")
            }
        }
        if !(await outcomes.recordOperation(halfOffset: tableOffset, wanted)) {
            logger.error("writing a transaction op record failed; the outcome holds in memory only", metadata: [
                "halfOffset": "\(tableOffset)", "outcome": "\(wanted.rawValue)",
            ])
        }
        return request.response()
    }
}
