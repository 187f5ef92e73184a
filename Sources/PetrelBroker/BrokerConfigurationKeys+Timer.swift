/// The `broker.conf` keys of arbitrary-time delivery (RocketMQ 5 timer messages), kept apart from
/// the main table so that table stays one list of the 4.x keys.
extension BrokerConfigurationKeys {
    /// `timerWheelEnable` and `timerMaxDelaySec` (1 s … 10 years).
    static let timerSetters: [String: Setter] = [
        "timerWheelEnable": { $0.timerWheelEnable = try boolean($1, "timerWheelEnable") },
        "timerMaxDelaySec": { $0.timerMaxDelaySeconds = try integer($1, "timerMaxDelaySec", 1...(10 * 365 * 86_400)) },
    ]
}
