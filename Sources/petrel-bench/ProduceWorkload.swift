import ArgumentParser
import NIOCore
import PetrelClient
import PetrelStore
import Synchronization

/// How `produce` sends.
enum SendMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// `send` and wait for the answer; `--in-flight` tasks per producer do so concurrently.
    case sync
    /// `sendAsync` with a completion; one loop per producer keeps `--in-flight` sends outstanding.
    case async
    /// `send(batch:)` of `--batch` messages; `--in-flight` batches outstanding per producer.
    case batch
}

/// What one `produce` run does.
struct ProducePlan: Sendable {
    /// The topic.
    let topic: String
    /// The bodies, made before the run.
    let payload: PayloadPool
    /// Messages over all producers.
    let messageCount: Int
    /// How sends are issued.
    let mode: SendMode
    /// Outstanding sends (batches in batch mode) per producer.
    let inFlight: Int
    /// Messages per batch (batch mode).
    let batchSize: Int
}

/// The shared position in the message sequence: every task claims the next indices from it, so
/// the work spreads over producers by who is fastest and the total is exact.
final class MessageSequence: Sendable {
    /// The next unclaimed index.
    private let next = Atomic<Int>(0)
    /// The number of messages.
    let count: Int

    /// A sequence of `count` messages.
    init(count: Int) { self.count = count }

    /// Claims up to `size` consecutive indices; nil once all are claimed.
    func claim(_ size: Int) -> Range<Int>? {
        let start = next.wrappingAdd(size, ordering: .relaxed).oldValue
        guard start < count else { return nil }
        return start..<min(start + size, count)
    }
}

/// Limits the sends one producer has outstanding in async mode. Only the producer's own loop waits,
/// so at most one waiter exists; the completions release.
final class SendWindow: Sendable {
    /// Free permits and the waiting loop, if any.
    private struct State {
        /// Permits not taken.
        var available: Int
        /// The loop waiting for a permit.
        var waiter: UnsafeContinuation<Void, Never>?
    }

    /// The state.
    private let state: Mutex<State>

    /// A window of `size` permits.
    init(size: Int) { state = Mutex(State(available: size, waiter: nil)) }

    /// Takes a permit, waiting for a completion when none is free.
    func acquire() async {
        let taken = state.withLock { state -> Bool in
            guard state.available > 0 else { return false }
            state.available -= 1
            return true
        }
        if taken { return }
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Returns a permit, handing it straight to the waiting loop when there is one.
    func release() {
        let waiter = state.withLock { state -> UnsafeContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.available += 1
            return nil
        }
        waiter?.resume()
    }
}

/// Drives the producers of one run.
enum ProduceWorkload {
    /// Sends the plan's messages through `producers`; returns when every send has completed.
    static func run(_ plan: ProducePlan, producers: [Producer], counters: RunCounters, latencies: LatencySlots) async {
        let sequence = MessageSequence(count: plan.messageCount)
        // Built before the clock starts: message i is messages[i % count]. ByteBuffer is
        // copy-on-write and the client only reads it, so sends share the pool's storage.
        let messages = plan.payload.bodies.map { ProducerMessage(topic: plan.topic, body: $0) }
        await withTaskGroup(of: Void.self) { group in
            for producer in producers {
                switch plan.mode {
                case .async:
                    group.addTask {
                        await asyncLoop(producer, messages: messages, plan: plan, sequence: sequence, counters: counters, latencies: latencies)
                    }
                case .sync, .batch:
                    for _ in 0..<plan.inFlight {
                        group.addTask {
                            await blockingLoop(producer, messages: messages, plan: plan, sequence: sequence, counters: counters, latencies: latencies)
                        }
                    }
                }
            }
        }
    }

    /// One of `--in-flight` tasks of a producer: claims a message (or a batch), sends it, waits.
    static func blockingLoop(
        _ producer: Producer, messages: [ProducerMessage], plan: ProducePlan, sequence: MessageSequence,
        counters: RunCounters, latencies: LatencySlots
    ) async {
        let claimSize = plan.mode == .batch ? plan.batchSize : 1
        while let range = sequence.claim(claimSize) {
            let started = System.monotonicNanoseconds()
            do throws(ClientError) {
                let result: SendResult
                if plan.mode == .batch {
                    result = try await producer.send(batch: range.map { messages[$0 % messages.count] })
                } else {
                    result = try await producer.send(messages[range.lowerBound % messages.count])
                }
                if result.status != .sendOK {
                    counters.recordFailure(count: range.count, "send status \(result.status.rawValue)")
                }
                latencies.record(System.monotonicNanoseconds() - started, in: range)
            } catch {
                counters.recordFailure(count: range.count, error.description)
            }
            counters.completed.wrappingAdd(range.count, ordering: .relaxed)
        }
    }

    /// A producer's async loop: keeps `--in-flight` `sendAsync`s outstanding until all are claimed,
    /// then waits for the last completions.
    static func asyncLoop(
        _ producer: Producer, messages: [ProducerMessage], plan: ProducePlan, sequence: MessageSequence,
        counters: RunCounters, latencies: LatencySlots
    ) async {
        let window = SendWindow(size: plan.inFlight)
        while let range = sequence.claim(1) {
            await window.acquire()
            let index = range.lowerBound
            let started = System.monotonicNanoseconds()
            producer.sendAsync(messages[index % messages.count]) { result in
                switch result {
                case .success(let sent):
                    if sent.status != .sendOK { counters.recordFailure(count: 1, "send status \(sent.status.rawValue)") }
                    latencies.record(System.monotonicNanoseconds() - started, at: index)
                case .failure(let error):
                    counters.recordFailure(count: 1, error.description)
                }
                counters.completed.wrappingAdd(1, ordering: .relaxed)
                window.release()
            }
        }
        // Every permit back means every send of this producer has completed.
        for _ in 0..<plan.inFlight { await window.acquire() }
    }
}
