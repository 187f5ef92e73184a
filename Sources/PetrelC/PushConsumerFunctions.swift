import CPetrel
import PetrelClient
import PetrelCore

/// The push consumer options' defaults and their conversion.
enum PushConsumerOptions {
    /// What `petrel_push_consumer_options_init` writes.
    static var defaults: petrel_push_consumer_options {
        var options = petrel_push_consumer_options()
        options.size = UInt32(MemoryLayout<petrel_push_consumer_options>.size)
        options.message_model = PETREL_CLUSTERING
        options.consume_from = PETREL_CONSUME_FROM_LAST_OFFSET
        options.thread_count = 4
        options.batch_max_size = 1
        options.max_reconsume_times = 16
        return options
    }

    /// A validated configuration (subscriptions come later).
    static func configuration(_ options: petrel_push_consumer_options) throws(CallFailure) -> PushConsumerConfiguration {
        let client = try ClientOptions.configuration(nameServers: options.name_servers, instanceName: options.instance_name)
        var configuration = PushConsumerConfiguration(group: try ConsumerOptions.group(options.group), client: client)
        switch options.message_model {
        case PETREL_CLUSTERING: configuration.messageModel = .clustering
        case PETREL_BROADCASTING: configuration.messageModel = .broadcasting
        default: throw .invalidArgument("options->message_model \(options.message_model.rawValue) is not a petrel_message_model value")
        }
        configuration.consumeFromWhere = try ConsumerOptions.consumeFrom(options.consume_from)
        if options.consume_from == PETREL_CONSUME_FROM_TIMESTAMP { configuration.consumeTimestamp = options.consume_timestamp }
        guard (1...1024).contains(options.thread_count) else { throw .invalidArgument("options->thread_count \(options.thread_count) is not 1 … 1024") }
        configuration.consumeThreadCount = Int(options.thread_count)
        guard (1...1024).contains(options.batch_max_size) else {
            throw .invalidArgument("options->batch_max_size \(options.batch_max_size) is not 1 … 1024")
        }
        configuration.consumeMessageBatchMaxSize = Int(options.batch_max_size)
        guard options.max_reconsume_times >= 0 else { throw .invalidArgument("options->max_reconsume_times is negative") }
        configuration.maxReconsumeTimes = options.max_reconsume_times
        configuration.allocationStrategy = try ConsumerOptions.allocation(options.allocation)
        if let plugin = try PluginOptions.allocation(
            options.allocation_plugin, config: options.allocation_plugin_config, directory: options.plugin_directory) {
            configuration.allocationStrategy = plugin
        }
        configuration.compression = try PluginOptions.compression(
            options.compressor_plugin, config: options.compressor_plugin_config, directory: options.plugin_directory)
        return configuration
    }
}

/// `petrel_push_consumer_options_init`.
@_cdecl("petrel_push_consumer_options_init")
public func petrel_push_consumer_options_init(_ options: UnsafeMutablePointer<petrel_push_consumer_options>?) {
    guard let options else {
        CallBoundary.note("petrel_push_consumer_options_init: options is NULL")
        return
    }
    options.pointee = PushConsumerOptions.defaults
}

/// `petrel_push_consumer_create`.
@_cdecl("petrel_push_consumer_create")
public func petrel_push_consumer_create(
    _ options: UnsafePointer<petrel_push_consumer_options>?, _ outConsumer: UnsafeMutablePointer<OpaquePointer?>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let out = try Arguments.required(outConsumer, "out_consumer")
        let values = try Arguments.options(options, defaults: PushConsumerOptions.defaults, argument: "options")
        let configuration = try PushConsumerOptions.configuration(values)
        out.pointee = PushConsumerBox(configuration: configuration, isOrderly: values.orderly != 0).retainedPointer()
    }
}

/// `petrel_push_consumer_subscribe`: before start.
@_cdecl("petrel_push_consumer_subscribe")
public func petrel_push_consumer_subscribe(
    _ consumer: OpaquePointer?, _ topic: UnsafePointer<CChar>?, _ expression: UnsafePointer<CChar>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let box = try Handle.require(consumer, as: PushConsumerBox.self, argument: "consumer")
        let name = try Arguments.string(topic, "topic")
        let filter = try Arguments.string(expression, "expression")
        try box.beforeStart { subscriptions, _ in subscriptions[name] = filter }
    }
}

/// `petrel_push_consumer_set_listener`: before start.
@_cdecl("petrel_push_consumer_set_listener")
public func petrel_push_consumer_set_listener(
    _ consumer: OpaquePointer?, _ listener: petrel_message_listener?, _ userData: UnsafeMutableRawPointer?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let box = try Handle.require(consumer, as: PushConsumerBox.self, argument: "consumer")
        let function = try Arguments.required(listener, "listener")
        try box.beforeStart { _, current in current = PushConsumerBox.Listener(function: function, userData: userData) }
    }
}

/// `petrel_push_consumer_start`.
@_cdecl("petrel_push_consumer_start")
public func petrel_push_consumer_start(_ consumer: OpaquePointer?) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        try Handle.require(consumer, as: PushConsumerBox.self, argument: "consumer").start()
    }
}

/// `petrel_push_consumer_shutdown`.
@_cdecl("petrel_push_consumer_shutdown")
public func petrel_push_consumer_shutdown(_ consumer: OpaquePointer?) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        try Handle.require(consumer, as: PushConsumerBox.self, argument: "consumer").shutdown()
    }
}

/// `petrel_push_consumer_destroy`: shuts down if needed and releases; NULL is ignored.
@_cdecl("petrel_push_consumer_destroy")
public func petrel_push_consumer_destroy(_ consumer: OpaquePointer?) {
    guard let consumer else { return }
    guard let box = Handle.resolve(consumer, as: PushConsumerBox.self) else {
        CallBoundary.note("petrel_push_consumer_destroy: not a live petrel_push_consumer")
        return
    }
    do throws(CallFailure) {
        try box.shutdown()
    } catch {
        CallBoundary.note("petrel_push_consumer_destroy: \(error.message); not destroyed")
        return
    }
    box.callbacks.stop()
    _ = Handle.release(consumer)
}
