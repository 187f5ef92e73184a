import PetrelCore
import PetrelStore

/// The send-side rules of RocketMQ 5 timer messages (arbitrary-time delivery): which properties ask
/// for a deliver time, how it is validated, and how a message is parked in `rmq_sys_wheel_timer`
/// and released again. `TimerService` does the waiting.
///
/// Precedence follows RocketMQ 5: `TIMER_DELAY_SEC`, then `TIMER_DELAY_MS` (both relative to the
/// broker's clock), then `TIMER_DELIVER_MS`, then the ONS spelling `__STARTDELIVERTIME` (absolute,
/// ms since the epoch). Unlike RocketMQ, the time is not rounded down to a precision: a message is
/// never delivered before the time it asked for.
public enum TimerMessages {
    /// The properties that ask for a deliver time, in precedence order.
    public static let requestKeys = [
        PropertyKey.timerDelaySeconds, PropertyKey.timerDelayMilliseconds, PropertyKey.timerDeliverMilliseconds,
        PropertyKey.startDeliverTime,
    ]

    /// Whether any timer property is present.
    public static func isTimerRequest(_ properties: MessageProperties) -> Bool {
        requestKeys.contains { properties[$0] != nil }
    }

    /// Why a timer request is refused (answered MESSAGE_ILLEGAL, as RocketMQ answers WHEEL_TIMER_MSG_ILLEGAL).
    public struct Refusal: Error, Hashable, Sendable {
        /// The remark sent to the client.
        public var remark: String
    }

    /// The deliver time (ms since the epoch) a message's timer properties ask for, nil when it has
    /// none. A value that is not a whole number, or a time further than `maximumDelaySeconds` after
    /// `now`, is refused with a remark naming the property or the limit. A time at or before `now`
    /// is returned as is (the caller stores such a message normally).
    public static func deliverTime(
        _ properties: MessageProperties, now: Int64, maximumDelaySeconds: Int64
    ) throws(Refusal) -> Int64? {
        guard let key = requestKeys.first(where: { properties[$0] != nil }), let text = properties[key] else { return nil }
        guard let number = Int64(text.trimmingSpaces()) else {
            throw Refusal(remark: "timer message illegal: \(key)='\(text)' is not a whole number of "
                + (key == PropertyKey.timerDelaySeconds ? "seconds" : "milliseconds"))
        }
        let deliverAt: Int64
        var overflow = false
        switch key {
        case PropertyKey.timerDelaySeconds:
            let (milliseconds, multiplied) = number.multipliedReportingOverflow(by: 1000)
            (deliverAt, overflow) = now.addingReportingOverflow(milliseconds)
            overflow = overflow || multiplied
        case PropertyKey.timerDelayMilliseconds:
            (deliverAt, overflow) = now.addingReportingOverflow(number)
        default:
            deliverAt = number
        }
        let maximumMilliseconds = maximumDelaySeconds * 1000
        if overflow || (deliverAt > now && deliverAt - now > maximumMilliseconds) {
            throw Refusal(remark: "timer message illegal: \(key)=\(text) asks for a delay beyond the maximum of "
                + "\(maximumMilliseconds) ms (timerMaxDelaySec=\(maximumDelaySeconds))")
        }
        return deliverAt
    }

    /// `message` parked until `deliverAt`: topic `rmq_sys_wheel_timer` queue 0, `REAL_TOPIC`/`REAL_QID`
    /// and `TIMER_OUT_MS` set. A `DELAY` level on the same message is dropped: the deliver time wins.
    public static func parked(_ message: StoredMessage, deliverAt: Int64) -> StoredMessage {
        var parked = message
        parked.message.properties[PropertyKey.realTopic] = message.message.topic
        parked.message.properties[PropertyKey.realQueueId] = String(message.queueId)
        parked.message.properties[PropertyKey.timerOutMilliseconds] = String(deliverAt)
        parked.message.properties[PropertyKey.delayLevel] = nil
        parked.message.topic = SystemNames.timerTopic
        parked.queueId = 0
        return parked
    }

    /// The deliver time a parked message carries (`TIMER_OUT_MS`); nil when missing or not a number.
    public static func parkedDeliverTime(_ properties: MessageProperties) -> Int64? {
        properties[PropertyKey.timerOutMilliseconds].flatMap { Int64($0) }
    }

    /// The message to store in the real topic: topic and queue from `REAL_TOPIC`/`REAL_QID`, those
    /// two and the request properties removed (so nothing parks it again), `TIMER_OUT_MS` kept as the
    /// record of when it was due; nil when the parked message does not say where it belongs.
    public static func released(_ parked: StoredMessage) -> StoredMessage? {
        ParkedMessage.released(parked, removing: [PropertyKey.realTopic, PropertyKey.realQueueId] + requestKeys)
    }
}

/// Messages parked in a system topic until they are due: delay levels in `SCHEDULE_TOPIC_XXXX`,
/// timers in `rmq_sys_wheel_timer`. Both record where the message belongs in `REAL_TOPIC` and
/// `REAL_QID` and are stored again there, unchanged but for a few properties, when due.
enum ParkedMessage {
    /// The message to store in its real topic and queue, with the properties named in `removing`
    /// taken out and `WAIT` set to false (a re-stored message never waits for a flush: nobody is
    /// waiting for its acknowledgement, and Java does the same); nil when the parked message does not
    /// say where it belongs.
    static func released(_ parked: StoredMessage, removing keys: [String]) -> StoredMessage? {
        let properties = parked.message.properties
        guard let topic = properties[PropertyKey.realTopic], !topic.isEmpty,
              let queueText = properties[PropertyKey.realQueueId], let queueId = Int32(queueText), queueId >= 0 else { return nil }
        var message = StoredMessage(
            message: Message(topic: topic, flag: parked.message.flag, properties: properties, body: parked.message.body),
            queueId: queueId, sysFlag: parked.sysFlag, bornTimestamp: parked.bornTimestamp, bornHost: parked.bornHost,
            reconsumeTimes: parked.reconsumeTimes, preparedTransactionOffset: parked.preparedTransactionOffset)
        for key in keys { message.message.properties[key] = nil }
        message.message.properties[PropertyKey.waitStoreMessageOK] = "false"
        return message
    }
}
