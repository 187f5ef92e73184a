import Foundation
import NIOCore
import PetrelCore
import PetrelRemoting
import Synchronization

/// What the application's local transaction decided (Java `LocalTransactionState`).
public enum LocalTransactionState: String, Sendable, Hashable, CaseIterable {
    /// Deliver the message: END_TRANSACTION with commit (8).
    case commitMessage = "COMMIT_MESSAGE"
    /// Drop the message: END_TRANSACTION with rollback (12).
    case rollbackMessage = "ROLLBACK_MESSAGE"
    /// Not decided yet: END_TRANSACTION with 0; the broker will ask again (CHECK_TRANSACTION_STATE).
    case unknown = "UNKNOW"

    /// The `commitOrRollback` value of END_TRANSACTION (spec §15).
    var commitOrRollback: Int32 {
        switch self {
        case .commitMessage: TransactionState.commit.rawValue
        case .rollbackMessage: TransactionState.rollback.rawValue
        case .unknown: TransactionState.notTransaction.rawValue
        }
    }
}

/// The application side of transactional messages (Java `TransactionListener`).
public protocol TransactionListener: Sendable {
    /// Runs the local transaction after the half message was stored; `argument` is what the caller
    /// passed to `sendMessageInTransaction`. A thrown error counts as `.unknown` (its text goes to the
    /// broker as END_TRANSACTION's remark).
    func executeLocalTransaction(_ message: ProducerMessage, result: SendResult, argument: (any Sendable)?) async throws -> LocalTransactionState

    /// Answers a broker's check-back for a half message whose outcome it never learnt; `message` is
    /// the half message as stored (topic and queue restored to the real ones).
    func checkLocalTransaction(_ message: StoredMessage) async -> LocalTransactionState
}

/// A `TransactionListener` made of two closures.
public struct ClosureTransactionListener: TransactionListener {
    /// The local-transaction step.
    private let execute: @Sendable (ProducerMessage, SendResult, (any Sendable)?) async throws -> LocalTransactionState
    /// The check-back step.
    private let check: @Sendable (StoredMessage) async -> LocalTransactionState

    /// A listener running `execute` and `check`.
    public init(
        execute: @escaping @Sendable (ProducerMessage, SendResult, (any Sendable)?) async throws -> LocalTransactionState,
        check: @escaping @Sendable (StoredMessage) async -> LocalTransactionState
    ) {
        self.execute = execute
        self.check = check
    }

    /// Runs `execute`.
    public func executeLocalTransaction(_ message: ProducerMessage, result: SendResult, argument: (any Sendable)?) async throws -> LocalTransactionState {
        try await execute(message, result, argument)
    }

    /// Runs `check`.
    public func checkLocalTransaction(_ message: StoredMessage) async -> LocalTransactionState {
        await check(message)
    }
}

/// The outcome of `sendMessageInTransaction`: the half message's send result and the local decision.
public struct TransactionSendResult: Sendable, Hashable {
    /// The half message's send result.
    public var sendResult: SendResult
    /// What the local transaction decided (and what END_TRANSACTION told the broker).
    public var localTransactionState: LocalTransactionState
}

/// A producer of transactional messages (Java `TransactionMQProducer`): sends a half message, runs
/// the local transaction, ends it with END_TRANSACTION, and answers the broker's check-backs.
public final class TransactionProducer: Sendable {
    /// The producer underneath (its group is the one brokers check back with).
    public let producer: Producer
    /// The application's transaction steps.
    public let listener: any TransactionListener
    /// The CHECK_TRANSACTION_STATE handler's registration while started.
    private let checkRegistration = Mutex<InboundHandlerRegistration?>(nil)

    /// A transaction producer; `instance` as for `Producer`.
    public init(configuration: ProducerConfiguration, listener: any TransactionListener, instance: ClientInstance? = nil) {
        producer = Producer(configuration: configuration, instance: instance)
        self.listener = listener
    }

    /// Starts the producer and begins answering check-backs for its group.
    public func start() async throws(ClientError) {
        try await producer.start()
        let registration = producer.instance.registerInboundHandler(code: .checkTransactionState) { [self] request, connection in
            await answerCheck(request, connection: connection)
        }
        checkRegistration.withLock { $0 = registration }
    }

    /// Stops answering check-backs and shuts the producer down.
    public func shutdown() async {
        if let registration = checkRegistration.withLock({ $0.take() }) { producer.instance.removeInboundHandler(registration) }
        await producer.shutdown()
    }

