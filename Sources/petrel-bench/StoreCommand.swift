import ArgumentParser
import PetrelCore
import PetrelStore

/// The `--flush` values, named as people type them and mapped to the store's `flushDiskType`.
enum FlushOption: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// `ASYNC_FLUSH`: a put returns once its bytes are in the page cache.
    case async
    /// `SYNC_FLUSH`: a put returns once its bytes are durable (group commit).
    case sync

    /// The store's flush mode.
    var mode: FlushMode {
        switch self {
        case .async: return .async
        case .sync: return .sync
        }
    }
}

/// `petrel-bench store`: the store alone, in-process, without network or protocol.
struct StoreCommand: AsyncParsableCommand {
    /// Name, summary and the measurement rules shown by `--help`.
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Put messages straight into a MessageStore and compare its throughput with the disk's.",
        discussion: """
            Opens a MessageStore (topic BenchTopic, 4 queues, store host 127.0.0.1:10911) and puts \
            --messages messages of --message-size bytes from --writers concurrent tasks; each put \
            carries --batch messages of one queue, and successive puts cycle through the queues.

            Throughput runs from the first put starting to the last put completing; closing the \
            store (the final flush under async) is reported separately and not counted. MB/s counts \
            the bytes appended to the commit log (whole records: header, topic and properties as \
            well as the body), in units of 10^6 bytes.

            Latency is measured around each put. With --batch B the put's latency counts once for \
            each of its B messages, so p50/p99/p99.9 are per message.

            Disk baseline: afterwards, in the same directory, as many bytes as the store appended \
            are written to a fresh file in 1 MiB pwrite calls and synced with one fdatasync; \
            ratio = store MB/s / disk MB/s, in both flush modes.

            Exit code 1 when any put returned a status other than ok.
            """
    )

    /// Body size in bytes.
    @Option(help: "Body size of every message, in bytes.")
    var messageSize = 1024

    /// Messages over all writers.
    @Option(help: "Number of messages to put, over all writers.")
    var messages: Int

    /// The store's flush mode.
    @Option(help: "Flush mode: async (ASYNC_FLUSH) or sync (SYNC_FLUSH).")
    var flush: FlushOption

    /// Concurrent writer tasks.
    @Option(help: "Number of concurrent writer tasks.")
    var writers = 1

    /// Messages per put.
    @Option(help: "Messages per put; above 1 each put is one put(batch:) of this many messages of one queue.")
    var batch = 1

    /// Commit-log segment size.
    @Option(help: "Commit-log segment size in bytes (a multiple of the page size).")
    var segmentSize = 1 << 30

    /// Where the store lives.
    @Option(help: "Store directory (kept afterwards). Default: a fresh temporary directory, removed at the end.")
    var dir: String?

    /// How results are printed.
    @OptionGroup var output: OutputOptions

    /// The store's default limit on one body.
    static let defaultMaximumMessageSize = StoreConfiguration(rootDirectory: "/").maximumMessageSize
    /// Room the store reserves in a segment beyond the largest body (header, topic, properties).
    static let recordOverheadAllowance = 33 * 1024

    /// The body limit the store is opened with: its default, lowered for small segments because the
    /// store refuses a limit that leaves no room in a segment (so `--segment-size` can go below 4 MiB).
    var maximumMessageSize: Int {
        min(Self.defaultMaximumMessageSize, segmentSize - Self.recordOverheadAllowance)
    }

    /// Rejects counts and sizes that cannot make a meaningful run, before anything is created.
    func validate() throws {
        guard messageSize > 0 else { throw ValidationError("--message-size must be positive, not \(messageSize).") }
        guard segmentSize > Self.recordOverheadAllowance else {
            throw ValidationError("--segment-size must exceed \(Self.recordOverheadAllowance) bytes, not \(segmentSize).")
        }
        guard messageSize <= maximumMessageSize else {
            throw ValidationError(
                "--message-size must be at most \(maximumMessageSize) (maxMessageSize for this segment size).")
        }
        guard messages > 0 else { throw ValidationError("--messages must be positive, not \(messages).") }
        guard writers > 0 else { throw ValidationError("--writers must be positive, not \(writers).") }
        guard writers <= messages else {
            throw ValidationError("--writers (\(writers)) must not exceed --messages (\(messages)).")
        }
        guard batch > 0 else { throw ValidationError("--batch must be positive, not \(batch).") }
        if let dir, dir.isEmpty { throw ValidationError("--dir must not be empty.") }
    }

    /// Opens the store, runs the writers, closes the store, measures the disk, prints the report.
    func run() async throws {
        let logger = BenchLogging.logger
        let scratch: ScratchDirectory
        do { scratch = try ScratchDirectory(requested: dir) } catch {
            printError("petrel-bench: cannot prepare the store directory: \(error)")
            throw ExitCode.failure
        }
        defer { scratch.removeIfOwned() }
        let store: MessageStore
        do { store = try MessageStore.open(storeConfiguration(root: scratch.path), logger: logger) } catch {
            printError("petrel-bench: cannot open the store at \(scratch.path): \(error)")
            throw ExitCode.failure
        }
        let plan = StoreWorkloadPlan(messageSize: messageSize, messageCount: messages, writerCount: writers, batchSize: batch)
        let outcome = await StoreWorkload.run(plan, on: store)
        let closeStarted = Instant.now()
        do { try store.close() } catch {
            printError("petrel-bench: closing the store failed: \(error)")
            throw ExitCode.failure
        }
        let closeSeconds = Instant.now().seconds(since: closeStarted)
        let baseline: DiskBaselineResult
        do { baseline = try DiskBaseline.measure(bytes: outcome.appendedBytes, directory: scratch.path) } catch {
            printError("petrel-bench: the disk baseline failed in \(scratch.path): \(error)")
            throw ExitCode.failure
        }
        report(outcome, closeSeconds: closeSeconds, baseline: baseline).print(json: output.json)
        guard outcome.errorCount == 0 else {
            let breakdown = outcome.failures.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }
            printError("petrel-bench: \(outcome.errorCount) puts failed: \(breakdown.joined(separator: ", "))")
            throw ExitCode.failure
        }
    }

    /// The store configuration: defaults, except what the options set.
    private func storeConfiguration(root: String) -> StoreConfiguration {
        var configuration = StoreConfiguration(rootDirectory: root)
        configuration.flushMode = flush.mode
        configuration.commitLogSegmentSize = segmentSize
        configuration.maximumMessageSize = maximumMessageSize
        configuration.storeHost = MessageHost("127.0.0.1:10911") ?? .unspecified
        return configuration
    }

    /// The report: settings, throughput, the disk baseline and its ratio, latency, errors.
    private func report(
        _ outcome: StoreWorkloadOutcome, closeSeconds: Double, baseline: DiskBaselineResult
    ) -> BenchReport {
        let seconds = outcome.seconds
        let messagesPerSecond = seconds > 0 ? Double(messages) / seconds : 0
        let megabytesPerSecond = seconds > 0 ? Double(outcome.appendedBytes) / 1e6 / seconds : 0
        let payloadMegabytesPerSecond = seconds > 0 ? Double(messages * messageSize) / 1e6 / seconds : 0
        let diskMegabytesPerSecond = baseline.megabytesPerSecond
        let ratio = diskMegabytesPerSecond > 0 ? megabytesPerSecond / diskMegabytesPerSecond : 0
        let latencies = outcome.latencies
        let fields: [ReportField] = [
            ReportField("flush", label: "flush", .text(flush.rawValue)),
            ReportField("writers", label: "writers", .integer(writers)),
            ReportField("batch", label: "batch", .integer(batch)),
            ReportField("messages", label: "messages", .integer(messages)),
            ReportField("message_size", label: "message size", unit: "bytes", .integer(messageSize)),
            ReportField("secs", label: "put phase", unit: "s", .decimal(seconds, decimals: 3), outputs: [.human, .result]),
            ReportField("msgs_per_s", label: "throughput", unit: "msgs/s", .decimal(messagesPerSecond, decimals: 0)),
            ReportField("mb_per_s", label: "store", unit: "MB/s (commit-log bytes)",
                        .decimal(megabytesPerSecond, decimals: 1)),
            ReportField("MBps", label: "payload", unit: "MB/s (bodies only)",
                        .decimal(payloadMegabytesPerSecond, decimals: 1), outputs: [.human, .result]),
            ReportField("disk_mb_per_s", label: "disk baseline", unit: "MB/s (1 MiB pwrite + fdatasync)",
                        .decimal(diskMegabytesPerSecond, decimals: 1)),
            ReportField("ratio", label: "ratio", unit: "(store MB/s / disk MB/s)", .decimal(ratio, decimals: 3)),
            ReportField("p50_us", label: "p50", unit: "µs", .decimal(latencies.percentileMicroseconds(0.50), decimals: 1)),
            ReportField("p99_us", label: "p99", unit: "µs", .decimal(latencies.percentileMicroseconds(0.99), decimals: 1)),
            ReportField("p999_us", label: "p99.9", unit: "µs", .decimal(latencies.percentileMicroseconds(0.999), decimals: 1)),
            ReportField("mean_us", label: "mean", unit: "µs", .decimal(latencies.meanMicroseconds, decimals: 1),
                        outputs: [.human, .result]),
            ReportField("max_us", label: "max", unit: "µs", .decimal(latencies.maximumMicroseconds, decimals: 1),
                        outputs: [.human, .result]),
            ReportField("errors", label: "errors", .integer(outcome.errorCount)),
            ReportField("log_bytes", label: "commit log", unit: "bytes appended", .integer(outcome.appendedBytes),
                        outputs: [.human, .result]),
            ReportField("close_s", label: "close", unit: "s (not counted)", .decimal(closeSeconds, decimals: 3),
                        outputs: [.human, .result]),
            ReportField("cpu_s", label: "process CPU", unit: "s during the put phase",
                        .decimal(outcome.cpuSeconds, decimals: 2), outputs: [.human, .result]),
            ReportField("load1", label: "load average", .decimal(ProcessMeasurements.loadAverage(), decimals: 2),
                        outputs: [.human, .result]),
        ]
        return BenchReport(workload: "store-\(flush.rawValue)", title: "petrel-bench store (\(flush.mode.rawValue))",
                           fields: fields)
    }
}
