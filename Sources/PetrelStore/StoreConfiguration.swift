import PetrelCore

/// When an append counts as done.
public enum FlushMode: String, Sendable, CaseIterable {
    /// Done when the bytes are in the page cache; a background thread flushes on an interval.
    case async = "ASYNC_FLUSH"
    /// Done when the bytes are durable; concurrent appends share one msync (group commit).
    case sync = "SYNC_FLUSH"
}

/// Everything the store is told at open. Executables build it from `broker.conf` and flags;
/// the store itself reads no files or environment for configuration.
public struct StoreConfiguration: Sendable {
    /// Root directory (`storePathRootDir`): consume queues, index, checkpoint, abort and lock live here.
    public var rootDirectory: String
    /// Commit-log directory (`storePathCommitLog`); defaults to `<root>/commitlog`.
    public var commitLogDirectory: String
    /// Bytes per commit-log segment (`mappedFileSizeCommitLog`), 1 GiB by default.
    public var commitLogSegmentSize: Int = 1 << 30
    /// Units per consume-queue file (`mappedFileSizeConsumeQueue` / 20), 300,000 by default.
    public var consumeQueueUnitsPerFile: Int = 300_000
    /// Hash slots per index file.
    public var indexSlotCount: Int = 5_000_000
    /// Entries per index file.
    public var indexEntryCount: Int = 20_000_000
    /// Whether keys are indexed at all (`messageIndexEnable`).
    public var indexEnabled: Bool = true
    /// `flushDiskType`.
    public var flushMode: FlushMode = .async
    /// Async mode: flush at least this often (`flushIntervalCommitLog`).
    public var asyncFlushInterval: Duration = .milliseconds(500)
    /// Sync mode: an append waits at most this long for its flush (`syncFlushTimeout`).
    public var syncFlushTimeout: Duration = .seconds(5)
    /// How often consume queues and index are flushed and the checkpoint written.
    public var checkpointInterval: Duration = .seconds(1)
    /// Largest body accepted (`maxMessageSize`), 4 MiB by default.
    public var maximumMessageSize: Int = 4 * 1024 * 1024
    /// The broker's advertised address, written as STOREHOST.
    public var storeHost: MessageHost = .unspecified
    /// Segments older than this are deleted (`fileReservedTime`, hours in broker.conf), 72 h by default.
    public var fileReservedTime: Duration = .seconds(72 * 3600)
    /// Hours of the day (local time) when expired segments are deleted (`deleteWhen`, "04" by default).
    public var deleteWhenHours: Set<Int> = [4]
    /// Above this disk-usage ratio, expired segments are deleted at once and, past
    /// `forceCleanRatio`, the oldest segments even if not expired (`diskMaxUsedSpaceRatio`).
    public var diskCleanRatio: Double = 0.75
    /// Above this ratio the oldest segments go even when they have not expired.
    public var forceCleanRatio: Double = 0.85
    /// Above this ratio appends are refused with `diskFull`, before the disk is really full.
    public var diskFullRatio: Double = 0.90
    /// How often disk usage is checked and retention runs.
    public var cleanInterval: Duration = .seconds(10)
    /// Recovery may cut the log at a corrupt record even when valid records follow
    /// (they are lost). Off by default: mid-log corruption stops start-up instead.
    public var truncateCorruptLog: Bool = false

    /// A configuration with defaults under `rootDirectory`.
    public init(rootDirectory: String) {
        self.rootDirectory = rootDirectory
        commitLogDirectory = rootDirectory + "/commitlog"
    }

    /// Checks internal consistency; start-up refuses a configuration that fails.
    public func validate() throws(StoreError) {
        func fail(_ text: String) -> StoreError { StoreError(.invalidConfiguration, text) }
        guard commitLogSegmentSize >= 4096, commitLogSegmentSize % System.pageSize == 0 else {
            throw fail("mappedFileSizeCommitLog \(commitLogSegmentSize) must be a multiple of the page size, at least 4096")
        }
        // A record is body + at most 91 + 127 + 32767 bytes of header, topic and properties.
        guard maximumMessageSize > 0, maximumMessageSize + 33 * 1024 <= commitLogSegmentSize else {
            throw fail("maxMessageSize \(maximumMessageSize) must be positive and leave room in a \(commitLogSegmentSize)-byte segment")
        }
        guard consumeQueueUnitsPerFile > 0, indexSlotCount > 0, indexEntryCount > 1 else {
            throw fail("consume-queue units per file, index slots and index entries must be positive")
        }
        guard (0...1).contains(diskFullRatio), (0...1).contains(diskCleanRatio), (0...1).contains(forceCleanRatio) else {
            throw fail("disk ratios must lie between 0 and 1")
        }
    }
}
