/// PetrelClient: the producer, the push and pull consumers and the admin calls, speaking RocketMQ 4.x's
/// remoting protocol to name servers and brokers (Petrel's or any RocketMQ 4.x broker).
///
/// Every public type is configured with a `Sendable` configuration struct; nothing here reads files,
/// flags or the environment.
public enum PetrelClientModule {
    /// The client's version, reported by the C API's `petrel_version()`.
    public static let version = "0.1.0"
}
