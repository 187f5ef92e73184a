import PetrelStore
import Synchronization

/// The broker's traffic counters behind GET_BROKER_RUNTIME_INFO (28), the figures of Java's
/// `BrokerStats` and `StoreStatsService` that Petrel actually measures: messages stored by sends and
/// messages handed out by pulls since boot, the same totals as of the last two UTC midnights, and
/// rates over 10 s, 1 min and 10 min.
///
/// The counters are atomics bumped on the request path; rates come from samples that
/// `sample(now:)` takes (the broker's statistics loop calls it every `sampleInterval`). Without any
/// sample a rate is measured from boot, so the figures are honest from the first second.
public final class BrokerStatistics: Sendable {
    /// One reading of both totals.
    struct Sample: Sendable, Hashable {
        /// When, in milliseconds since the epoch.
        var time: Int64
        /// Messages stored so far.
        var puts: Int64
        /// Messages pulled so far.
        var gets: Int64
    }

    /// Totals as of the last two midnights (Java's `msgPutTotalTodayMorning` and friends).
    struct Mornings: Sendable, Hashable {
        /// The UTC day (days since the epoch) of the newest sample, or of boot before the first one.
        var day: Int64
        /// The totals at the start of today (zero until the broker has seen a midnight).
        var today = Sample(time: 0, puts: 0, gets: 0)
        /// The totals at the start of yesterday.
        var yesterday = Sample(time: 0, puts: 0, gets: 0)
    }

    /// How often the broker samples (Java samples every second too).
    public static let sampleInterval: Duration = .seconds(1)
    /// The rate windows, in seconds, in the order the rates are printed (Java's 10 s, 1 min, 10 min).
    public static let rateWindows: [Int64] = [10, 60, 600]
    /// Milliseconds in a day.
    static let dayMilliseconds: Int64 = 86_400_000

    /// When the broker started, in milliseconds since the epoch.
    public let bootTimestamp: Int64
    /// Messages stored by sends since boot.
    private let puts = Atomic<Int64>(0)
    /// Messages returned by pulls since boot.
    private let gets = Atomic<Int64>(0)
    /// Samples, oldest first, spanning the longest rate window; the first is the boot sample.
    private let samples: Mutex<[Sample]>
    /// Midnight totals.
    private let mornings: Mutex<Mornings>

    /// Counters starting at zero at `bootTimestamp`.
    public init(bootTimestamp: Int64 = System.nowMilliseconds()) {
        self.bootTimestamp = bootTimestamp
        samples = Mutex([Sample(time: bootTimestamp, puts: 0, gets: 0)])
        mornings = Mutex(Mornings(day: bootTimestamp / Self.dayMilliseconds))
    }

    /// Counts `count` messages stored.
    public func recordPuts(_ count: Int) { puts.add(Int64(count), ordering: .relaxed) }

    /// Counts `count` messages handed to a consumer.
    public func recordGets(_ count: Int) { gets.add(Int64(count), ordering: .relaxed) }

    /// Messages stored since boot (`msgPutTotalTodayNow`).
    public var putTotal: Int64 { puts.load(ordering: .relaxed) }

    /// Messages pulled since boot (`msgGetTotalTodayNow`).
    public var getTotal: Int64 { gets.load(ordering: .relaxed) }

    /// The totals now.
    private func current(_ now: Int64) -> Sample { Sample(time: now, puts: putTotal, gets: getTotal) }

    /// Records the totals at `now`, drops samples older than the longest window needs, and rolls
    /// the midnight totals over when `now` is on a later UTC day than the previous sample.
    public func sample(now: Int64) {
        let reading = current(now)
        let horizon = now - (Self.rateWindows.max() ?? 600) * 1000
        samples.withLock { samples in
            samples.append(reading)
            // Keep one sample at or before the horizon so the longest window has a baseline.
            while samples.count > 2, samples[1].time <= horizon { samples.removeFirst() }
        }
        let day = now / Self.dayMilliseconds
        mornings.withLock { mornings in
            defer { mornings.day = max(mornings.day, day) }
            guard day > mornings.day else { return }
            // The first sample of a new day stands in for the midnight reading (at most one interval late).
            mornings.yesterday = day == mornings.day + 1 ? mornings.today : reading
            mornings.today = reading
        }
    }

    /// Messages per second stored (`puts`) or pulled over the last `window` seconds at `now`: from
    /// the newest sample at least `window` old (or the oldest kept) to the live totals.
    public func rate(window: Int64, now: Int64, puts countingPuts: Bool) -> Double {
        let latest = current(now)
        let baseline = samples.withLock { samples in
            samples.last { $0.time <= now - window * 1000 } ?? samples[0]
        }
        let elapsed = Double(now - baseline.time) / 1000
        guard elapsed > 0 else { return 0 }
        let delta = countingPuts ? latest.puts - baseline.puts : latest.gets - baseline.gets
        return Double(max(delta, 0)) / elapsed
    }

    /// The three rates as Java prints them: `"%.2f %.2f %.2f"` (10 s, 1 min, 10 min).
    public func rates(now: Int64, puts countingPuts: Bool) -> String {
        Self.rateWindows.map { Self.twoDecimals(rate(window: $0, now: now, puts: countingPuts)) }.joined(separator: " ")
    }

    /// The stored and pulled totals as of the last two midnights: (today, yesterday).
    var midnightTotals: (today: Sample, yesterday: Sample) {
        mornings.withLock { ($0.today, $0.yesterday) }
    }

    /// `value` with two decimals, rounded half up (what `%.2f` prints for these non-negative rates).
    static func twoDecimals(_ value: Double) -> String {
        let hundredths = Int64((max(value, 0) * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
