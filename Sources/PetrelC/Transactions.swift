import CPetrel
import PetrelClient
import PetrelCore

/// One `petrel_producer_send_transaction` call: what its local transaction step needs.
final class LocalTransactionRequest: @unchecked Sendable {
    /// The blocked call, whose thread runs the C function.
    let call: BlockingCall<TransactionSendResult>
    /// The C function.
    let function: petrel_local_transaction
    /// The message, as the caller passed it.
    let message: OpaquePointer
    /// Its box, to record the id before the callback reads it.
    let messageBox: MessageBox
    /// The caller's `argument`.
    let argument: UnsafeMutableRawPointer?
    /// The caller's `user_data`.
    let userData: UnsafeMutableRawPointer?

    /// A request.
    init(
        call: BlockingCall<TransactionSendResult>, function: petrel_local_transaction, message: OpaquePointer,
        messageBox: MessageBox, argument: UnsafeMutableRawPointer?, userData: UnsafeMutableRawPointer?
    ) {
        self.call = call
        self.function = function
        self.message = message
        self.messageBox = messageBox
        self.argument = argument
        self.userData = userData
    }
}

/// The transaction listener of a C producer: local transactions on the sending thread, check-backs
/// on the producer's callback thread.
struct CheckerListener: TransactionListener {
    /// The registered check-back callback.
    let checker: Unchecked<ProducerBox.Checker>
    /// The producer's callback thread.
    let callbacks: CallbackThreads

    /// Runs the request's C function on the thread blocked in the send.
    func executeLocalTransaction(_ message: ProducerMessage, result: SendResult, argument: (any Sendable)?) async throws -> LocalTransactionState {
        guard let request = argument as? LocalTransactionRequest else { return .unknown }
        return await request.call.onCallerThread {
            request.messageBox.setMessageId(result.messageId)
            return TransactionStates.local(request.function(request.userData, request.message, request.argument))
        }
    }

    /// Asks the C checker on the callback thread, with the half message valid during the call.
    func checkLocalTransaction(_ message: StoredMessage) async -> LocalTransactionState {
        let checker = checker
        return await callbacks.run {
            let box = MessageBox(checked: message)
            let pointer = box.retainedPointer()
            defer { _ = Handle.release(pointer) }
            return TransactionStates.local(checker.value.function(checker.value.userData, pointer))
        }
    }
}

/// Conversions between the C and Swift transaction states.
enum TransactionStates {
    /// The Swift state of a C answer; values outside the enumeration count as unknown (the broker asks again).
    static func local(_ state: petrel_transaction_state) -> LocalTransactionState {
        switch state {
        case PETREL_TRANSACTION_COMMIT: .commitMessage
        case PETREL_TRANSACTION_ROLLBACK: .rollbackMessage
        default: .unknown
        }
    }

    /// The C state of a Swift one.
    static func c(_ state: LocalTransactionState) -> petrel_transaction_state {
        switch state {
        case .commitMessage: PETREL_TRANSACTION_COMMIT
        case .rollbackMessage: PETREL_TRANSACTION_ROLLBACK
        case .unknown: PETREL_TRANSACTION_UNKNOWN
        }
    }
}

/// `petrel_producer_set_transaction_checker`: before start only.
@_cdecl("petrel_producer_set_transaction_checker")
public func petrel_producer_set_transaction_checker(
    _ producer: OpaquePointer?, _ checker: petrel_transaction_checker?, _ userData: UnsafeMutableRawPointer?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let box = try Handle.require(producer, as: ProducerBox.self, argument: "producer")
        let function = try Arguments.required(checker, "checker")
        try box.phase.withLock { phase throws(CallFailure) in
            guard case .created = phase.value else { throw .invalidState("the transaction checker must be set before start") }
            phase = Unchecked(.created(ProducerBox.Checker(function: function, userData: userData)))
        }
    }
}

/// `petrel_producer_send_transaction`: half message, local transaction on this thread, commit or rollback.
@_cdecl("petrel_producer_send_transaction")
public func petrel_producer_send_transaction(
    _ producer: OpaquePointer?, _ message: OpaquePointer?, _ localTransaction: petrel_local_transaction?,
    _ argument: UnsafeMutableRawPointer?, _ userData: UnsafeMutableRawPointer?,
    _ outResult: UnsafeMutablePointer<petrel_send_result>?, _ outState: UnsafeMutablePointer<petrel_transaction_state>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let box = try Handle.require(producer, as: ProducerBox.self, argument: "producer")
        let messagePointer = try Arguments.required(message, "message")
        let messageBox = try Handle.require(message, as: MessageBox.self, argument: "message")
        let function = try Arguments.required(localTransaction, "local_transaction")
        let out = try Arguments.required(outResult, "out_result")
        let outStateSlot = try Arguments.required(outState, "out_state")
        guard let transactional = try box.running().1 else {
            throw .invalidState("no transaction checker: call petrel_producer_set_transaction_checker before start")
        }
        let outgoing = messageBox.producerMessage
        let request = Unchecked((messagePointer, messageBox, argument, userData))
        let result = try BlockingCall<TransactionSendResult>.wait { call async throws(CallFailure) in
            let (pointer, messageBox, argument, userData) = request.value
            let local = LocalTransactionRequest(
                call: call, function: function, message: pointer, messageBox: messageBox, argument: argument, userData: userData)
            do throws(ClientError) {
                return try await transactional.sendMessageInTransaction(outgoing, argument: local)
            } catch {
                throw CallFailure(error)
            }
        }
        messageBox.setMessageId(result.sendResult.messageId)
        out.pointee = SendResults.make(result.sendResult)
        outStateSlot.pointee = TransactionStates.c(result.localTransactionState)
    }
}
