import Foundation
import Logging
import ServiceLifecycle

/// Runs retention and the disk check every `cleanInterval` until graceful shutdown.
public struct CleanService: Service {
    /// The store cleaned.
    let store: MessageStore

    /// Creates the service for `store`.
    public init(store: MessageStore) { self.store = store }

    /// The loop; a failed round is logged and the next round tries again.
    public func run() async throws {
        let store = store
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let now = Date()
                let hour = Calendar.current.component(.hour, from: now)
                do {
                    _ = try store.runRetention(nowMilliseconds: Int64(now.timeIntervalSince1970 * 1000), hourOfDay: hour)
                } catch {
                    store.logger.error("retention round failed: \(error)")
                }
                do { try await Task.sleep(for: store.configuration.cleanInterval) } catch is CancellationError {
                    // Graceful shutdown cancels the sleep: that is the normal way out.
                    return
                }
            }
        }
    }
}

/// Keeps the store open while the service group runs and closes it on graceful shutdown:
/// stop the threads, flush, checkpoint, remove the abort marker.
public struct MessageStoreService: Service {
    /// The store.
    let store: MessageStore

    /// Creates the service for `store`.
    public init(store: MessageStore) { self.store = store }

    /// Waits for graceful shutdown (or cancellation), then closes the store.
    public func run() async throws {
        try? await gracefulShutdown()
        try store.close()
    }
}
