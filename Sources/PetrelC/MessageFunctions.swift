import CPetrel
import Foundation

/// `petrel_message_create`: a new message for `topic` in `*out_message`.
@_cdecl("petrel_message_create")
public func petrel_message_create(
    _ topic: UnsafePointer<CChar>?, _ outMessage: UnsafeMutablePointer<OpaquePointer?>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let out = try Arguments.required(outMessage, "out_message")
        let name = try Arguments.string(topic, "topic")
        out.pointee = MessageBox(topic: name).retainedPointer()
    }
}

/// `petrel_message_destroy`: releases a message the caller created; NULL is ignored.
@_cdecl("petrel_message_destroy")
public func petrel_message_destroy(_ message: OpaquePointer?) {
    guard let message else { return }
    if let box = Handle.resolve(message, as: MessageBox.self), box.isReceived {
        CallBoundary.note("petrel_message_destroy: received messages belong to the library; not destroyed")
        return
    }
    if !Handle.release(message) { CallBoundary.note("petrel_message_destroy: not a live petrel_message") }
}

/// The built (not received) message `message` names.
private func writable(_ message: OpaquePointer?) throws(CallFailure) -> MessageBox {
    try Handle.require(message, as: MessageBox.self, argument: "message")
}

/// `petrel_message_set_tags`.
@_cdecl("petrel_message_set_tags")
public func petrel_message_set_tags(_ message: OpaquePointer?, _ tags: UnsafePointer<CChar>?) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let box = try writable(message)
        let value = try Arguments.string(tags, "tags", allowEmpty: true)
        try box.modify(view: "tags") { $0.assignTags(value) }
    }
}

/// `petrel_message_set_keys`.
@_cdecl("petrel_message_set_keys")
public func petrel_message_set_keys(_ message: OpaquePointer?, _ keys: UnsafePointer<CChar>?) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let box = try writable(message)
        let value = try Arguments.string(keys, "keys", allowEmpty: true)
        try box.modify(view: "keys") { $0.assignKeys(value) }
    }
}

/// `petrel_message_set_body`: copies `length` bytes.
@_cdecl("petrel_message_set_body")
public func petrel_message_set_body(_ message: OpaquePointer?, _ body: UnsafeRawPointer?, _ length: Int) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let box = try writable(message)
        guard length >= 0, length <= Int(Int32.max) else { throw .invalidArgument("body length \(length) is out of range") }
        guard let body else {
            guard length == 0 else { throw .invalidArgument("body is NULL but length is \(length)") }
            try box.modify(view: "body") { $0.assignBody([]) }
            return
        }
        let bytes = Array(UnsafeRawBufferPointer(start: body, count: length))
        try box.modify(view: "body") { $0.assignBody(bytes) }
    }
}

/// `petrel_message_set_property`: a user property; reserved names are refused.
@_cdecl("petrel_message_set_property")
public func petrel_message_set_property(
    _ message: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ value: UnsafePointer<CChar>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let box = try writable(message)
        let key = try Arguments.string(name, "name")
        let text = try Arguments.string(value, "value")
        // Names RocketMQ reserves for itself are refused by the producer when the message is sent.
        for character in [key, text].joined().utf8 where character == 1 || character == 2 {
            throw .invalidArgument("property names and values may not contain the bytes 0x01 and 0x02 (the wire's separators)")
        }
        try box.modify(view: "property:" + key) { $0.assignProperty(key, text) }
    }
}

/// `petrel_message_set_delay_level`: 1 … 18, 0 clears.
@_cdecl("petrel_message_set_delay_level")
public func petrel_message_set_delay_level(_ message: OpaquePointer?, _ level: Int32) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let box = try writable(message)
        guard (0...18).contains(level) else { throw .invalidArgument("delay level \(level) is not 0 … 18") }
        try box.modify(view: "delay") { $0.assignDelayLevel(level) }
    }
}

/// `petrel_message_set_deliver_time`: ms since the epoch, 0 clears.
@_cdecl("petrel_message_set_deliver_time")
public func petrel_message_set_deliver_time(_ message: OpaquePointer?, _ epochMilliseconds: Int64) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let box = try writable(message)
        guard epochMilliseconds >= 0 else { throw .invalidArgument("deliver time \(epochMilliseconds) is negative") }
        try box.modify(view: "deliver") { $0.assignDeliverTime(epochMilliseconds) }
    }
}

