import Foundation
import PetrelCore
import Synchronization
import Testing

@testable import PetrelStore

/// Outcomes handed to `whenFlushed` callbacks, by the index of the append they wait for.
final class FlushOutcomes: Sendable {
    /// What each callback was told, and how often (a callback must run exactly once).
    private let outcomes = Mutex<[Int: [PutStatus]]>([:])

    /// A callback recording its outcome under `index`.
    func callback(_ index: Int) -> @Sendable (PutStatus) -> Void {
        { status in self.outcomes.withLock { $0[index, default: []].append(status) } }
    }

    /// The outcomes so far.
    var recorded: [Int: [PutStatus]] { outcomes.withLock { $0 } }

    /// Waits (at most 10 s) until `count` callbacks ran; returns the outcomes by index.
    func await(_ count: Int) async -> [Int: [PutStatus]] {
        _ = await StoreFixtures.eventually { self.recorded.count >= count }
        return recorded
    }
}

/// `MessageStore.whenFlushed`: the task-free wait a broker answers SYNC_FLUSH sends from.
@Suite struct FlushCallbackTests {
    /// A SYNC_FLUSH store with a short flush timeout in a fresh directory.
    private static func openSyncStore(_ directory: StoreTestDirectory, timeout: Duration = .seconds(30)) throws -> MessageStore {
        var configuration = StoreFixtures.configuration(directory.path, segmentSize: 1 << 20, flushMode: .sync)
        configuration.syncFlushTimeout = timeout
        return try MessageStore.open(configuration, logger: StoreFixtures.logger)
    }

    /// A small message numbered `index`, waiting for its flush (no `WAIT=false`).
    private static func message(_ index: Int) -> StoredMessage {
        StoreFixtures.message(body: "flush-\(index)")
    }

    @Test("one flush round settles every callback waiter it covers (group commit)")
    func oneRoundSettlesManyCallbacks() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try Self.openSyncStore(directory)
        defer { try? store.close() }
        let outcomes = FlushOutcomes()
        let count = 50
        var ends: [Int64] = []
        // The round gate held stands for an msync in progress: every append waits for the next round.
        store.flushService.roundGate.hold()
        let roundsBefore = store.flushCount
        for index in 0..<count {
            let (result, target) = store.putWithoutFlushWait(batch: [Self.message(index)])
            #expect(result.status == .ok)
            let flushTarget = try #require(target, "a SYNC_FLUSH append waits for its flush")
            ends.append(flushTarget)
            #expect(store.whenFlushed(upTo: flushTarget, then: outcomes.callback(index)) == nil, "not durable yet")
        }
        #expect(store.flushService.waiterCount == count)
        #expect(outcomes.recorded.isEmpty, "no callback before the flush")
        store.flushService.roundGate.release()
        let settled = await outcomes.await(count)
        #expect(settled.count == count)
        #expect(settled.values.allSatisfy { $0 == [.ok] }, "every callback told .ok exactly once")
        #expect(store.flushedCommitLogOffset.rawValue >= ends.max()!)
        #expect(store.flushCount - roundsBefore == 1, "one round wrote and synced all \(count) appends")
        // Durable already: answered at once, the callback is never called.
        let late = FlushOutcomes()
        #expect(store.whenFlushed(upTo: ends[0], then: late.callback(0)) == .ok)
        #expect(late.recorded.isEmpty)
    }

    @Test("a stuck flush times callback and async waiters out with flushDiskTimeout")
    func stuckFlushTimesOut() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try Self.openSyncStore(directory, timeout: .milliseconds(200))
        defer { try? store.close() }
        let outcomes = FlushOutcomes()
        store.flushService.roundGate.hold()
        let (_, target) = store.putWithoutFlushWait(batch: [Self.message(0)])
        let flushTarget = try #require(target)
        #expect(store.whenFlushed(upTo: flushTarget, then: outcomes.callback(0)) == nil)
        // The task path times out the same way.
        let awaited = await store.put(Self.message(1))
        #expect(awaited.status == .flushDiskTimeout)
        let settled = await outcomes.await(1)
        #expect(settled[0] == [.flushDiskTimeout], "the sweeper settles callbacks while the msync is stuck")
        store.flushService.roundGate.release()
        // The bytes still become durable once the flush returns; a later wait sees it at once.
        #expect(await StoreFixtures.eventually { store.flushedCommitLogOffset.rawValue >= flushTarget })
        #expect(store.whenFlushed(upTo: flushTarget, then: outcomes.callback(2)) == .ok)
        #expect(outcomes.recorded[0] == [.flushDiskTimeout], "a settled callback is never called again")
    }

    @Test("closing the store settles pending callback waiters; later waits are refused at once")
    func closeSettlesPendingCallbacks() async throws {
        let directory = StoreTestDirectory()
        defer { directory.remove() }
        let store = try Self.openSyncStore(directory)
        let outcomes = FlushOutcomes()
        let (_, target) = store.putWithoutFlushWait(batch: [Self.message(0)])
        let written = try #require(target)
        // Beyond anything written: no flush round covers it, only the stop settles it.
        #expect(store.whenFlushed(upTo: written + 1 << 30, then: outcomes.callback(0)) == nil)
        try store.close()
        #expect(outcomes.recorded[0] == [.serviceNotAvailable], "settled before close returns")
        #expect(store.whenFlushed(upTo: written + 1 << 30, then: outcomes.callback(1)) == .serviceNotAvailable)
        #expect(outcomes.recorded[1] == nil)
    }
}