    /// Sends `message` as a half message, runs the local transaction and ends the transaction with
    /// its decision. A half message stored with another status than SEND_OK is rolled back without
    /// running the local transaction (as Java does). Throws when the half message cannot be sent.
    public func sendMessageInTransaction(_ message: ProducerMessage, argument: (any Sendable)? = nil) async throws(ClientError) -> TransactionSendResult {
        var half = message
        half.delayLevel = 0  // transactional messages cannot be delayed; Java drops the level too
        let prepared = try producer.prepare(half, transactional: true)
        var result = try await producer.deliver(prepared, attempts: 1 + producer.configuration.retryTimesWhenSendFailed, timeout: nil)
        if result.transactionId == nil { result.transactionId = result.messageId }
        var state = LocalTransactionState.rollbackMessage
        var remark: String?
        if result.status == .sendOK {
            do {
                state = try await listener.executeLocalTransaction(half, result: result, argument: argument)
            } catch {
                state = .unknown
                remark = "local transaction failed: \(error)"
                producer.instance.logger.warning("local transaction threw; state unknown", metadata: ["error": "\(error)"])
            }
        }
        await endTransaction(result: result, state: state, remark: remark)
        return TransactionSendResult(sendResult: result, localTransactionState: state)
    }

    /// Sends END_TRANSACTION (oneway) for a half message just sent. A failure is logged, not thrown:
    /// the broker's check-back settles the transaction then.
    func endTransaction(result: SendResult, state: LocalTransactionState, remark: String?) async {
        let instance = producer.instance
        do throws(ClientError) {
            let commitLogOffset: Int64
            do {
                commitLogOffset = try MessageId.decodeOffsetId(result.offsetMessageId).commitLogOffset.rawValue
            } catch {
                throw ClientError(.malformedResponse, "the half message's offset id \(result.offsetMessageId) is not valid: \(error)")
            }
            guard let address = instance.masterAddress(brokerName: result.queue.brokerName) else {
                throw ClientError(.brokerNotFound, "broker \(result.queue.brokerName) has no known master address")
            }
            var request = RemotingCommand.request(code: .endTransaction, extFields: endTransactionFields(
                tableOffset: result.queueOffset, commitLogOffset: commitLogOffset, state: state, fromCheck: false,
                messageId: result.messageId, transactionId: result.transactionId ?? result.messageId))
            request.remark = remark
            try await instance.invokeOneway(address: address, request: request)
        } catch {
            instance.logger.warning("END_TRANSACTION could not be sent; the broker will check back", metadata: [
                "messageId": "\(result.messageId)", "state": "\(state.rawValue)", "error": "\(error)",
            ])
        }
    }

    /// END_TRANSACTION's header fields (spec §15).
    func endTransactionFields(
        tableOffset: Int64, commitLogOffset: Int64, state: LocalTransactionState, fromCheck: Bool, messageId: String,
        transactionId: String
    ) -> [String: String] {
        [
            "producerGroup": producer.configuration.group, "tranStateTableOffset": String(tableOffset),
            "commitLogOffset": String(commitLogOffset), "commitOrRollback": String(state.commitOrRollback),
            "fromTransactionCheck": fromCheck ? "true" : "false", "msgId": messageId, "transactionId": transactionId,
        ]
    }

    /// Answers CHECK_TRANSACTION_STATE (39) for this producer's group: asks the listener and sends
    /// END_TRANSACTION with `fromTransactionCheck=true` back on the connection the check came on.
    func answerCheck(_ request: RemotingCommand, connection: RemotingConnection) async -> InboundRequestOutcome {
        let logger = producer.instance.logger
        guard let body = request.body,
              let half = try? body.withUnsafeReadableBytes({ bytes throws(CoreError) in try StoredMessageCodec.decode(bytes, verifyChecksum: false) })
        else {
            logger.warning("a transaction check came without a readable message", metadata: ["remote": "\(connection.remoteAddress)"])
            return .notMine
        }
        guard half.message.properties[PropertyKey.producerGroup] == producer.configuration.group else { return .notMine }
        let state = await listener.checkLocalTransaction(half)
        let messageId = request.extFields["msgId"] ?? half.message.uniqueKey ?? half.offsetMessageId
        var end = RemotingCommand.request(code: .endTransaction, extFields: endTransactionFields(
            tableOffset: Int64(request.extFields["tranStateTableOffset"] ?? "") ?? half.queueOffset.rawValue,
            commitLogOffset: Int64(request.extFields["commitLogOffset"] ?? "") ?? half.commitLogOffset.rawValue,
            state: state, fromCheck: true, messageId: messageId, transactionId: request.extFields["transactionId"] ?? messageId))
        end.flag |= RemotingCommand.onewayFlag
        do {
            try await connection.invokeOneway(end)
        } catch {
            logger.warning("END_TRANSACTION after a check could not be sent", metadata: ["messageId": "\(messageId)", "error": "\(error)"])
        }
        return .handled
    }
}
