import ServiceLifecycle

/// Consumers as swift-service-lifecycle services: an application runs them in its `ServiceGroup`
/// and they stop cleanly (deliveries finish, offsets committed, group unregistered) on graceful
/// shutdown or cancellation.
extension PushConsumer: Service {
    /// Starts, waits for graceful shutdown (or cancellation of the running task), then shuts down.
    public func run() async throws {
        try await start()
        // Throws CancellationError when the task is cancelled instead; both end in a clean shutdown.
        try? await gracefulShutdown()
        // A fresh task: this one may be cancelled, and cancelled requests could not commit offsets
        // or unregister.
        await Task { await shutdown() }.value
    }
}

extension PullConsumer: Service {
    /// Starts, waits for graceful shutdown (or cancellation of the running task), then shuts down.
    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await Task { await shutdown() }.value
    }
}
