import ArgumentParser
import Foundation
import PetrelClient
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Options `produce` and `consume` share: where the cluster is, which topic, how many messages.
struct ClusterOptions: ParsableArguments {
    /// The name servers, `host:port` separated by `;` (RocketMQ's `namesrvAddr`).
    @Option(help: "Name server address(es), host:port separated by ';'.")
    var namesrv: String

    /// The topic written or read.
    @Option(help: "Topic to write to or read from (created on first send when the broker allows auto-creation).")
    var topic: String

    /// Body size in bytes.
    @Option(help: "Body size of every message, in bytes.")
    var messageSize = 1024

    /// Messages over all clients.
    @Option(help: "Number of messages, over all clients.")
    var messages: Int

    /// Concurrent requests per client.
    @Option(help: "Requests in flight per client: 1 = one at a time (latency), 256 = pipelined.")
    var inFlight = 1

    /// Request header serialization.
    @Option(help: "Request header encoding: binary (the client's default) or json.")
    var headerEncoding: HeaderEncoding = .binary

    /// Checks the counts shared by both commands.
    func validateCounts() throws {
        guard !namesrv.isEmpty else { throw ValidationError("--namesrv must not be empty.") }
        guard !topic.isEmpty else { throw ValidationError("--topic must not be empty.") }
        guard messageSize > 0 else { throw ValidationError("--message-size must be positive, not \(messageSize).") }
        guard messages > 0 else { throw ValidationError("--messages must be positive, not \(messages).") }
        guard inFlight > 0 else { throw ValidationError("--in-flight must be positive, not \(inFlight).") }
    }

    /// A client configuration of its own for client number `index`: a distinct instance name gives
    /// each client its own `ClientInstance`, hence its own connections, as separate processes would have.
    func clientConfiguration(index: Int) -> ClientConfiguration {
        let instanceName = "petrel-bench-\(getpid())-\(index)"
        return ClientConfiguration(
            nameServerAddresses: namesrv.split(separator: ";").map { String($0) },
            instanceName: instanceName, clientIP: "127.0.0.1", headerEncoding: headerEncoding)
    }
}

/// `--header-encoding binary|json`.
extension HeaderEncoding: ExpressibleByArgument {}

/// Counters that every client task updates and the progress line and the report read.
final class RunCounters: Sendable {
    /// Messages finished (acknowledged or read), successful or not.
    let completed = Atomic<Int>(0)
    /// Messages whose request failed.
    let failed = Atomic<Int>(0)
    /// Body bytes read (consume only).
    let bodyBytes = Atomic<Int>(0)
    /// The first failure's description, kept for the error message at the end.
    private let firstFailure = Mutex<String?>(nil)

    /// Creates zeroed counters.
    init() {}

    /// Counts `count` messages as failed and remembers the first reason.
    func recordFailure(count: Int, _ reason: @autoclosure () -> String) {
        failed.wrappingAdd(count, ordering: .relaxed)
        if firstFailure.withLock({ $0 == nil }) {
            let text = reason()
            firstFailure.withLock { if $0 == nil { $0 = text } }
        }
    }

    /// The first failure's description, nil when nothing failed.
    var firstFailureDescription: String? { firstFailure.withLock { $0 } }
}

/// One latency slot per message (or per request), filled without locks: every index is written by
/// exactly one task, and the buffer is read only after all tasks finished.
final class LatencySlots: @unchecked Sendable {
    /// The slots, in nanoseconds; 0 = not recorded.
    private let slots: UnsafeMutableBufferPointer<UInt64>

    /// `count` zeroed slots.
    init(count: Int) {
        slots = .allocate(capacity: max(count, 1))
        slots.initialize(repeating: 0)
    }

    deinit { slots.deallocate() }

    /// Records `nanoseconds` in slot `index` (each index once).
    func record(_ nanoseconds: UInt64, at index: Int) { slots[index] = nanoseconds }

    /// Records `nanoseconds` in every slot of `range` (a batch counts once per message).
    func record(_ nanoseconds: UInt64, in range: Range<Int>) {
        for index in range { slots[index] = nanoseconds }
    }

    /// The recorded samples, sorted, for percentiles; call after every writer finished.
    func distribution(count: Int) -> LatencyDistribution {
        LatencyDistribution(merging: [Array(slots.prefix(count)).filter { $0 != 0 }])
    }
}

/// A `\r`-rewritten progress line on standard error, shown only when standard error is a terminal
/// (so pipes, scripts and `--json` consumers see only the report).
struct ProgressLine: Sendable {
    /// What is counted ("sent", "read").
    let verb: String
    /// The total.
    let total: Int

    /// Updates the line every half second until cancelled, then clears it.
    func run(counters: RunCounters, started: Instant) async {
        guard isatty(STDERR_FILENO) == 1 else { return }
        while !Task.isCancelled {
            do { try await Task.sleep(for: .milliseconds(500)) } catch { break }
            let done = counters.completed.load(ordering: .relaxed)
            let seconds = Instant.now().seconds(since: started)
            let rate = seconds > 0 ? Double(done) / seconds : 0
            let percent = total > 0 ? 100 * Double(done) / Double(total) : 100
            let line = "\r\(verb) \(done)/\(total) (\(ReportValue.format(percent, decimals: 1)) %)  "
                + "\(ReportValue.format(rate, decimals: 0)) msgs/s  errors \(counters.failed.load(ordering: .relaxed))   "
            FileHandle.standardError.write(Data(line.utf8))
        }
        FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: 78) + "\r").utf8))
    }
}

/// Runs `body` while a progress line is shown, and removes the line afterwards.
func withProgress<Result>(
    _ progress: ProgressLine, counters: RunCounters, started: Instant, _ body: () async -> Result
) async -> Result {
    let reporter = Task { await progress.run(counters: counters, started: started) }
    let result = await body()
    reporter.cancel()
    await reporter.value
    return result
}
