import Foundation
import NIOCore
import PetrelClient
import PetrelCore
import Testing

/// Transactional sends against a real broker: half message, local transaction, END_TRANSACTION.
@Suite(.serialized) struct TransactionProducerTests {
    /// A listener whose local transaction decides by the message's tag ("commit", "rollback",
    /// "unknown", "throw") and whose check-back answers `checkAnswer`, counting check-backs.
    static func listener(checkAnswer: LocalTransactionState, checks: Locked<[String]>) -> ClosureTransactionListener {
        ClosureTransactionListener(
            execute: { message, result, argument in
                #expect(result.status == .sendOK)
                #expect(argument as? String == "argument")
                switch message.tags {
                case "commit": return .commitMessage
                case "rollback": return .rollbackMessage
                case "throw": throw HarnessError("local transaction failed on purpose")
                default: return .unknown
                }
            },
            check: { message in
                checks.update { $0.append(message.message.uniqueKey ?? "") }
                return checkAnswer
            })
    }

    /// Commit makes the message visible in its topic once; rollback, unknown and a throwing local
    /// transaction leave nothing there.
    @Test func commitDeliversAndRollbackDoesNot() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let raw = RawBrokerAccess()
        try await ProducerFixture.createTopic("TxTopic", on: broker, raw: raw)
        let checks = Locked<[String]>([])
        let producer = TransactionProducer(
            configuration: ProducerConfiguration(group: "PG_tx", client: testClientConfiguration(nameServers: [broker.nameServer]), sendMessageTimeout: testSendTimeout),
            listener: Self.listener(checkAnswer: .rollbackMessage, checks: checks))
        try await producer.start()
        var outcomes: [String: TransactionSendResult] = [:]
        for tag in ["rollback", "unknown", "throw", "commit"] {
            outcomes[tag] = try await producer.sendMessageInTransaction(
                ProducerMessage(topic: "TxTopic", body: "tx-\(tag)", tags: tag, keys: ["key-\(tag)"]), argument: "argument")
        }
        #expect(outcomes["commit"]?.localTransactionState == .commitMessage)
        #expect(outcomes["rollback"]?.localTransactionState == .rollbackMessage)
        #expect(outcomes["unknown"]?.localTransactionState == .unknown)
        #expect(outcomes["throw"]?.localTransactionState == .unknown)
        let stored = try await ProducerFixture.awaitMessages("TxTopic", on: broker, count: 1, raw: raw)
        #expect(stored.map(\.text) == ["tx-commit"])
        let committed = try #require(stored.first)
        #expect(committed.message.uniqueKey == outcomes["commit"]?.sendResult.messageId)
        #expect(committed.message.keys == ["key-commit"])
        #expect(committed.sysFlag.transaction == .commit)
        #expect(committed.message.properties[PropertyKey.transactionPrepared] == nil)
        await producer.shutdown()
        await raw.close()
    }

    /// A transaction left unknown is settled by the broker's check-back: the checker's commit makes
    /// the message visible. The broker checks every 500 ms and treats half messages older than 1 s as
    /// due, so the check comes within a few seconds instead of RocketMQ's default minute.
    @Test func checkBackCommitsAnUnknownTransaction() async throws {
        let broker = try await BrokerProcess(extraArguments: [
            "--transactionCheckInterval", "500", "--transactionTimeOut", "1000",
        ])
        defer { broker.stop() }
        let raw = RawBrokerAccess()
        try await ProducerFixture.createTopic("TxCheckTopic", on: broker, raw: raw)
        let checks = Locked<[String]>([])
        let producer = TransactionProducer(
            configuration: ProducerConfiguration(group: "PG_txcheck", client: testClientConfiguration(nameServers: [broker.nameServer]), sendMessageTimeout: testSendTimeout),
            listener: Self.listener(checkAnswer: .commitMessage, checks: checks))
        try await producer.start()
        let outcome = try await producer.sendMessageInTransaction(
            ProducerMessage(topic: "TxCheckTopic", body: "checked", tags: "unknown"), argument: "argument")
        #expect(outcome.localTransactionState == .unknown)
        let delivered = await poll(seconds: 30) {
            ((try? await raw.pullAll(address: broker.address, topic: "TxCheckTopic")) ?? []).count == 1
        }
        #expect(delivered)
        let stored = try await raw.pullAll(address: broker.address, topic: "TxCheckTopic")
        #expect(stored.map(\.text) == ["checked"])
        #expect(checks.value.first == outcome.sendResult.messageId)
        await producer.shutdown()
        await raw.close()
    }
}
