/// A consumer-side failure described in words; thrown until the module's `ClientError` is available.
struct ConsumerFailure: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    var description: String

    /// A failure described by `description`.
    init(_ description: String) { self.description = description }
}
