import CPetrel
import Foundation
import PetrelClient
import PetrelCore

/// The C view of a send result.
enum SendResults {
    /// `result` as `petrel_send_result`; for a batch the ids are the first message's.
    static func make(_ result: SendResult) -> petrel_send_result {
        var converted = petrel_send_result()
        converted.send_status = switch result.status {
        case .sendOK: 0
        case .flushDiskTimeout: 1
        case .flushSlaveTimeout: 2
        case .slaveNotAvailable: 3
        }
        converted.queue_id = result.queue.queueId
        converted.queue_offset = result.queueOffset
        Arguments.copy(firstId(result.messageId), into: &converted.message_id)
        Arguments.copy(firstId(result.offsetMessageId), into: &converted.offset_message_id)
        Arguments.copy(result.queue.brokerName, into: &converted.broker_name)
        return converted
    }

    /// The first of comma-joined ids (a batch's), or the id itself.
    static func firstId(_ ids: String) -> String {
        String(ids.split(separator: ",", omittingEmptySubsequences: false).first ?? "")
    }
}

/// The pieces every send needs: the producer, the message, the result slot.
private func sendArguments(
    _ producer: OpaquePointer?, _ message: OpaquePointer?
) throws(CallFailure) -> (ProducerBox, Producer, MessageBox) {
    let box = try Handle.require(producer, as: ProducerBox.self, argument: "producer")
    let messageBox = try Handle.require(message, as: MessageBox.self, argument: "message")
    let (running, _) = try box.running()
    return (box, running, messageBox)
}

/// Runs a send in a blocking call, turning its client error into a failure.
private func blockingSend(_ send: @escaping @Sendable () async throws(ClientError) -> SendResult) throws(CallFailure) -> SendResult {
    try BlockingCall<SendResult>.wait { _ async throws(CallFailure) in
        do throws(ClientError) {
            return try await send()
        } catch {
            throw CallFailure(error)
        }
    }
}

/// `petrel_producer_send`.
@_cdecl("petrel_producer_send")
public func petrel_producer_send(
    _ producer: OpaquePointer?, _ message: OpaquePointer?, _ outResult: UnsafeMutablePointer<petrel_send_result>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let (_, running, messageBox) = try sendArguments(producer, message)
        let out = try Arguments.required(outResult, "out_result")
        let outgoing = messageBox.producerMessage
        let result = try blockingSend { () async throws(ClientError) in try await running.send(outgoing) }
        messageBox.setMessageId(result.messageId)
        out.pointee = SendResults.make(result)
    }
}

/// `petrel_producer_send_async`: the callback runs on the producer's callback thread. Argument and
/// state errors (the message's too) are returned here and the callback is not called for them.
@_cdecl("petrel_producer_send_async")
public func petrel_producer_send_async(
    _ producer: OpaquePointer?, _ message: OpaquePointer?, _ callback: petrel_send_callback?, _ userData: UnsafeMutableRawPointer?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let (box, running, messageBox) = try sendArguments(producer, message)
        let function = Unchecked(try Arguments.required(callback, "callback"))
        let context = Unchecked(userData)
        let callbacks = box.callbacks
        let outgoing = messageBox.producerMessage
        do throws(ClientError) {
            try running.checkSendable(outgoing)
        } catch {
            throw CallFailure(error)
        }
        box.inFlight.enter()
        running.sendAsync(outgoing) { [inFlight = box.inFlight] outcome in
            callbacks.post {
                defer { inFlight.leave() }
                switch outcome {
                case .success(let result):
                    var converted = SendResults.make(result)
                    function.value(context.value, PETREL_OK, &converted, LastError.empty)
                case .failure(let error):
                    let failure = CallFailure(error)
                    failure.message.withCString { function.value(context.value, failure.status, nil, $0) }
                }
            }
        }
    }
}

