import ServiceLifecycle

/// A client instance's background work (Java `MQClientInstance.startScheduledTask`): every
/// `pollNameServerInterval` the routes of the known topics are fetched again, every
/// `heartbeatBrokerInterval` every known broker gets a heartbeat.
///
/// `ClientInstance.start()` runs it in a task of its own; it is also a `Service`, so an application
/// can run it under a `ServiceGroup` instead (it then stops on graceful shutdown).
public struct ClientMaintenance: Service {
    /// The instance maintained.
    public let instance: ClientInstance

    /// The maintenance of `instance`.
    public init(instance: ClientInstance) {
        self.instance = instance
    }

    /// Runs the loops until graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown { await runLoops() }
    }

    /// Runs both loops until the task is cancelled.
    func runLoops() async {
        let configuration = instance.configuration
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await Self.repeatEvery(configuration.pollNameServerInterval) { await instance.refreshAllRoutes() } }
            group.addTask { await Self.repeatEvery(configuration.heartbeatBrokerInterval) { await instance.sendHeartbeatToAllBrokers() } }
        }
    }

    /// Runs `work` after each `interval` until cancelled.
    static func repeatEvery(_ interval: Duration, _ work: @Sendable () async -> Void) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            await work()
        }
    }
}
