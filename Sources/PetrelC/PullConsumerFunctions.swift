import CPetrel
import PetrelClient
import PetrelCore

/// The pull consumer options' defaults and their conversion.
enum PullConsumerOptions {
    /// What `petrel_pull_consumer_options_init` writes.
    static var defaults: petrel_pull_consumer_options {
        var options = petrel_pull_consumer_options()
        options.size = UInt32(MemoryLayout<petrel_pull_consumer_options>.size)
        options.consume_from = PETREL_CONSUME_FROM_LAST_OFFSET
        return options
    }

    /// A validated configuration (subscriptions come later).
    static func configuration(_ options: petrel_pull_consumer_options) throws(CallFailure) -> PullConsumerConfiguration {
        let client = try ClientOptions.configuration(nameServers: options.name_servers, instanceName: options.instance_name)
        var configuration = PullConsumerConfiguration(group: try ConsumerOptions.group(options.group), client: client)
        configuration.consumeFromWhere = try ConsumerOptions.consumeFrom(options.consume_from)
        configuration.consumeTimestamp = options.consume_timestamp
        configuration.compression = try PluginOptions.compression(
            options.compressor_plugin, config: options.compressor_plugin_config, directory: options.plugin_directory)
        return configuration
    }
}

/// `petrel_pull_consumer_options_init`.
@_cdecl("petrel_pull_consumer_options_init")
public func petrel_pull_consumer_options_init(_ options: UnsafeMutablePointer<petrel_pull_consumer_options>?) {
    guard let options else {
        CallBoundary.note("petrel_pull_consumer_options_init: options is NULL")
        return
    }
    options.pointee = PullConsumerOptions.defaults
}

/// `petrel_pull_consumer_create`.
@_cdecl("petrel_pull_consumer_create")
public func petrel_pull_consumer_create(
    _ options: UnsafePointer<petrel_pull_consumer_options>?, _ outConsumer: UnsafeMutablePointer<OpaquePointer?>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let out = try Arguments.required(outConsumer, "out_consumer")
        let values = try Arguments.options(options, defaults: PullConsumerOptions.defaults, argument: "options")
        let configuration = try PullConsumerOptions.configuration(values)
        let timeout: Duration? = values.poll_timeout_milliseconds == 0 ? nil : .milliseconds(Int64(values.poll_timeout_milliseconds))
        out.pointee = PullConsumerBox(configuration: configuration, pollTimeout: timeout).retainedPointer()
    }
}

/// `petrel_pull_consumer_start`.
@_cdecl("petrel_pull_consumer_start")
public func petrel_pull_consumer_start(_ consumer: OpaquePointer?) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        try Handle.require(consumer, as: PullConsumerBox.self, argument: "consumer").start()
    }
}

/// `petrel_pull_consumer_shutdown`.
@_cdecl("petrel_pull_consumer_shutdown")
public func petrel_pull_consumer_shutdown(_ consumer: OpaquePointer?) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        try Handle.require(consumer, as: PullConsumerBox.self, argument: "consumer").shutdown()
    }
}

/// `petrel_pull_consumer_destroy`: shuts down if needed and releases; NULL is ignored.
@_cdecl("petrel_pull_consumer_destroy")
public func petrel_pull_consumer_destroy(_ consumer: OpaquePointer?) {
    guard let consumer else { return }
    guard let box = Handle.resolve(consumer, as: PullConsumerBox.self) else {
        CallBoundary.note("petrel_pull_consumer_destroy: not a live petrel_pull_consumer")
        return
    }
    do throws(CallFailure) {
        try box.shutdown()
    } catch {
        CallBoundary.note("petrel_pull_consumer_destroy: \(error.message)")
    }
    _ = Handle.release(consumer)
}

/// `petrel_pull_consumer_fetch_queues`: the topic's readable queues into the caller's array.
@_cdecl("petrel_pull_consumer_fetch_queues")
public func petrel_pull_consumer_fetch_queues(
    _ consumer: OpaquePointer?, _ topic: UnsafePointer<CChar>?, _ queues: UnsafeMutablePointer<petrel_queue>?, _ capacity: Int,
    _ outCount: UnsafeMutablePointer<Int>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let box = try Handle.require(consumer, as: PullConsumerBox.self, argument: "consumer")
        let name = try Arguments.string(topic, "topic")
        let count = try Arguments.required(outCount, "out_count")
        guard queues != nil || capacity == 0 else { throw .invalidArgument("queues is NULL but capacity is \(capacity)") }
        let running = try box.running()
        let found = try PullConsumerBox.wait { () async throws(ClientError) in try await running.fetchQueues(topic: name) }
        count.pointee = found.count
        guard found.count <= capacity, let queues else {
            throw CallFailure(PETREL_BUFFER_TOO_SMALL, "topic \(name) has \(found.count) queues; capacity is \(capacity)")
        }
        for (index, queue) in found.enumerated() { queues[index] = Queues.c(queue) }
    }
}