/// `petrel_producer_send_oneway`.
@_cdecl("petrel_producer_send_oneway")
public func petrel_producer_send_oneway(_ producer: OpaquePointer?, _ message: OpaquePointer?) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let (_, running, messageBox) = try sendArguments(producer, message)
        let outgoing = messageBox.producerMessage
        try BlockingCall<Void>.wait { _ async throws(CallFailure) in
            do throws(ClientError) {
                try await running.sendOneway(outgoing)
            } catch {
                throw CallFailure(error)
            }
        }
    }
}

/// `petrel_producer_send_batch`: every message gets its own id.
@_cdecl("petrel_producer_send_batch")
public func petrel_producer_send_batch(
    _ producer: OpaquePointer?, _ messages: UnsafePointer<OpaquePointer?>?, _ count: Int,
    _ outResult: UnsafeMutablePointer<petrel_send_result>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let box = try Handle.require(producer, as: ProducerBox.self, argument: "producer")
        let list = try Arguments.required(messages, "messages")
        let out = try Arguments.required(outResult, "out_result")
        guard count > 0, count <= 1 << 16 else { throw .invalidArgument("count \(count) is not 1 … 65536") }
        var boxes: [MessageBox] = []
        for index in 0..<count {
            boxes.append(try Handle.require(list[index], as: MessageBox.self, argument: "messages[\(index)]"))
        }
        let (running, _) = try box.running()
        let outgoing = boxes.map(\.producerMessage)
        let result = try blockingSend { () async throws(ClientError) in try await running.send(batch: outgoing) }
        let ids = result.messageId.split(separator: ",", omittingEmptySubsequences: false)
        for (messageBox, id) in zip(boxes, ids) { messageBox.setMessageId(String(id)) }
        out.pointee = SendResults.make(result)
    }
}

/// `petrel_producer_send_selected`: the selector runs on the calling thread.
@_cdecl("petrel_producer_send_selected")
public func petrel_producer_send_selected(
    _ producer: OpaquePointer?, _ message: OpaquePointer?, _ selector: petrel_queue_selector?, _ argument: UnsafeRawPointer?,
    _ userData: UnsafeMutableRawPointer?, _ outResult: UnsafeMutablePointer<petrel_send_result>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let (_, running, messageBox) = try sendArguments(producer, message)
        let select = try Arguments.required(selector, "selector")
        let out = try Arguments.required(outResult, "out_result")
        let outgoing = messageBox.producerMessage
        let queues = try BlockingCall<[MessageQueue]>.wait { _ async throws(CallFailure) in
            do throws(ClientError) {
                return try await running.publishQueues(of: outgoing.topic)
            } catch {
                throw CallFailure(error)
            }
        }
        guard !queues.isEmpty, let count = Int32(exactly: queues.count) else { throw CallFailure(PETREL_NO_ROUTE, "no writable queue") }
        let index = select(userData, count, message, argument)
        guard index >= 0, index < count else {
            throw .invalidArgument("the selector returned queue \(index), not in [0, \(count))")
        }
        let queue = queues[Int(index)]
        let result = try blockingSend { () async throws(ClientError) in try await running.send(outgoing, to: queue) }
        messageBox.setMessageId(result.messageId)
        out.pointee = SendResults.make(result)
    }
}

/// `petrel_producer_send_ordered`: the queue at Java's `hash(sharding_key) % queue_count`.
@_cdecl("petrel_producer_send_ordered")
public func petrel_producer_send_ordered(
    _ producer: OpaquePointer?, _ message: OpaquePointer?, _ shardingKey: UnsafePointer<CChar>?,
    _ outResult: UnsafeMutablePointer<petrel_send_result>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let (_, running, messageBox) = try sendArguments(producer, message)
        let key = try Arguments.string(shardingKey, "sharding_key")
        let out = try Arguments.required(outResult, "out_result")
        let outgoing = messageBox.producerMessage
        let result = try blockingSend { () async throws(ClientError) in
            try await running.send(outgoing, selector: HashQueueSelector(), argument: .string(key))
        }
        messageBox.setMessageId(result.messageId)
        out.pointee = SendResults.make(result)
    }
}
