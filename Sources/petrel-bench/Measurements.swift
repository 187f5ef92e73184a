import PetrelStore

/// Latency samples merged from every writer, sorted once so any percentile is a lookup.
struct LatencyDistribution {
    /// Every sample in nanoseconds, ascending.
    let sortedNanoseconds: [UInt64]

    /// Merges per-writer samples (each writer filled its own array, so no lock was needed).
    init(merging samples: [[UInt64]]) {
        var merged: [UInt64] = []
        merged.reserveCapacity(samples.reduce(0) { $0 + $1.count })
        for writerSamples in samples { merged.append(contentsOf: writerSamples) }
        merged.sort()
        sortedNanoseconds = merged
    }

    /// The `fraction` percentile (0.99 for p99) in microseconds, by nearest rank; 0 without samples.
    func percentileMicroseconds(_ fraction: Double) -> Double {
        guard !sortedNanoseconds.isEmpty else { return 0 }
        // Nearest rank: the smallest sample with at least `fraction` of all samples at or below it.
        let rank = Int((fraction * Double(sortedNanoseconds.count)).rounded(.up))
        let index = min(max(rank - 1, 0), sortedNanoseconds.count - 1)
        return Double(sortedNanoseconds[index]) / 1_000
    }

    /// The mean in microseconds; 0 without samples. Far above p50, it shows that rare slow puts
    /// (page faults, lock waits, preemption) cost more in total than the common fast path.
    var meanMicroseconds: Double {
        guard !sortedNanoseconds.isEmpty else { return 0 }
        // Summed as Double so that no sample count or size can overflow the sum.
        let total = sortedNanoseconds.reduce(0.0) { $0 + Double($1) }
        return total / Double(sortedNanoseconds.count) / 1_000
    }

    /// The largest sample in microseconds; 0 without samples.
    var maximumMicroseconds: Double { Double(sortedNanoseconds.last ?? 0) / 1_000 }
}

/// What the plain-file disk baseline measured.
struct DiskBaselineResult {
    /// Bytes written.
    let bytes: Int
    /// Seconds from the first write through the fdatasync.
    let seconds: Double

    /// Megabytes (10^6 bytes) per second; 0 when nothing was written.
    var megabytesPerSecond: Double { seconds > 0 ? Double(bytes) / 1e6 / seconds : 0 }
}

/// The disk's sequential write speed, measured the simplest way a program can persist bytes:
/// 1 MiB `pwrite`s to a fresh file, then one `fdatasync`. The store's throughput is reported as a
/// ratio to this, taken in the same run and directory, because this shared machine's disk speed
/// drifts between runs and only same-run ratios are comparable.
enum DiskBaseline {
    /// Size of each write.
    static let chunkSize = 1 << 20
    /// Name of the baseline file inside the directory.
    static let fileName = "petrel-bench-disk-baseline"

    /// Writes `bytes` bytes to a fresh file in `directory`, syncs it, and removes it again.
    static func measure(bytes: Int, directory: String) throws -> DiskBaselineResult {
        guard bytes > 0 else { return DiskBaselineResult(bytes: 0, seconds: 0) }
        let path = directory + "/" + fileName
        // A leftover from an interrupted run would turn writes into overwrites of allocated blocks.
        try System.remove(path)
        let descriptor = try System.open(path, create: true)
        defer {
            _ = try? System.close(descriptor, path: path)
            _ = try? System.remove(path)
        }
        // Non-zero content, so a file system that special-cases zero pages measures real writes.
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: System.pageSize)
        defer { chunk.deallocate() }
        for index in 0..<chunkSize { chunk[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
        let started = System.monotonicNanoseconds()
        var offset = 0
        while offset < bytes {
            let length = min(chunkSize, bytes - offset)
            try System.writeAll(descriptor, UnsafeRawBufferPointer(rebasing: chunk[0..<length]), at: Int64(offset), path: path)
            offset += length
        }
        try System.syncData(descriptor, path: path)
        let finished = System.monotonicNanoseconds()
        return DiskBaselineResult(bytes: bytes, seconds: Double(finished - started) / 1e9)
    }
}

/// A point on the monotonic clock, for timing phases that are not individual puts.
struct Instant {
    /// Monotonic nanoseconds.
    let nanoseconds: UInt64

    /// The current instant.
    static func now() -> Instant { Instant(nanoseconds: System.monotonicNanoseconds()) }

    /// Wall-clock seconds from `earlier` to this instant.
    func seconds(since earlier: Instant) -> Double {
        Double(nanoseconds &- earlier.nanoseconds) / 1e9
    }
}
