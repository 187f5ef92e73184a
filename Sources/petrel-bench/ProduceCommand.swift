import ArgumentParser
import PetrelClient

/// `petrel-bench produce`: sends messages to a running broker through `PetrelClient.Producer`.
struct ProduceCommand: AsyncParsableCommand {
    /// Name, summary and the measurement rules shown by `--help`.
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Send messages to a running broker and report throughput and send latency.",
        discussion: """
            Starts --producers producers (each with a client instance and connections of its own) \
            and sends --messages messages of --message-size bytes to --topic over all of them.

            Modes: sync = send() and wait, with --in-flight concurrent tasks per producer (1 = one \
            at a time); async = sendAsync() with a completion, at most --in-flight outstanding per \
            producer; batch = send(batch:) of --batch messages, --in-flight batches per producer.

            Throughput runs from the first send to the last acknowledgement (producer start-up and \
            the first route lookup are not counted: one warm-up message is sent before the clock \
            starts). Latency is per send, from the call to its answer; a batch's latency counts once \
            for each of its messages. A send answered with a status other than SEND_OK, or failing, \
            counts as an error; exit code 1 when there were any.
            """
    )

    /// Cluster, topic and counts.
    @OptionGroup var cluster: ClusterOptions

    /// Producer clients.
    @Option(help: "Number of producers, each with its own client instance and connections.")
    var producers = 1

    /// How sends are issued.
    @Option(help: "sync (send and wait), async (sendAsync with completion) or batch (send(batch:)).")
    var mode: SendMode = .sync

    /// Messages per batch in batch mode.
    @Option(help: "Messages per batch in batch mode.")
    var batch = 32

    /// Natural batching of async sends (`ProducerConfiguration.autoBatch`).
    @Flag(help: "Async mode: let the producer batch sends that wait for a busy queue (autoBatch).")
    var autoBatch = false

    /// Most messages per automatic batch.
    @Option(help: "Most messages in one automatic batch (with --auto-batch).")
    var autoBatchMaxMessages = 64

    /// The producer group.
    @Option(help: "Producer group name.")
    var group = "petrel-bench-producer"

    /// What the bodies are.
    @OptionGroup var payloadOptions: PayloadOptions

    /// How results are printed.
    @OptionGroup var output: OutputOptions

    /// Rejects meaningless counts before connecting.
    func validate() throws {
        try cluster.validateCounts()
        try payloadOptions.validatePayload()
        guard producers > 0 else { throw ValidationError("--producers must be positive, not \(producers).") }
        guard batch > 0 else { throw ValidationError("--batch must be positive, not \(batch).") }
        guard autoBatchMaxMessages > 0 else {
            throw ValidationError("--auto-batch-max-messages must be positive, not \(autoBatchMaxMessages).")
        }
    }

    /// Starts the producers, warms the route, sends, reports.
    func run() async throws {
        _ = BenchLogging.logger
        let payload = payloadOptions.pool(messageSize: cluster.messageSize)
        var started: [Producer] = []
        for index in 0..<producers {
            let configuration = ProducerConfiguration(
                group: group, client: cluster.clientConfiguration(index: index), autoBatch: autoBatch,
                autoBatchMaximumMessages: autoBatchMaxMessages)
            let producer = Producer(configuration: configuration)
            do throws(ClientError) {
                try await producer.start()
                // Fetches the route (creating the topic) and opens the connection before timing.
                _ = try await producer.send(ProducerMessage(topic: cluster.topic, bytes: [0x77]))
            } catch {
                printError("petrel-bench: producer \(index) cannot reach \(cluster.namesrv): \(error)")
                for producer in started + [producer] { await producer.shutdown() }
                throw ExitCode.failure
            }
            started.append(producer)
        }
        let plan = ProducePlan(
            topic: cluster.topic, payload: payload, messageCount: cluster.messages, mode: mode,
            inFlight: cluster.inFlight, batchSize: batch)
        let counters = RunCounters()
        let latencies = LatencySlots(count: cluster.messages)
        let cpuBefore = ProcessMeasurements.cpuSeconds()
        let startInstant = Instant.now()
        await withProgress(ProgressLine(verb: "sent", total: cluster.messages), counters: counters, started: startInstant) {
            await ProduceWorkload.run(plan, producers: started, counters: counters, latencies: latencies)
        }
        let seconds = Instant.now().seconds(since: startInstant)
        let cpuSeconds = ProcessMeasurements.cpuSeconds() - cpuBefore
        for producer in started { await producer.shutdown() }
        report(
            seconds: seconds, cpuSeconds: cpuSeconds, counters: counters, latencies: latencies.distribution(count: cluster.messages),
            payloadBytes: payload.totalBytes(messages: cluster.messages))
            .print(json: output.json)
        let errors = counters.failed.load(ordering: .relaxed)
        guard errors == 0 else {
            printError("petrel-bench: \(errors) messages failed; first: \(counters.firstFailureDescription ?? "?")")
            throw ExitCode.failure
        }
    }

    /// The report: settings, throughput, latency percentiles, errors.
    private func report(
        seconds: Double, cpuSeconds: Double, counters: RunCounters, latencies: LatencyDistribution, payloadBytes: Int
    ) -> BenchReport {
        let messages = cluster.messages
        let fields: [ReportField] = [
            ReportField("system", label: "system", .text("petrel"), outputs: [.result]),
            ReportField("mode", label: "mode", .text(mode.rawValue)),
            ReportField("producers", label: "producers", .integer(producers)),
            ReportField("in_flight", label: "in flight", unit: "per producer", .integer(cluster.inFlight)),
            ReportField("batch", label: "batch", .integer(mode == .batch ? batch : 1)),
            ReportField("auto_batch", label: "auto batch", .text(autoBatch ? "max\(autoBatchMaxMessages)" : "off")),
            ReportField("header", label: "header encoding", .text(cluster.headerEncoding.rawValue)),
            ReportField("msgs", label: "messages", .integer(messages)),
            ReportField("payload", label: "payload", .text(payloadOptions.payload.rawValue)),
            ReportField("size", label: "message size", unit: "bytes (mean)", .integer(payloadBytes / max(messages, 1))),
            ReportField("payload_bytes", label: "body bytes", unit: "bytes (all messages)", .integer(payloadBytes)),
        ] + NetworkReport.throughputAndLatency(
            messages: messages, bytes: payloadBytes, seconds: seconds, latencies: latencies,
            counters: counters, cpuSeconds: cpuSeconds)
        return BenchReport(workload: "produce-\(mode.rawValue)", title: "petrel-bench produce (\(mode.rawValue))", fields: fields)
    }
}

