import PetrelCore
import PetrelStore

/// The timer-message check of SEND_MESSAGE (RocketMQ 5 arbitrary-time delivery).
extension BrokerRequestHandler {
    /// The future deliver time a send's timer properties ask for; nil when it has none, when the
    /// time has already come (the message is stored normally) or when `timerWheelEnable` is off.
    /// A bad value or a delay beyond `timerMaxDelaySec` is answered MESSAGE_ILLEGAL with a remark
    /// naming the property or the limit, as RocketMQ answers WHEEL_TIMER_MSG_ILLEGAL.
    func timerDeliverTime(_ properties: MessageProperties, isHalf: Bool) throws(RequestFailure) -> Int64? {
        guard configuration.timerWheelEnable, TimerMessages.isTimerRequest(properties) else { return nil }
        if isHalf {
            throw RequestFailure(.messageIllegal, "timer message illegal: a transactional half message cannot carry a deliver time")
        }
        let now = System.nowMilliseconds()
        let deliverAt: Int64?
        do {
            deliverAt = try TimerMessages.deliverTime(properties, now: now, maximumDelaySeconds: configuration.timerMaxDelaySeconds)
        } catch {
            throw RequestFailure(.messageIllegal, error.remark)
        }
        guard let deliverAt, deliverAt > now else { return nil }
        return deliverAt
    }
}