/// `petrel_pull_consumer_pull`: one pull; PETREL_NO_MESSAGE (with a result) when nothing matched.
@_cdecl("petrel_pull_consumer_pull")
public func petrel_pull_consumer_pull(
    _ consumer: OpaquePointer?, _ queue: UnsafePointer<petrel_queue>?, _ expression: UnsafePointer<CChar>?, _ offset: Int64,
    _ maxMessages: Int32, _ outResult: UnsafeMutablePointer<OpaquePointer?>?
) -> petrel_status {
    CallBoundary.runReturningStatus { () throws(CallFailure) in
        let box = try Handle.require(consumer, as: PullConsumerBox.self, argument: "consumer")
        let target = try Queues.swift(try Arguments.required(queue, "queue").pointee)
        let filter = try Arguments.string(expression, "expression")
        let out = try Arguments.required(outResult, "out_result")
        guard offset >= 0 else { throw .invalidArgument("offset \(offset) is negative") }
        guard (1...1024).contains(maxMessages) else { throw .invalidArgument("max_messages \(maxMessages) is not 1 … 1024") }
        let running = try box.running()
        let suspend = box.pollTimeout
        let result = try PullConsumerBox.wait { () async throws(ClientError) in
            try await running.pull(queue: target, offset: offset, maxMessages: Int(maxMessages), expression: filter, suspend: suspend)
        }
        out.pointee = PullResultBox(received: result.messages, nextOffset: result.nextBeginOffset).retainedPointer()
        return result.messages.isEmpty ? PETREL_NO_MESSAGE : PETREL_OK
    }
}

/// `petrel_pull_consumer_subscribe`: before start.
@_cdecl("petrel_pull_consumer_subscribe")
public func petrel_pull_consumer_subscribe(
    _ consumer: OpaquePointer?, _ topic: UnsafePointer<CChar>?, _ expression: UnsafePointer<CChar>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let box = try Handle.require(consumer, as: PullConsumerBox.self, argument: "consumer")
        try box.subscribe(topic: try Arguments.string(topic, "topic"), expression: try Arguments.string(expression, "expression"))
    }
}

/// `petrel_pull_consumer_poll`: messages from the assigned queues; PETREL_NO_MESSAGE (with an empty result) on time-out.
@_cdecl("petrel_pull_consumer_poll")
public func petrel_pull_consumer_poll(
    _ consumer: OpaquePointer?, _ timeoutMilliseconds: UInt32, _ outResult: UnsafeMutablePointer<OpaquePointer?>?
) -> petrel_status {
    CallBoundary.runReturningStatus { () throws(CallFailure) in
        let box = try Handle.require(consumer, as: PullConsumerBox.self, argument: "consumer")
        let out = try Arguments.required(outResult, "out_result")
        let running = try box.running()
        guard !running.configuration.subscriptions.isEmpty else {
            throw .invalidState("poll needs a subscription: call petrel_pull_consumer_subscribe before start")
        }
        let timeout = Duration.milliseconds(Int64(timeoutMilliseconds))
        let messages = try PullConsumerBox.wait { () async throws(ClientError) in try await running.poll(timeout: timeout) }
        out.pointee = PullResultBox(received: messages, nextOffset: -1).retainedPointer()
        return messages.isEmpty ? PETREL_NO_MESSAGE : PETREL_OK
    }
}

/// `petrel_pull_consumer_commit`: stores the group's offset of `queue` now.
@_cdecl("petrel_pull_consumer_commit")
public func petrel_pull_consumer_commit(_ consumer: OpaquePointer?, _ queue: UnsafePointer<petrel_queue>?, _ offset: Int64) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let box = try Handle.require(consumer, as: PullConsumerBox.self, argument: "consumer")
        let target = try Queues.swift(try Arguments.required(queue, "queue").pointee)
        guard offset >= 0 else { throw .invalidArgument("offset \(offset) is negative") }
        let running = try box.running()
        try PullConsumerBox.wait { () async throws(ClientError) in try await running.commitOffset(offset, of: target) }
    }
}

/// The result `result` names, for readers; nil (and a last error) when it is not one.
private func readableResult(_ result: OpaquePointer?, _ function: String) -> PullResultBox? {
    guard let box = Handle.resolve(result, as: PullResultBox.self) else {
        CallBoundary.note("\(function): result is NULL or not a live petrel_pull_result")
        return nil
    }
    return box
}

/// `petrel_pull_result_count`: 0 for a bad handle.
@_cdecl("petrel_pull_result_count")
public func petrel_pull_result_count(_ result: OpaquePointer?) -> Int {
    readableResult(result, "petrel_pull_result_count")?.messages.count ?? 0
}

/// `petrel_pull_result_message`: NULL for a bad handle or index.
@_cdecl("petrel_pull_result_message")
public func petrel_pull_result_message(_ result: OpaquePointer?, _ index: Int) -> OpaquePointer? {
    guard let box = readableResult(result, "petrel_pull_result_message") else { return nil }
    guard index >= 0, index < box.messages.count else {
        CallBoundary.note("petrel_pull_result_message: index \(index) is not below the count \(box.messages.count)")
        return nil
    }
    return box.messages[index]
}

/// `petrel_pull_result_next_offset`: -1 for a bad handle and for poll results.
@_cdecl("petrel_pull_result_next_offset")
public func petrel_pull_result_next_offset(_ result: OpaquePointer?) -> Int64 {
    readableResult(result, "petrel_pull_result_next_offset")?.nextOffset ?? -1
}

/// `petrel_pull_result_destroy`: releases the result and its messages; NULL is ignored.
@_cdecl("petrel_pull_result_destroy")
public func petrel_pull_result_destroy(_ result: OpaquePointer?) {
    guard let result else { return }
    guard let box = Handle.resolve(result, as: PullResultBox.self) else {
        CallBoundary.note("petrel_pull_result_destroy: not a live petrel_pull_result")
        return
    }
    box.releaseMessages()
    _ = Handle.release(result)
}