/// Report fields `produce` and `consume` share.
enum NetworkReport {
    /// Seconds, msgs/s, MB/s, p50/p99/p99.9/mean/max, errors, client CPU, load.
    static func throughputAndLatency(
        messages: Int, bytes: Int, seconds: Double, latencies: LatencyDistribution, counters: RunCounters, cpuSeconds: Double
    ) -> [ReportField] {
        let rate = seconds > 0 ? Double(messages) / seconds : 0
        let megabytes = seconds > 0 ? Double(bytes) / 1e6 / seconds : 0
        return [
            ReportField("secs", label: "duration", unit: "s", .decimal(seconds, decimals: 3)),
            ReportField("msgs_per_s", label: "throughput", unit: "msgs/s", .decimal(rate, decimals: 0)),
            ReportField("MBps", label: "payload", unit: "MB/s (bodies, 10^6 bytes)", .decimal(megabytes, decimals: 1)),
            ReportField("p50_us", label: "p50", unit: "µs", .decimal(latencies.percentileMicroseconds(0.50), decimals: 1)),
            ReportField("p99_us", label: "p99", unit: "µs", .decimal(latencies.percentileMicroseconds(0.99), decimals: 1)),
            ReportField("p999_us", label: "p99.9", unit: "µs", .decimal(latencies.percentileMicroseconds(0.999), decimals: 1)),
            ReportField("mean_us", label: "mean", unit: "µs", .decimal(latencies.meanMicroseconds, decimals: 1)),
            ReportField("max_us", label: "max", unit: "µs", .decimal(latencies.maximumMicroseconds, decimals: 1)),
            ReportField("errors", label: "errors", .integer(counters.failed.load(ordering: .relaxed))),
            ReportField("client_cpu_s", label: "client CPU", unit: "s (this process)", .decimal(cpuSeconds, decimals: 2)),
            ReportField("load1", label: "load average", .decimal(ProcessMeasurements.loadAverage(), decimals: 2),
                        outputs: [.human, .result]),
        ]
    }
}
