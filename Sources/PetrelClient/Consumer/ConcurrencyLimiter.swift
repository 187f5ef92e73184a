/// An async semaphore: at most `limit` holders at once, the rest wait in arrival order.
/// It bounds how many deliveries run at the same time (`consumeThreadCount`).
actor ConcurrencyLimiter {
    /// Permits available.
    private var available: Int
    /// Waiters in arrival order.
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// A limiter with `limit` (at least 1) permits.
    init(limit: Int) {
        available = max(1, limit)
    }

    /// Takes a permit, waiting for one if none is free.
    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    /// Returns a permit, handing it straight to the longest waiter.
    func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
