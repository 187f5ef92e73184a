import Foundation

/// Wraps a value that is not `Sendable` (C pointers, C function pointers) to cross into a task.
/// Safe here because the C side owns the pointee and the API documents who may touch it when.
struct Unchecked<Value>: @unchecked Sendable {
    /// The wrapped value.
    var value: Value

    /// Wraps `value`.
    init(_ value: Value) { self.value = value }
}

/// A synchronous C call waiting for asynchronous Swift work.
///
/// The calling thread blocks on a condition until the task finishes. While it waits it also runs
/// jobs the task sends back to it (`onCallerThread`), so a callback documented to run "on the
/// calling thread" (the local transaction) really does. The task runs on Swift's cooperative pool,
/// never on the blocked thread, and C callbacks run on threads of their own, so a blocking call
/// made from a callback cannot starve the pool the call waits for.
final class BlockingCall<Result: Sendable>: @unchecked Sendable {
    /// Guards `outcome` and `jobs`, signals the caller.
    private let condition = NSCondition()
    /// The task's result, once there.
    private var outcome: Swift.Result<Result, CallFailure>?
    /// Work for the caller's thread.
    private var jobs: [() -> Void] = []

    /// Runs `operation` in a task and blocks until it finishes, running jobs it posts meanwhile.
    static func wait(
        _ operation: @escaping @Sendable (BlockingCall<Result>) async throws(CallFailure) -> Result
    ) throws(CallFailure) -> Result {
        let call = BlockingCall<Result>()
        Task {
            let outcome: Swift.Result<Result, CallFailure>
            do throws(CallFailure) {
                outcome = .success(try await operation(call))
            } catch {
                outcome = .failure(error)
            }
            call.finish(outcome)
        }
        return try call.serve().get()
    }

    /// Stores the outcome and wakes the caller.
    private func finish(_ result: Swift.Result<Result, CallFailure>) {
        condition.lock()
        outcome = result
        condition.broadcast()
        condition.unlock()
    }

    /// The caller's loop: runs posted jobs until the outcome arrives.
    private func serve() -> Swift.Result<Result, CallFailure> {
        condition.lock()
        while true {
            if let outcome {
                condition.unlock()
                return outcome
            }
            if !jobs.isEmpty {
                let job = jobs.removeFirst()
                condition.unlock()
                job()
                condition.lock()
                continue
            }
            condition.wait()
        }
    }

    /// Runs `body` on the blocked calling thread and returns its value to the task.
    func onCallerThread<Value: Sendable>(_ body: @escaping () -> Value) async -> Value {
        let work = Unchecked(body)
        return await withCheckedContinuation { continuation in
            condition.lock()
            jobs.append { continuation.resume(returning: work.value()) }
            condition.broadcast()
            condition.unlock()
        }
    }
}

/// Threads of the library that run C callbacks, one first-in-first-out queue for all of them.
///
/// Callbacks never run on Swift's cooperative threads: a callback that blocks (a synchronous send
/// from a message listener) then blocks only its own thread.
final class CallbackThreads: @unchecked Sendable {
    /// Guards `jobs` and `isStopping`, wakes the threads.
    private let condition = NSCondition()
    /// Waiting work.
    private var jobs: [() -> Void] = []
    /// Set by `stop`: threads exit once the queue is empty.
    private var isStopping = false
    /// Starts `count` threads named `name`.
    init(count: Int, name: String) {
        for index in 0..<max(count, 1) {
            let thread = Thread { [self] in runLoop() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Queues `body` for one of the threads.
    func post(_ body: @escaping () -> Void) {
        condition.lock()
        jobs.append(body)
        condition.signal()
        condition.unlock()
    }

    /// Runs `body` on one of the threads and returns its value to the awaiting task.
    func run<Value: Sendable>(_ body: @escaping () -> Value) async -> Value {
        let work = Unchecked(body)
        return await withCheckedContinuation { continuation in
            post { continuation.resume(returning: work.value()) }
        }
    }

    /// Lets the threads finish the queued work and exit.
    func stop() {
        condition.lock()
        isStopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// One thread: takes jobs until stopped and drained.
    private func runLoop() {
        CallbackMarker.set(ObjectIdentifier(self))
        condition.lock()
        while true {
            if !jobs.isEmpty {
                let job = jobs.removeFirst()
                condition.unlock()
                job()
                condition.lock()
            } else if isStopping {
                condition.unlock()
                return
            } else {
                condition.wait()
            }
        }
    }
}

/// Which handle's callback thread the current thread is, so shutdown and destroy can refuse to run
/// on a thread they would have to wait for (they would wait for themselves).
enum CallbackMarker {
    /// Thread-specific value: the owner's ObjectIdentifier bits.
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        _ = pthread_key_create(&key, nil)
        return key
    }()

    /// Marks the current thread as a callback thread of `owner`.
    static func set(_ owner: ObjectIdentifier) {
        _ = pthread_setspecific(key, UnsafeRawPointer(bitPattern: UInt(bitPattern: owner)))
    }

    /// True on the threads of `owner`.
    static func isCallbackThread(of owner: CallbackThreads) -> Bool {
        let marked = UInt(bitPattern: pthread_getspecific(key))
        return marked != 0 && marked == UInt(bitPattern: ObjectIdentifier(owner))
    }
}
