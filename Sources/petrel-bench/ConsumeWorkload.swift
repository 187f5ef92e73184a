import PetrelClient
import PetrelCore
import PetrelStore
import Synchronization

/// One pull's worth of stored messages: `count` messages of `queue` from `offset`.
struct PullChunk: Sendable {
    /// The queue.
    let queue: MessageQueue
    /// The first queue offset.
    let offset: Int64
    /// How many messages.
    let count: Int
    /// Where the chunk's messages start in the run's message numbering (latency slots).
    let firstIndex: Int
}

/// The stored messages a `consume` run reads, cut into pull-sized chunks.
struct ConsumePlan: Sendable {
    /// The chunks, interleaved over the queues so that concurrent pulls spread over them.
    let chunks: [PullChunk]
    /// The messages the chunks cover.
    let messageCount: Int

    /// Cuts `wanted` messages from the start of `ranges` (each queue's `[min, max)` offsets) into
    /// chunks of at most `chunkSize`, taking chunks from the queues in turn.
    init(ranges: [(queue: MessageQueue, range: Range<Int64>)], wanted: Int, chunkSize: Int) {
        let perQueue: [[(offset: Int64, count: Int)]] = ranges.map { entry in
            stride(from: entry.range.lowerBound, to: entry.range.upperBound, by: chunkSize).map {
                (offset: $0, count: Int(min(Int64(chunkSize), entry.range.upperBound - $0)))
            }
        }
        var chunks: [PullChunk] = []
        var taken = 0
        var round = 0
        while taken < wanted, perQueue.contains(where: { round < $0.count }) {
            for queueIndex in perQueue.indices where round < perQueue[queueIndex].count && taken < wanted {
                let piece = perQueue[queueIndex][round]
                let count = min(piece.count, wanted - taken)
                chunks.append(PullChunk(queue: ranges[queueIndex].queue, offset: piece.offset, count: count, firstIndex: taken))
                taken += count
            }
            round += 1
        }
        self.chunks = chunks
        messageCount = taken
    }
}

/// Reads a plan's chunks with concurrent pulls.
enum ConsumeWorkload {
    /// Pulls every chunk of `plan`, `inFlight` pulls outstanding per consumer; each pulled message
    /// gets the latency of the pull that brought it.
    static func run(_ plan: ConsumePlan, consumers: [PullConsumer], inFlight: Int, counters: RunCounters, latencies: LatencySlots) async {
        let sequence = MessageSequence(count: plan.chunks.count)
        await withTaskGroup(of: Void.self) { group in
            for consumer in consumers {
                for _ in 0..<inFlight {
                    group.addTask {
                        while let claimed = sequence.claim(1) {
                            await read(plan.chunks[claimed.lowerBound], with: consumer, counters: counters, latencies: latencies)
                        }
                    }
                }
            }
        }
    }

    /// Pulls one chunk, pulling again from `nextBeginOffset` when the broker returned fewer messages
    /// (its per-pull byte limit), until the chunk is read or the broker has nothing more.
    static func read(_ chunk: PullChunk, with consumer: PullConsumer, counters: RunCounters, latencies: LatencySlots) async {
        var offset = chunk.offset
        let end = chunk.offset + Int64(chunk.count)
        while offset < end {
            let started = System.monotonicNanoseconds()
            let result: PullResult
            do throws(ClientError) {
                result = try await consumer.pull(queue: chunk.queue, offset: offset, maxMessages: Int(end - offset))
            } catch {
                counters.recordFailure(count: Int(end - offset), "pull \(chunk.queue) at \(offset): \(error)")
                counters.completed.wrappingAdd(Int(end - offset), ordering: .relaxed)
                return
            }
            let elapsed = System.monotonicNanoseconds() - started
            let usable = result.messages.filter { $0.queueOffset >= offset && $0.queueOffset < end }
            guard result.status == .found, !usable.isEmpty else {
                counters.recordFailure(count: Int(end - offset), "pull \(chunk.queue) at \(offset): \(result.status), nothing returned")
                counters.completed.wrappingAdd(Int(end - offset), ordering: .relaxed)
                return
            }
            var bytes = 0
            for message in usable {
                bytes += message.body.readableBytes
                latencies.record(elapsed, at: chunk.firstIndex + Int(message.queueOffset - chunk.offset))
            }
            counters.bodyBytes.wrappingAdd(bytes, ordering: .relaxed)
            counters.completed.wrappingAdd(usable.count, ordering: .relaxed)
            offset = max(offset + Int64(usable.count), result.nextBeginOffset)
        }
    }
}
