import NIOCore
import PetrelCore
import PetrelStore

/// What the store workload does: how many messages of what size, from how many writers, in
/// batches of what size, to which topic and queues.
struct StoreWorkloadPlan: Sendable {
    /// Body size in bytes.
    let messageSize: Int
    /// Messages over all writers.
    let messageCount: Int
    /// Concurrent writer tasks.
    let writerCount: Int
    /// Messages per put (1 means single-message `put`).
    let batchSize: Int
    /// The topic every message goes to.
    let topic = "BenchTopic"
    /// Queues of the topic; puts cycle through them.
    let queueCount = 4

    /// How many messages writer `writer` sends: an even share, the first writers taking the remainder.
    func messageCount(forWriter writer: Int) -> Int {
        messageCount / writerCount + (writer < messageCount % writerCount ? 1 : 0)
    }
}

/// What one writer measured.
struct WriterOutcome: Sendable {
    /// One latency per message in nanoseconds: a batch's put latency is recorded once for each
    /// message in it, so percentiles are per message whatever the batch size.
    var latencies: [UInt64] = []
    /// Bytes the store appended to the commit log for this writer's successful puts.
    var appendedBytes = 0
    /// Puts whose status was not `.ok`, counted by status.
    var failures: [String: Int] = [:]
    /// When the writer's first put started (monotonic ns).
    var firstPutStarted: UInt64 = 0
    /// When the writer's last put completed (monotonic ns).
    var lastPutCompleted: UInt64 = 0
}

/// What the whole workload measured.
struct StoreWorkloadOutcome {
    /// Every writer's latencies, merged and sorted.
    let latencies: LatencyDistribution
    /// Bytes appended to the commit log (record headers, topic and properties included).
    let appendedBytes: Int
    /// Puts whose status was not `.ok`, counted by status.
    let failures: [String: Int]
    /// Seconds from the first put starting to the last put completing, over all writers.
    let seconds: Double
    /// Process CPU seconds used while the writers ran.
    let cpuSeconds: Double

    /// Number of puts that did not return `.ok`.
    var errorCount: Int { failures.values.reduce(0, +) }
}

/// Drives `MessageStore.put` from concurrent writer tasks and measures every put.
enum StoreWorkload {
    /// Runs `plan` against `store` and merges what the writers measured.
    static func run(_ plan: StoreWorkloadPlan, on store: MessageStore) async -> StoreWorkloadOutcome {
        // One body for the whole run: writers share its storage, so no put allocates a body.
        let body = ByteBuffer(bytes: (0..<plan.messageSize).map { UInt8(truncatingIfNeeded: 0x41 + $0 % 26) })
        let cpuBefore = ProcessMeasurements.cpuSeconds()
        let outcomes = await withTaskGroup(of: WriterOutcome.self, returning: [WriterOutcome].self) { group in
            for writer in 0..<plan.writerCount {
                group.addTask { await runWriter(writer, plan: plan, body: body, store: store) }
            }
            var collected: [WriterOutcome] = []
            for await outcome in group { collected.append(outcome) }
            return collected
        }
        let cpuAfter = ProcessMeasurements.cpuSeconds()
        return merge(outcomes, cpuSeconds: cpuAfter - cpuBefore)
    }

    /// Combines the writers' outcomes; the measured window spans the earliest start to the latest end.
    private static func merge(_ outcomes: [WriterOutcome], cpuSeconds: Double) -> StoreWorkloadOutcome {
        let active = outcomes.filter { !$0.latencies.isEmpty }
        let start = active.map(\.firstPutStarted).min() ?? 0
        let end = active.map(\.lastPutCompleted).max() ?? 0
        var failures: [String: Int] = [:]
        for outcome in outcomes { failures.merge(outcome.failures, uniquingKeysWith: +) }
        return StoreWorkloadOutcome(
            latencies: LatencyDistribution(merging: outcomes.map(\.latencies)),
            appendedBytes: outcomes.reduce(0) { $0 + $1.appendedBytes },
            failures: failures,
            seconds: Double(end &- start) / 1e9,
            cpuSeconds: cpuSeconds)
    }

    /// The messages one writer puts: per queue, one full batch (the same message repeated), built
    /// once before the first put and reused for every put, so the loop measures the store only.
    private static func templateBatches(writer: Int, plan: StoreWorkloadPlan, body: ByteBuffer) -> [[StoredMessage]] {
        // A distinct born port per writer, as distinct producer connections would have.
        let bornHost = MessageHost(ipv4: "127.0.0.1", port: Int32(40_000 + writer % 20_000)) ?? .unspecified
        let bornTimestamp = System.nowMilliseconds()
        return (0..<plan.queueCount).map { queue in
            let message = StoredMessage(
                message: Message(topic: plan.topic, body: body),
                queueId: Int32(queue), bornTimestamp: bornTimestamp, bornHost: bornHost)
            return Array(repeating: message, count: plan.batchSize)
        }
    }

    /// One writer: puts its share in batches, cycling through the queues, timing each put.
    private static func runWriter(
        _ writer: Int, plan: StoreWorkloadPlan, body: ByteBuffer, store: MessageStore
    ) async -> WriterOutcome {
        let total = plan.messageCount(forWriter: writer)
        var outcome = WriterOutcome()
        guard total > 0 else { return outcome }
        let batches = templateBatches(writer: writer, plan: plan, body: body)
        outcome.latencies.reserveCapacity(total)
        var remaining = total
        // Writers start on different queues so that with few writers every queue still gets traffic.
        var queue = writer % plan.queueCount
        outcome.firstPutStarted = System.monotonicNanoseconds()
        while remaining > 0 {
            let count = min(plan.batchSize, remaining)
            let started = System.monotonicNanoseconds()
            let result = await put(count, from: batches[queue], into: store)
            let completed = System.monotonicNanoseconds()
            outcome.latencies.append(contentsOf: repeatElement(completed &- started, count: count))
            record(result, into: &outcome)
            outcome.lastPutCompleted = completed
            remaining -= count
            queue = (queue + 1) % plan.queueCount
        }
        return outcome
    }

    /// Puts the first `count` messages of `batch`: a single-message put when the batch size is 1,
    /// the whole prebuilt array when full, a copy of its prefix only for a writer's last, short batch.
    private static func put(_ count: Int, from batch: [StoredMessage], into store: MessageStore) async -> PutResult {
        if batch.count == 1 { return await store.put(batch[0]) }
        if count == batch.count { return await store.put(batch: batch) }
        return await store.put(batch: Array(batch.prefix(count)))
    }

    /// Adds a put's bytes to the writer's total, or counts its failure by status.
    private static func record(_ result: PutResult, into outcome: inout WriterOutcome) {
        if result.status == .ok {
            outcome.appendedBytes += result.appended?.totalSize ?? 0
        } else {
            outcome.failures[String(describing: result.status), default: 0] += 1
        }
    }
}
