import Foundation
import NIOCore
import PetrelClient
import PetrelCore

/// What `petrel_message *` points to: a message the caller builds, or a received one (read-only).
///
/// Readers hand out C strings the box owns. Each is made on first read and kept until the field it
/// shows changes (a setter frees it) or the box goes away, as the header promises.
final class MessageBox: Handle, @unchecked Sendable {
    /// "message".
    override class var kind: String { "message" }

    /// Where a received message was stored.
    struct Delivery {
        /// Queue id.
        var queueId: Int32
        /// Offset in the queue.
        var queueOffset: Int64
        /// Redeliveries so far.
        var reconsumeTimes: Int32
        /// When the producer made it, ms.
        var bornTimestamp: Int64
        /// When the broker stored it, ms.
        var storeTimestamp: Int64
    }

    /// Guards every field and the C views.
    private let lock = NSLock()
    /// The topic.
    private var topic = ""
    /// The tag, "" for none.
    private var tags = ""
    /// Keys as stored: space-separated.
    private var keys = ""
    /// The body bytes.
    private var body: [UInt8] = []
    /// Properties: user properties of a built message, every property of a received one.
    private var properties: [String: String] = [:]
    /// Delay level, 0 for none.
    private var delayLevel: Int32 = 0
    /// Absolute delivery time in ms since the epoch, 0 for none.
    private var deliverTime: Int64 = 0
    /// The message id (UNIQ_KEY), "" before sending.
    private var messageId = ""
    /// Set for received messages, which refuse setters.
    let delivery: Delivery?
    /// C views handed out, by field ("topic", "property:NAME" …).
    private var views: [String: UnsafeMutablePointer<CChar>] = [:]
    /// The body as handed out (malloc'd so it does not move).
    private var bodyView: UnsafeMutableRawPointer?

    /// A message the caller builds.
    init(topic: String) {
        self.topic = topic
        delivery = nil
    }

    /// A received message.
    init(received message: ReceivedMessage) {
        delivery = Delivery(
            queueId: message.queueId, queueOffset: message.queueOffset, reconsumeTimes: message.reconsumeTimes,
            bornTimestamp: message.bornTimestamp, storeTimestamp: message.storeTimestamp)
        super.init()
        load(message.stored.message, id: message.messageId)
    }

    /// A half message a transaction check-back names.
    init(checked message: StoredMessage) {
        delivery = Delivery(
            queueId: message.queueId, queueOffset: message.queueOffset.rawValue, reconsumeTimes: message.reconsumeTimes,
            bornTimestamp: message.bornTimestamp, storeTimestamp: message.storeTimestamp)
        super.init()
        load(message.message, id: message.message.uniqueKey ?? message.offsetMessageId)
    }

    /// Fills the fields from a core message.
    private func load(_ message: Message, id: String) {
        topic = message.topic
        tags = message.tags ?? ""
        keys = message.keys.joined(separator: " ")
        body = Array(buffer: message.body)
        for (name, value) in message.properties { properties[name] = value }
        delayLevel = Int32(message.properties[PropertyKey.delayLevel] ?? "") ?? 0
        messageId = id
    }

    deinit {
        for view in views.values { free(view) }
        free(bodyView)
    }

    /// True for received messages.
    var isReceived: Bool { delivery != nil }

    /// Runs `body` under the lock.
    private func locked<T>(_ body: () throws(CallFailure) -> T) throws(CallFailure) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Changes a field of a built message and drops the C view of `view`.
    func modify(view: String, _ change: (MessageBox) throws(CallFailure) -> Void) throws(CallFailure) {
        guard !isReceived else { throw .invalidState("a received message is read-only") }
        try locked { () throws(CallFailure) in
            try change(self)
            if let old = views.removeValue(forKey: view) { free(old) }
        }
    }

    /// Setters (call through `modify`).
    func assignTags(_ value: String) { tags = value }
    /// Sets the keys.
    func assignKeys(_ value: String) { keys = value }
    /// Sets the body.
    func assignBody(_ value: [UInt8]) {
        body = value
        free(bodyView)
        bodyView = nil
    }
    /// Sets or removes a property.
    func assignProperty(_ name: String, _ value: String) { properties[name] = value }
    /// Sets the delay level.
    func assignDelayLevel(_ value: Int32) { delayLevel = value }
    /// Sets the delivery time.
    func assignDeliverTime(_ value: Int64) { deliverTime = value }

    /// Records the id a send gave the message (the caller is blocked in that send meanwhile).
    func setMessageId(_ id: String) {
        lock.lock()
        defer { lock.unlock() }
        messageId = id
        if let old = views.removeValue(forKey: "id") { free(old) }
    }

    /// The C view of a string field, made once per value.
    private func view(_ name: String, _ value: String) -> UnsafePointer<CChar> {
        lock.lock()
        defer { lock.unlock() }
        if let existing = views[name] { return UnsafePointer(existing) }
        guard let copy = strdup(value) else { return LastError.empty }
        views[name] = copy
        return UnsafePointer(copy)
    }

    /// The topic.
    var topicView: UnsafePointer<CChar> { view("topic", lock.withLock { topic }) }
    /// The tag.
    var tagsView: UnsafePointer<CChar> { view("tags", lock.withLock { tags }) }
    /// The keys.
    var keysView: UnsafePointer<CChar> { view("keys", lock.withLock { keys }) }
    /// The id.
    var idView: UnsafePointer<CChar> { view("id", lock.withLock { messageId }) }

    /// The property's view, nil when there is no such property.
    func propertyView(_ name: String) -> UnsafePointer<CChar>? {
        guard let value = lock.withLock({ properties[name] }) else { return nil }
        return view("property:" + name, value)
    }

    /// How many properties the message has.
    var propertyCount: Int { lock.withLock { properties.count } }

    /// The property at `index` in name order (bytewise ascending, so the order is stable while the
    /// properties do not change): the C views of its name and value, nil past the end.
    func propertyEntry(at index: Int) -> (name: UnsafePointer<CChar>, value: UnsafePointer<CChar>)? {
        let entry: (String, String)? = lock.withLock {
            let names = properties.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            guard index >= 0, index < names.count else { return nil }
            return (names[index], properties[names[index]] ?? "")
        }
        guard let (name, value) = entry else { return nil }
        // A name never changes, so its view lives as long as the box; the value's view is the one
        // petrel_message_property hands out and is replaced when the property is set again.
        return (view("propertyName:" + name, name), view("property:" + name, value))
    }

    /// The body's bytes (never NULL) and length.
    func bodyView(length: inout Int) -> UnsafeRawPointer? {
        lock.lock()
        defer { lock.unlock() }
        length = body.count
        if let bodyView { return UnsafeRawPointer(bodyView) }
        guard let copy = malloc(max(body.count, 1)) else { return nil }
        body.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { copy.copyMemory(from: base, byteCount: bytes.count) }
        }
        bodyView = copy
        return UnsafeRawPointer(copy)
    }

    /// The message to send.
    var producerMessage: ProducerMessage {
        lock.withLock {
            var message = ProducerMessage(
                topic: topic, bytes: body, tags: tags.isEmpty ? nil : tags,
                keys: keys.split(separator: " ").map(String.init), userProperties: properties)
            message.delayLevel = delayLevel
            if deliverTime > 0 { message.userProperties[PropertyKey.timerDeliverMilliseconds] = String(deliverTime) }
            return message
        }
    }
}
