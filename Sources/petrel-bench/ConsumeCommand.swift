import ArgumentParser
import PetrelClient
import PetrelCore

/// `petrel-bench consume`: reads stored messages of a topic from the start with `PullConsumer`.
struct ConsumeCommand: AsyncParsableCommand {
    /// Name, summary and the measurement rules shown by `--help`.
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Read the stored messages of a topic from the start and report throughput and pull latency.",
        discussion: """
            Starts --consumers pull consumers (each with a client instance of its own), looks up every \
            readable queue's oldest and next offsets, waits (up to --wait-seconds) until the topic \
            holds --messages messages, and reads the first --messages of them from the oldest offsets: \
            the queues are cut into chunks of --pull-size messages, taken in turn from the queues, and \
            every consumer keeps --in-flight pulls outstanding. Offsets are not committed.

            Throughput runs from the first pull to the last answer. Latency is per pull request and \
            counts once for every message the pull returned. --message-size only names the expected \
            size; MB/s counts the body bytes actually read. Exit code 1 when a pull failed or came \
            back short.
            """
    )

    /// Cluster, topic and counts.
    @OptionGroup var cluster: ClusterOptions

    /// Consumer clients.
    @Option(name: [.customLong("consumers"), .customLong("producers")],
            help: "Number of pull consumers, each with its own client instance (--producers is accepted as a synonym).")
    var consumers = 1

    /// Messages per pull.
    @Option(help: "Messages asked for per pull (the broker returns at most 32 and 256 KiB).")
    var pullSize = 32

    /// How long to wait for the topic to hold enough messages.
    @Option(help: "Seconds to wait for the topic to hold --messages messages (the broker indexes sends asynchronously).")
    var waitSeconds = 30

    /// The consumer group.
    @Option(help: "Consumer group name.")
    var group = "petrel-bench-consumer"

    /// Accepted for symmetry with `produce`; reads have one mode.
    @Option(help: "Ignored (reads have one mode); accepted so produce and consume take the same flags.")
    var mode: SendMode?

    /// How results are printed.
    @OptionGroup var output: OutputOptions

    /// Rejects meaningless counts before connecting.
    func validate() throws {
        try cluster.validateCounts()
        guard consumers > 0 else { throw ValidationError("--consumers must be positive, not \(consumers).") }
        guard pullSize > 0 else { throw ValidationError("--pull-size must be positive, not \(pullSize).") }
        guard waitSeconds >= 0 else { throw ValidationError("--wait-seconds must not be negative.") }
    }

    /// Starts the consumers, plans the reads, pulls, reports.
    func run() async throws {
        _ = BenchLogging.logger
        var started: [PullConsumer] = []
        let plan: ConsumePlan
        do throws(ClientError) {
            for index in 0..<consumers {
                let consumer = try PullConsumer(configuration: PullConsumerConfiguration(
                    group: group, client: cluster.clientConfiguration(index: index)))
                try await consumer.start()
                started.append(consumer)
            }
            plan = try await planReads(with: started[0])
        } catch {
            printError("petrel-bench: cannot read \(cluster.topic) via \(cluster.namesrv): \(error)")
            for consumer in started { await consumer.shutdown() }
            throw ExitCode.failure
        }
        let counters = RunCounters()
        let latencies = LatencySlots(count: plan.messageCount)
        let cpuBefore = ProcessMeasurements.cpuSeconds()
        let startInstant = Instant.now()
        await withProgress(ProgressLine(verb: "read", total: plan.messageCount), counters: counters, started: startInstant) {
            await ConsumeWorkload.run(plan, consumers: started, inFlight: cluster.inFlight, counters: counters, latencies: latencies)
        }
        let seconds = Instant.now().seconds(since: startInstant)
        let cpuSeconds = ProcessMeasurements.cpuSeconds() - cpuBefore
        for consumer in started { await consumer.shutdown() }
        let read = counters.completed.load(ordering: .relaxed) - counters.failed.load(ordering: .relaxed)
        report(read: read, seconds: seconds, cpuSeconds: cpuSeconds, counters: counters,
               latencies: latencies.distribution(count: plan.messageCount)).print(json: output.json)
        let errors = counters.failed.load(ordering: .relaxed)
        guard errors == 0 else {
            printError("petrel-bench: \(errors) messages not read; first: \(counters.firstFailureDescription ?? "?")")
            throw ExitCode.failure
        }
    }

    /// Polls the queues' offsets until they hold `--messages` (or the wait ends), then plans the reads.
    private func planReads(with consumer: PullConsumer) async throws(ClientError) -> ConsumePlan {
        let deadline = Instant.now().nanoseconds + UInt64(waitSeconds) * 1_000_000_000
        while true {
            let queues = try await consumer.fetchQueues(topic: cluster.topic)
            var ranges: [(queue: MessageQueue, range: Range<Int64>)] = []
            for queue in queues {
                let lowest = try await consumer.minOffset(of: queue)
                let next = try await consumer.maxOffset(of: queue)
                ranges.append((queue, lowest..<max(lowest, next)))
            }
            let stored = ranges.reduce(0) { $0 + Int($1.range.count) }
            if stored >= cluster.messages || Instant.now().nanoseconds >= deadline {
                guard stored >= cluster.messages else {
                    throw ClientError(.invalidArgument, "\(cluster.topic) holds \(stored) messages, fewer than --messages \(cluster.messages)")
                }
                return ConsumePlan(ranges: ranges, wanted: cluster.messages, chunkSize: pullSize)
            }
            do { try await Task.sleep(for: .milliseconds(100)) } catch {
                throw ClientError(.shutDown, "cancelled while waiting for \(cluster.topic) to fill")
            }
        }
    }

    /// The report: settings, throughput, pull latency, errors.
    private func report(read: Int, seconds: Double, cpuSeconds: Double, counters: RunCounters, latencies: LatencyDistribution) -> BenchReport {
        let fields: [ReportField] = [
            ReportField("system", label: "system", .text("petrel"), outputs: [.result]),
            ReportField("mode", label: "mode", .text("pull")),
            ReportField("consumers", label: "consumers", .integer(consumers)),
            ReportField("in_flight", label: "in flight", unit: "pulls per consumer", .integer(cluster.inFlight)),
            ReportField("pull_size", label: "pull size", unit: "messages", .integer(pullSize)),
            ReportField("msgs", label: "messages read", .integer(read)),
            ReportField("size", label: "message size", unit: "bytes (expected)", .integer(cluster.messageSize)),
        ] + NetworkReport.throughputAndLatency(
            messages: read, bytes: counters.bodyBytes.load(ordering: .relaxed), seconds: seconds, latencies: latencies,
            counters: counters, cpuSeconds: cpuSeconds)
        return BenchReport(workload: "consume", title: "petrel-bench consume (pull)", fields: fields)
    }
}