/// The message `message` names for a reader; nil (and a last error) when it is not one.
private func readable(_ message: OpaquePointer?, _ function: String) -> MessageBox? {
    guard let box = Handle.resolve(message, as: MessageBox.self) else {
        CallBoundary.note("\(function): message is NULL or not a live petrel_message")
        return nil
    }
    return box
}

/// `petrel_message_topic`; NULL for a bad handle.
@_cdecl("petrel_message_topic")
public func petrel_message_topic(_ message: OpaquePointer?) -> UnsafePointer<CChar>? {
    readable(message, "petrel_message_topic")?.topicView
}

/// `petrel_message_tags`; "" when none, NULL for a bad handle.
@_cdecl("petrel_message_tags")
public func petrel_message_tags(_ message: OpaquePointer?) -> UnsafePointer<CChar>? {
    readable(message, "petrel_message_tags")?.tagsView
}

/// `petrel_message_keys`; "" when none, NULL for a bad handle.
@_cdecl("petrel_message_keys")
public func petrel_message_keys(_ message: OpaquePointer?) -> UnsafePointer<CChar>? {
    readable(message, "petrel_message_keys")?.keysView
}

/// `petrel_message_body`: the bytes, and their count in `*out_length` when it is not NULL.
@_cdecl("petrel_message_body")
public func petrel_message_body(_ message: OpaquePointer?, _ outLength: UnsafeMutablePointer<Int>?) -> UnsafeRawPointer? {
    outLength?.pointee = 0
    guard let box = readable(message, "petrel_message_body") else { return nil }
    var length = 0
    let bytes = box.bodyView(length: &length)
    outLength?.pointee = length
    return bytes
}

/// `petrel_message_property`: the value, NULL when absent (or for bad arguments).
@_cdecl("petrel_message_property")
public func petrel_message_property(_ message: OpaquePointer?, _ name: UnsafePointer<CChar>?) -> UnsafePointer<CChar>? {
    guard let box = readable(message, "petrel_message_property") else { return nil }
    do throws(CallFailure) {
        return box.propertyView(try Arguments.string(name, "name"))
    } catch {
        CallBoundary.note("petrel_message_property: \(error.message)")
        return nil
    }
}

/// `petrel_message_id`: the UNIQ_KEY, "" before sending.
@_cdecl("petrel_message_id")
public func petrel_message_id(_ message: OpaquePointer?) -> UnsafePointer<CChar>? {
    readable(message, "petrel_message_id")?.idView
}

/// `petrel_message_queue_id`: -1 for built messages and bad handles.
@_cdecl("petrel_message_queue_id")
public func petrel_message_queue_id(_ message: OpaquePointer?) -> Int32 {
    readable(message, "petrel_message_queue_id")?.delivery?.queueId ?? -1
}

/// `petrel_message_queue_offset`: -1 for built messages and bad handles.
@_cdecl("petrel_message_queue_offset")
public func petrel_message_queue_offset(_ message: OpaquePointer?) -> Int64 {
    readable(message, "petrel_message_queue_offset")?.delivery?.queueOffset ?? -1
}

/// `petrel_message_reconsume_times`: -1 for built messages and bad handles.
@_cdecl("petrel_message_reconsume_times")
public func petrel_message_reconsume_times(_ message: OpaquePointer?) -> Int32 {
    readable(message, "petrel_message_reconsume_times")?.delivery?.reconsumeTimes ?? -1
}

/// `petrel_message_born_timestamp`: -1 for built messages and bad handles.
@_cdecl("petrel_message_born_timestamp")
public func petrel_message_born_timestamp(_ message: OpaquePointer?) -> Int64 {
    readable(message, "petrel_message_born_timestamp")?.delivery?.bornTimestamp ?? -1
}

/// `petrel_message_store_timestamp`: -1 for built messages and bad handles.
@_cdecl("petrel_message_store_timestamp")
public func petrel_message_store_timestamp(_ message: OpaquePointer?) -> Int64 {
    readable(message, "petrel_message_store_timestamp")?.delivery?.storeTimestamp ?? -1
}
