import Foundation
import NIOCore
import PetrelCore
@testable import PetrelStore
import Testing

/// Crash recovery: a child process (`petrel-store-writer`) writing with 8 concurrent writers is
/// SIGKILLed again and again on the same store; after each kill the store must hold every
/// acknowledged message, byte for byte, with consume queues that agree with the commit log. Then
/// torn, zeroed and garbage tails, and damage in the middle of the log.
@Suite(.serialized) struct KillRecoveryTests {
    // MARK: - Kill tests

    // Both kill tests write v1 and compact records side by side (`--format mixed`: odd writers
    // compact), so each layout's torn-write handling is proven by killing, on both write paths.
    @Test("SIGKILL during SYNC_FLUSH writes: every ACKed message survives, queues agree with the log")
    func killDuringSyncFlushWrites() async throws {
        try await runKillRounds(flush: .sync, rounds: 20, label: "petrel-kill-sync")
    }

    @Test("SIGKILL during ASYNC_FLUSH writes: the page cache survives, so every ACKed message does too")
    func killDuringAsyncFlushWrites() async throws {
        try await runKillRounds(flush: .async, rounds: 5, label: "petrel-kill-async")
    }

    /// Runs `rounds` start–write–SIGKILL–recover–verify rounds on one store directory.
    private func runKillRounds(flush: FlushMode, rounds: Int, label: String) async throws {
        let executable = try KillChild.writerExecutable()
        let directory = StoreTestDirectory(label)
        // A failed round keeps the store (and the children's stderr) for inspection.
        var keep = false
        defer { if !keep { directory.remove() } }
        let root = directory.path + "/store"
        let configuration = KillChild.configuration(root: root, flush: flush)
        var model = KillModel()
        let started = Date()
        for round in 0..<rounds {
            let child = KillChild(executable: executable, root: root, flush: flush,
                                  stderrPath: directory.path + "/child-\(round).stderr", firstSequence: round * 1_000_000)
            let acks = try await child.runAndKill(runMilliseconds: Int.random(in: 50...400))
            let store: MessageStore
            do { store = try MessageStore.open(configuration, logger: StoreFixtures.logger) } catch {
                keep = true
                Issue.record("round \(round) (\(flush.rawValue)): recovery failed: \(error); the store is kept at \(root)")
                return
            }
            let problems = model.verify(store: store, round: round, newAcks: acks)
            try store.close()
            #expect(problems.count == 0, """
                round \(round) (\(flush.rawValue)): \(problems.count) problem(s) after recovery \
                (\(acks.count) new ACKs; child stderr: \(child.stderrTail())):
                \(problems.prefix(20).joined(separator: "\n"))
                """)
            if !problems.isEmpty {
                keep = true
                break
            }
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(model.ackedCount > 0)
        print("kill test \(flush.rawValue): \(rounds) rounds, \(model.ackedCount) ACKed, "
            + "\(model.found.count) messages in the store, \(model.tornTails) recoveries cut a torn tail, "
            + "\(String(format: "%.1f", elapsed)) s")
    }

    // MARK: - Torn, zeroed and garbage tails

    @Test("the last record cut at every byte is dropped, earlier ones stay, the next append lands there")
    func tornTailAtEveryByte() async throws {
        let directory = StoreTestDirectory("petrel-torn")
        defer { directory.remove() }
        let configuration = StoreFixtures.configuration(directory.path)
        let written = try await TailFixture.write(configuration, count: 24)
        let (last, end) = (written.last!.offset, written.endOffset)
        let segment = TailFixture.segmentPath(configuration, containing: last)
        let original = try TailFixture.read(segment, at: last % Int64(configuration.commitLogSegmentSize), count: Int(end - last))
        #expect(original.last != 0, "the fixture's last record must end in a non-zero byte, so every cut changes it")
        var failures: [String] = []
        for cut in (last + 1)..<end {
            var image = Array(original[0..<Int(cut - last)])
            image += [UInt8](repeating: 0, count: 4096 - image.count)
            try TailFixture.overwrite(segment, at: last % Int64(configuration.commitLogSegmentSize), with: image)
            try TailFixture.simulateCrash(configuration.rootDirectory)
            let problems = await TailFixture.expectTailDropped(configuration, written: written, replacement: "cut-\(cut)")
            if !problems.isEmpty { failures.append("cut at \(cut) (\(cut - last) of \(end - last) bytes kept): " + problems.joined(separator: "; ")) }
        }
        #expect(failures.count == 0, """
            \(failures.count) of \(end - last - 1) cuts of the record at \(last)..<\(end) were not recovered as a torn tail:
            \(failures.prefix(12).joined(separator: "\n"))
            """)
    }

    @Test("a zero-filled tail and a garbage tail both end the log at the last whole record")
    func zeroAndGarbageTails() async throws {
        let directory = StoreTestDirectory("petrel-tail")
        defer { directory.remove() }
        let configuration = StoreFixtures.configuration(directory.path)
        let written = try await TailFixture.write(configuration, count: 40)
        let last = written.last!.offset
        let segment = TailFixture.segmentPath(configuration, containing: last)
        let position = last % Int64(configuration.commitLogSegmentSize)

        // Zeros from the last record's start: it was never written.
        try TailFixture.overwrite(segment, at: position, with: [UInt8](repeating: 0, count: 4096))
        try TailFixture.simulateCrash(configuration.rootDirectory)
        let zeroProblems = await TailFixture.expectTailDropped(configuration, written: written, replacement: "after-zeros")
        #expect(zeroProblems.isEmpty, "zero-filled tail: \(zeroProblems.joined(separator: "; "))")

        // 300 random bytes from the last record's start, then zeros: not a record.
        var state: UInt64 = 0xBAD_7A11
        var garbage = (0..<300).map { _ in UInt8(truncatingIfNeeded: KillTestPayload.next(&state)) }
        garbage[4] = 0x13  // whatever the generator says, the magic is not a record magic
        garbage += [UInt8](repeating: 0, count: 4096 - garbage.count)
        try TailFixture.overwrite(segment, at: position, with: garbage)
        try TailFixture.simulateCrash(configuration.rootDirectory)
        let garbageProblems = await TailFixture.expectTailDropped(configuration, written: written, replacement: "after-garbage")
        #expect(garbageProblems.isEmpty, "garbage tail: \(garbageProblems.joined(separator: "; "))")

        // A clean restart afterwards keeps the replacement record where the garbage was.
        let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        #expect(store.recoveryReport.crashed == false)
        let replacement = try store.message(at: CommitLogOffset(last))
        #expect(String(buffer: replacement.message.body) == "after-garbage")
        #expect(store.maximumCommitLogOffset.rawValue > last)
        try store.close()
    }

    @Test("a NUL byte in topic or properties is refused at put: recovery reads one as a torn tail")
    func nulBytesRefused() async throws {
        let directory = StoreTestDirectory("petrel-nul")
        defer { directory.remove() }
        let store = try MessageStore.open(StoreFixtures.configuration(directory.path), logger: StoreFixtures.logger)
        let inKeys = await store.put(StoreFixtures.message(body: "x", keys: ["bad\u{0}key"]))
        let inTopic = await store.put(StoreFixtures.message(topic: "Bad\u{0}Topic", body: "x"))
        let fine = await store.put(StoreFixtures.message(body: "body with \u{0} is fine", keys: ["good"]))
        try store.close()
        guard case .messageIllegal = inKeys.status else { Issue.record("NUL in KEYS: \(inKeys.status)"); return }
        guard case .messageIllegal = inTopic.status else { Issue.record("NUL in topic: \(inTopic.status)"); return }
        #expect(fine.status == .ok)
    }

    // MARK: - Damage in the middle of the log

    @Test("a damaged record followed by valid ones stops start-up naming file and offset; truncateCorruptLog cuts there")
    func midLogCorruption() async throws {
        let directory = StoreTestDirectory("petrel-corrupt")
        defer { directory.remove() }
        var configuration = StoreFixtures.configuration(directory.path)
        let written = try await TailFixture.write(configuration, count: 700)
        let segmentSize = Int64(configuration.commitLogSegmentSize)
        // A record in the second segment with plenty of valid records after it.
        let victimIndex = try #require(written.records.firstIndex { $0.offset >= segmentSize + 4096 })
        let victim = written.records[victimIndex].offset
        #expect(victimIndex + 50 < written.records.count)
        let segment = TailFixture.segmentPath(configuration, containing: victim)
        try TailFixture.flipByte(segment, at: victim % segmentSize + Int64(StoredMessageLayout.bodyOffset) + 2)
        try TailFixture.simulateCrash(configuration.rootDirectory)

        do {
            let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
            try? store.close()
            Issue.record("opening a store with a damaged record in the middle of the log succeeded")
        } catch {
            #expect(error.code == .corruptLog, "\(error)")
            #expect(error.message.contains(segment), "message does not name the file \(segment): \(error.message)")
            #expect(error.message.contains("offset \(victim)"), "message does not name offset \(victim): \(error.message)")
            #expect(error.path == segment)
        }

        configuration.truncateCorruptLog = true
        let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        #expect(store.recoveryReport.crashed)
        #expect(store.recoveryReport.end == victim)
        #expect(store.maximumCommitLogOffset.rawValue == victim)
        for record in written.records[..<victimIndex] {
            let message = try store.message(at: CommitLogOffset(record.offset))
            #expect(String(buffer: message.message.body) == record.body)
        }
        #expect(throws: StoreError.self) { try store.message(at: CommitLogOffset(victim)) }
        for queueId: Int32 in 0..<2 {
            let expected = written.records[..<victimIndex].filter { $0.queueId == queueId }.count
            #expect(store.maximumOffset(topic: "TopicTest", queueId: queueId).rawValue == Int64(expected))
        }
        let again = await store.put(StoreFixtures.message(queueId: 0, body: "after-truncation"))
        #expect(again.status == .ok)
        #expect(again.appended?.firstOffset.rawValue == victim)
        #expect(String(buffer: try store.message(at: CommitLogOffset(victim)).message.body) == "after-truncation")
        try store.close()
    }

    @Test("a damaged record below the checkpoint's durable offset is corruption even without the abort marker")
    func corruptionBelowDurableCheckpoint() async throws {
        let directory = StoreTestDirectory("petrel-corrupt-ckpt")
        defer { directory.remove() }
        let configuration = StoreFixtures.configuration(directory.path)
        let written = try await TailFixture.write(configuration, count: 300)
        let segmentSize = Int64(configuration.commitLogSegmentSize)
        let dispatchedUpTo = written.records[100].offset
        let victim = written.records[200].offset
        let checkpointPath = configuration.rootDirectory + "/checkpoint"
        let closed = try Checkpoint.decode(try #require(try AtomicFile.read(checkpointPath)), path: checkpointPath)
        #expect(closed.commitLogFlushed == written.endOffset)
        // The commit log was durable up to the end, the queues and index only up to record 100:
        // recovery scans from record 100 and meets the damage below the durable offset.
        try AtomicFile.write(Checkpoint(commitLogFlushed: written.endOffset, dispatched: dispatchedUpTo,
                                        indexed: dispatchedUpTo, writtenAtMilliseconds: System.nowMilliseconds()).encoded(),
                             to: checkpointPath)
        let segment = TailFixture.segmentPath(configuration, containing: victim)
        try TailFixture.flipByte(segment, at: victim % segmentSize + Int64(StoredMessageLayout.bodyOffset) + 1)
        #expect(!FileManager.default.fileExists(atPath: configuration.rootDirectory + "/abort"))

        do {
            let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
            try? store.close()
            Issue.record("opening a store with a damaged record below the durable offset succeeded")
        } catch {
            #expect(error.code == .corruptLog, "\(error)")
            #expect(error.message.contains(segment), "message does not name the file \(segment): \(error.message)")
            #expect(error.message.contains("offset \(victim)"), "message does not name offset \(victim): \(error.message)")
        }
    }
}

// MARK: - The child process

/// One run of `petrel-store-writer`: started, fed to a reader thread, SIGKILLed.
struct KillChild {
    /// Seed of every body the child writes.
    static let seed: UInt64 = 0xC0FF_EE11
    /// Concurrent writers.
    static let writers = 8
    /// Largest body.
    static let bodySize = 512
    /// Segment size: small, so segments roll during every run.
    static let segmentSize = 256 * 1024
    /// The topic the child writes.
    static let topic = "KillTest"

    let executable: String
    let root: String
    let flush: FlushMode
    let stderrPath: String
    let firstSequence: Int
    /// `--format` of the child: standard, compact or mixed.
    var format = "mixed"

    /// The configuration the child opens the store with (keep in step with petrel-store-writer).
    static func configuration(root: String, flush: FlushMode) -> StoreConfiguration {
        // The shared fixture, with queue files and index sized for the child's ~30k messages a round.
        var configuration = StoreFixtures.configuration(root, segmentSize: segmentSize, flushMode: flush)
        configuration.consumeQueueUnitsPerFile = 1024
        configuration.indexSlotCount = 1024
        configuration.indexEntryCount = 4096
        return configuration
    }

    /// The built `petrel-store-writer`: next to the test product (SwiftPM puts every product of a
    /// build in one directory), or `PETREL_STORE_WRITER` when set.
    static func writerExecutable() throws -> String {
        let fileManager = FileManager.default
        if let override = ProcessInfo.processInfo.environment["PETREL_STORE_WRITER"], !override.isEmpty {
            guard fileManager.isExecutableFile(atPath: override) else {
                throw KillTestError("PETREL_STORE_WRITER=\(override) is not an executable file")
            }
            return override
        }
        var starts: [URL] = []
        if let executable = Bundle.main.executableURL { starts.append(executable.resolvingSymlinksInPath().deletingLastPathComponent()) }
        starts.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
        starts.append(Bundle.main.bundleURL.resolvingSymlinksInPath())
        if let first = CommandLine.arguments.first {
            starts.append(URL(fileURLWithPath: first).resolvingSymlinksInPath().deletingLastPathComponent())
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            starts.append(bundle.bundleURL.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        var searched: [String] = []
        for start in starts {
            // The test binary sits in the products directory itself (Linux) or a few levels inside
            // an .xctest bundle there (macOS): look in the start directory and its parents.
            var directory = start.standardizedFileURL
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent("petrel-store-writer").path
                if !searched.contains(directory.path) { searched.append(directory.path) }
                var isDirectory: ObjCBool = false
                if fileManager.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
                   fileManager.isExecutableFile(atPath: candidate) {
                    return candidate
                }
                directory.deleteLastPathComponent()
            }
        }
        throw KillTestError("""
            petrel-store-writer not found: build it first (`swift build --scratch-path <dir>`; `swift test` builds it \
            too) or set PETREL_STORE_WRITER. Looked in: \(searched.joined(separator: ", "))
            """)
    }

    /// Starts the child, waits for READY, lets it write for `runMilliseconds` (and until it has
    /// ACKed something), SIGKILLs it and returns every ACK it printed.
    func runAndKill(runMilliseconds: Int) async throws -> [KillAck] {
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--dir", root, "--segment-size", String(Self.segmentSize), "--flush", flush == .sync ? "sync" : "async",
            "--writers", String(Self.writers), "--body-size", String(Self.bodySize), "--seed", String(Self.seed),
            "--first-seq", String(firstSequence), "--format", format,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle.nullDevice
        let output = ChildOutput()
        try process.run()
        // Our copy of the write end must go, or the reader never sees end-of-file.
        try? pipe.fileHandleForWriting.close()
        let reader = pipe.fileHandleForReading
        let thread = Thread {
            while true {
                let data = reader.availableData
                if data.isEmpty { break }
                output.consume(data)
            }
            output.finish()
        }
        thread.name = "kill-test-reader"
        thread.start()

        let pid = process.processIdentifier
        let ready = await Self.poll(seconds: 30) { output.snapshot.ready || !process.isRunning }
        guard ready, process.isRunning else {
            if process.isRunning { kill(pid, SIGKILL) }
            throw KillTestError("petrel-store-writer did not become ready: \(output.snapshot.other) \(stderrTail())")
        }
        try await Task.sleep(for: .milliseconds(runMilliseconds))
        _ = await Self.poll(seconds: 15) { !output.snapshot.acks.isEmpty || !process.isRunning }
        guard process.isRunning else {
            throw KillTestError("petrel-store-writer exited by itself (\(process.terminationReason.rawValue), "
                + "status \(process.terminationStatus)): \(stderrTail())")
        }
        kill(pid, SIGKILL)
        guard await Self.poll(seconds: 15, { !process.isRunning }) else {
            throw KillTestError("petrel-store-writer (pid \(pid)) did not die after SIGKILL")
        }
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL,
                "child ended with \(process.terminationReason.rawValue)/\(process.terminationStatus), not SIGKILL")
        // Lines still in the pipe are read once the child is gone.
        let drained = await Self.poll(seconds: 10) { output.snapshot.ended }
        #expect(drained, "the child's stdout did not reach end-of-file after it died")
        let snapshot = output.snapshot
        #expect(snapshot.malformed.isEmpty, "malformed lines from the child: \(snapshot.malformed.prefix(5))")
        return snapshot.acks
    }

    /// The end of the child's stderr, for failure messages.
    func stderrTail() -> String {
        guard let data = FileManager.default.contents(atPath: stderrPath), !data.isEmpty else { return "(stderr empty)" }
        return String(decoding: data.suffix(2000), as: UTF8.self)
    }

    /// Polls `condition` every 2 ms for at most `seconds`.
    static func poll(seconds: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return condition()
    }
}

/// One `ACK` line.
struct KillAck: Hashable, Sendable {
    var key: KillMessageKey
    var placement: KillPlacement
}

/// Which message: writer and sequence number (its `KEYS`).
struct KillMessageKey: Hashable, Sendable, CustomStringConvertible {
    var writer: Int
    var sequence: Int
    var description: String { "w\(writer)-s\(sequence)" }

    /// Parses `w<writer>-s<sequence>`.
    init?(keys: String) {
        let parts = keys.split(separator: "-")
        guard parts.count == 2, parts[0].first == "w", parts[1].first == "s",
              let writer = Int(parts[0].dropFirst()), let sequence = Int(parts[1].dropFirst()) else { return nil }
        self.init(writer: writer, sequence: sequence)
    }

    init(writer: Int, sequence: Int) {
        self.writer = writer
        self.sequence = sequence
    }

    var queueId: Int32 { Int32(writer % 4) }
}

/// Where a message is: commit-log offset, queue offset (its queue id follows from the writer).
struct KillPlacement: Hashable, Sendable, CustomStringConvertible {
    var commitLogOffset: Int64
    var queueOffset: Int64
    var description: String { "log \(commitLogOffset) / queue \(queueOffset)" }
}

/// Collects the child's stdout lines; the reader thread feeds it, the test reads snapshots.
final class ChildOutput: @unchecked Sendable {
    struct Snapshot {
        var ready = false
        var ended = false
        var acks: [KillAck] = []
        var nacks = 0
        var other: [String] = []
        var malformed: [String] = []
    }

    private let lock = NSLock()
    private var state = Snapshot()
    private var partial: [UInt8] = []

    var snapshot: Snapshot { lock.withLock { state } }

    func consume(_ data: Data) {
        lock.withLock {
            partial.append(contentsOf: data)
            var start = 0
            while let newline = partial[start...].firstIndex(of: UInt8(ascii: "\n")) {
                handle(String(decoding: partial[start..<newline], as: UTF8.self))
                start = newline + 1
            }
            partial.removeFirst(start)
        }
    }

    func finish() { lock.withLock { state.ended = true } }

    /// Called with the lock held.
    private func handle(_ line: String) {
        let fields = line.split(separator: " ")
        switch fields.first {
        case "READY": state.ready = true
        case "ACK":
            guard fields.count == 5, let writer = Int(fields[1]), let sequence = Int(fields[2]),
                  let log = Int64(fields[3]), let queue = Int64(fields[4]) else {
                state.malformed.append(line)
                return
            }
            state.acks.append(KillAck(key: KillMessageKey(writer: writer, sequence: sequence),
                                      placement: KillPlacement(commitLogOffset: log, queueOffset: queue)))
        case "NACK": state.nacks += 1
        default: if state.other.count < 20 { state.other.append(line) }
        }
    }
}

struct KillTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - What the store must hold

/// Everything the kill test knows across rounds: every ACK ever printed and every message found
/// after the previous recovery, with their placements.
struct KillModel {
    /// Every ACKed message, with where the child was told it went.
    var acked: [KillMessageKey: KillPlacement] = [:]
    /// Which message each ACKed (queue id, queue offset) belongs to.
    var ackedQueueSlots: [QueueSlot: KillMessageKey] = [:]
    /// Every message found in the queues after the last recovery.
    var found: [KillMessageKey: KillPlacement] = [:]
    /// Each queue's maximum offset after the last recovery: the next run appends from there.
    var queueFloors: [Int32: Int64] = [:]
    /// The log's end after the last recovery.
    var logFloor: Int64 = 0
    /// Recoveries that cut a torn or garbage tail (for the summary line).
    var tornTails = 0
    /// Expected bodies, computed once.
    private var bodies: [KillMessageKey: [UInt8]] = [:]

    struct QueueSlot: Hashable {
        var queueId: Int32
        var queueOffset: Int64
    }

    var ackedCount: Int { acked.count }

    private mutating func expectedBody(_ key: KillMessageKey) -> [UInt8] {
        if let body = bodies[key] { return body }
        let body = KillTestPayload.body(seed: KillChild.seed, writer: key.writer, sequence: key.sequence,
                                        maximumSize: KillChild.bodySize)
        bodies[key] = body
        return body
    }

    /// Checks a freshly recovered store against everything known; returns the problems found.
    mutating func verify(store: MessageStore, round: Int, newAcks: [KillAck]) -> [String] {
        var problems: [String] = []
        let report = store.recoveryReport
        if !report.crashed { problems.append("recovery did not notice the crash (no abort marker?)") }
        if report.stopReason != nil || report.erasedTailBytes > 0 { tornTails += 1 }
        if report.end != store.maximumCommitLogOffset.rawValue {
            problems.append("recovered end \(report.end) != maximum commit-log offset \(store.maximumCommitLogOffset)")
        }

        // This round's ACKs: fresh keys, queue offsets above what the last recovery left, no slot reused.
        for ack in newAcks {
            if let earlier = acked[ack.key] {
                problems.append("\(ack.key) ACKed twice (\(earlier), then \(ack.placement))")
            }
            let slot = QueueSlot(queueId: ack.key.queueId, queueOffset: ack.placement.queueOffset)
            if let owner = ackedQueueSlots[slot], owner != ack.key {
                problems.append("queue \(slot.queueId) offset \(slot.queueOffset) ACKed for \(owner) and again for \(ack.key)")
            }
            if ack.placement.queueOffset < queueFloors[ack.key.queueId, default: 0] {
                problems.append("\(ack.key) ACKed at queue offset \(ack.placement.queueOffset), below the queue's "
                    + "recovered maximum \(queueFloors[ack.key.queueId, default: 0]) before this run")
            }
            if ack.placement.commitLogOffset < logFloor {
                problems.append("\(ack.key) ACKed at log offset \(ack.placement.commitLogOffset), below the recovered end \(logFloor)")
            }
            acked[ack.key] = ack.placement
            ackedQueueSlots[slot] = ack.key
        }

        // Each new ACK directly, by its commit-log offset.
        for ack in newAcks {
            do {
                let message = try store.message(at: CommitLogOffset(ack.placement.commitLogOffset))
                problems += check(message, expectedKey: ack.key, queueId: ack.key.queueId,
                                  queueOffset: ack.placement.queueOffset, at: ack.placement.commitLogOffset)
            } catch {
                problems.append("ACKed \(ack.key) at \(ack.placement) is not readable: \(error)")
            }
        }

        // Walk every queue densely; every message in it must be one the child wrote.
        var nowFound: [KillMessageKey: KillPlacement] = [:]
        var maxima: [Int32: Int64] = [:]
        var units = 0
        for queueId: Int32 in 0..<4 {
            let minimum = store.minimumOffset(topic: KillChild.topic, queueId: queueId).rawValue
            let maximum = store.maximumOffset(topic: KillChild.topic, queueId: queueId).rawValue
            maxima[queueId] = maximum
            if minimum != 0 { problems.append("queue \(queueId) starts at \(minimum), not 0") }
            if maximum < queueFloors[queueId, default: 0] {
                problems.append("queue \(queueId) shrank: maximum \(maximum) < \(queueFloors[queueId, default: 0]) after the last recovery")
            }
            var cursor = minimum
            while cursor < maximum {
                let got = store.getMessages(topic: KillChild.topic, queueId: queueId, offset: QueueOffset(cursor),
                                            maximumCount: 1024, maximumBytes: 64 * 1024 * 1024)
                guard got.status == .found, !got.records.isEmpty else {
                    problems.append("queue \(queueId): reading at \(cursor) of \(maximum) gave \(got.status)")
                    break
                }
                for (record, queueOffset) in zip(got.records, got.queueOffsets) {
                    if queueOffset.rawValue != cursor {
                        problems.append("queue \(queueId): offset \(queueOffset) follows \(cursor - 1) (gap)")
                        cursor = queueOffset.rawValue
                    }
                    units += 1
                    let message: StoredMessage
                    do { message = try record.decode() } catch {
                        problems.append("queue \(queueId) offset \(cursor) (log \(record.commitLogOffset)) does not decode: \(error)")
                        cursor += 1
                        continue
                    }
                    let keys = message.message.properties[PropertyKey.keys] ?? ""
                    guard let key = KillMessageKey(keys: keys) else {
                        problems.append("queue \(queueId) offset \(cursor): unexpected KEYS '\(keys)'")
                        cursor += 1
                        continue
                    }
                    problems += check(message, expectedKey: key, queueId: queueId, queueOffset: cursor,
                                      at: record.commitLogOffset.rawValue)
                    let placement = KillPlacement(commitLogOffset: record.commitLogOffset.rawValue, queueOffset: cursor)
                    if let twice = nowFound[key] { problems.append("\(key) stored twice: \(twice) and \(placement)") }
                    nowFound[key] = placement
                    cursor += 1
                }
                if got.nextBeginOffset.rawValue != cursor {
                    problems.append("queue \(queueId): next begin offset \(got.nextBeginOffset) != \(cursor)")
                    cursor = max(cursor, got.nextBeginOffset.rawValue)
                }
            }
        }

        // The commit log holds exactly the records the queues point at.
        problems += checkLogWalk(store: store, queueUnits: units)

        // ⊇ ACKed, and nothing found after the last recovery moved or vanished.
        for (key, placement) in acked {
            guard let where_ = nowFound[key] else {
                problems.append("ACKed \(key) at \(placement) is missing from its queue")
                continue
            }
            if where_ != placement { problems.append("ACKed \(key) was at \(placement), now at \(where_)") }
        }
        for (key, placement) in found where nowFound[key] != placement {
            problems.append("\(key), recovered last round at \(placement), is now at \(nowFound[key].map { "\($0)" } ?? "nowhere")")
        }
        found = nowFound
        queueFloors = maxima
        logFloor = store.maximumCommitLogOffset.rawValue
        return problems
    }

    /// Checks one decoded message against what the child wrote for `expectedKey`.
    private mutating func check(_ message: StoredMessage, expectedKey: KillMessageKey, queueId: Int32,
                                queueOffset: Int64, at offset: Int64) -> [String] {
        var problems: [String] = []
        let what = "\(expectedKey) at log \(offset)"
        if message.message.topic != KillChild.topic { problems.append("\(what): topic '\(message.message.topic)'") }
        if message.message.keys != [expectedKey.description] { problems.append("\(what): KEYS \(message.message.keys)") }
        if message.message.tags != "T\(expectedKey.sequence % 3)" { problems.append("\(what): TAGS \(message.message.tags ?? "nil")") }
        if message.queueId != queueId || expectedKey.queueId != queueId {
            problems.append("\(what): queue id \(message.queueId), expected \(queueId) (writer \(expectedKey.writer))")
        }
        if message.queueOffset.rawValue != queueOffset {
            problems.append("\(what): QUEUEOFFSET \(message.queueOffset), expected \(queueOffset)")
        }
        if message.commitLogOffset.rawValue != offset { problems.append("\(what): PHYSICALOFFSET \(message.commitLogOffset)") }
        // The store patches the timestamp inside its lock; a record recovered without it was torn.
        if abs(message.storeTimestamp - System.nowMilliseconds()) > 3_600_000 {
            problems.append("\(what): STORETIMESTAMP \(message.storeTimestamp) is not a time of this test run")
        }
        if message.storeHost != KillChild.configuration(root: "", flush: .sync).storeHost {
            problems.append("\(what): STOREHOST \(message.storeHost)")
        }
        let body = Array(message.message.body.readableBytesView)
        if body != expectedBody(expectedKey) {
            problems.append("\(what): body of \(body.count) bytes differs from the generated \(expectedBody(expectedKey).count) bytes")
        }
        return problems
    }

    /// Walks the commit log record by record (checksums verified) and compares the count of
    /// message records with the consume-queue units.
    private func checkLogWalk(store: MessageStore, queueUnits: Int) -> [String] {
        let log = store.commitLog
        let end = log.writtenOffset
        var position = log.minimumOffset
        var messages = 0
        while position < end {
            guard let segment = log.segment(containing: position) else {
                return ["log walk: no segment holds \(position) (end \(end))"]
            }
            switch RecordScanner.scan(segment, position: Int(position - segment.startOffset), verifyChecksum: true) {
            case .message(let request):
                messages += 1
                position += Int64(request.size)
            case .blank(let size):
                position += Int64(size)
            case .empty:
                return ["log walk: zeros at \(position) below the end \(end)"]
            case .invalid(let reason):
                return ["log walk: invalid record at \(position) below the end \(end): \(reason)"]
            }
        }
        if position != end { return ["log walk ended at \(position), not at the end \(end)"] }
        if messages != queueUnits { return ["the log holds \(messages) message records, the queues \(queueUnits) units"] }
        return []
    }
}

/// The deterministic message body of (seed, writer, sequence). A copy of the one in
/// Sources/petrel-store-writer/main.swift; the two must stay byte-for-byte identical.
enum KillTestPayload {
    /// splitmix64: advances `state` and returns the next output.
    static func next(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A body of 1...maximumSize bytes: "w<writer>-s<sequence>-" followed by generated bytes,
    /// cut to a generated length.
    static func body(seed: UInt64, writer: Int, sequence: Int, maximumSize: Int) -> [UInt8] {
        var state = seed ^ (UInt64(truncatingIfNeeded: writer) << 48) ^ UInt64(truncatingIfNeeded: sequence)
        _ = next(&state)
        let length = 1 + Int(next(&state) % UInt64(max(maximumSize, 1)))
        var bytes = Array("w\(writer)-s\(sequence)-".utf8.prefix(length))
        bytes.reserveCapacity(length)
        while bytes.count < length {
            var word = next(&state)
            for _ in 0..<8 where bytes.count < length {
                bytes.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return bytes
    }
}

// MARK: - Tail and corruption helpers

/// Writes a known store, then edits its files the way a crash or bad disk would.
enum TailFixture {
    struct Record {
        var offset: Int64
        var queueId: Int32
        var body: String
    }

    struct Written {
        var records: [Record]
        var endOffset: Int64
        var last: Record? { records.last }
    }

    /// Writes `count` messages (alternating queues 0 and 1) and closes the store cleanly.
    static func write(_ configuration: StoreConfiguration, count: Int) async throws -> Written {
        let store = try MessageStore.open(configuration, logger: StoreFixtures.logger)
        var records: [Record] = []
        for index in 0..<count {
            let queueId = Int32(index % 2)
            let body = "tail-body-\(index)-" + String(repeating: "abcdefgh", count: 1 + index % 7)
            let result = await store.put(StoreFixtures.message(queueId: queueId, body: body, tags: "Tag\(index % 3)",
                                                               keys: ["tail-\(index)"]))
            #expect(result.status == .ok)
            let appended = try #require(result.appended)
            records.append(Record(offset: appended.firstOffset.rawValue, queueId: queueId, body: body))
        }
        let end = store.maximumCommitLogOffset.rawValue
        try store.close()
        return Written(records: records, endOffset: end)
    }

    /// The segment file holding `offset`.
    static func segmentPath(_ configuration: StoreConfiguration, containing offset: Int64) -> String {
        let size = Int64(configuration.commitLogSegmentSize)
        return configuration.commitLogDirectory + "/" + MappedFile.fileName(for: offset / size * size)
    }

    static func read(_ path: String, at position: Int64, count: Int) throws -> [UInt8] {
        let descriptor = try System.open(path, create: false)
        defer { _ = try? System.close(descriptor, path: path) }
        return try System.read(descriptor, count: count, at: position, path: path)
    }

    static func overwrite(_ path: String, at position: Int64, with bytes: [UInt8]) throws {
        guard let handle = FileHandle(forUpdatingAtPath: path) else { throw KillTestError("cannot open \(path)") }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(position))
        try handle.write(contentsOf: bytes)
    }

    static func flipByte(_ path: String, at position: Int64) throws {
        let byte = try read(path, at: position, count: 1)
        try overwrite(path, at: position, with: [byte[0] ^ 0x5A])
    }

    /// What a crash leaves: the abort marker, and no checkpoint newer than the damage.
    static func simulateCrash(_ root: String) throws {
        try? FileManager.default.removeItem(atPath: root + "/checkpoint")
        _ = FileManager.default.createFile(atPath: root + "/abort", contents: nil)
    }

    /// Opens the crashed store and checks that it ends at the last record's start, that everything
    /// before is intact, and that a new append lands there; closes it. Returns the problems.
    static func expectTailDropped(_ configuration: StoreConfiguration, written: Written, replacement: String) async -> [String] {
        let last = written.records[written.records.count - 1]
        let store: MessageStore
        do { store = try MessageStore.open(configuration, logger: StoreFixtures.logger) } catch {
            return ["open failed: \(error)"]
        }
        var problems: [String] = []
        let report = store.recoveryReport
        if !report.crashed { problems.append("not recovered as a crash") }
        if report.end != last.offset {
            problems.append("log ends at \(report.end), expected \(last.offset) (stop reason: \(report.stopReason ?? "none"))")
        }
        if store.maximumCommitLogOffset.rawValue != last.offset { problems.append("maximum offset \(store.maximumCommitLogOffset)") }
        for record in written.records.dropLast() {
            guard let message = try? store.message(at: CommitLogOffset(record.offset)),
                  String(buffer: message.message.body) == record.body else {
                problems.append("record at \(record.offset) lost or changed")
                continue
            }
        }
        if report.end == last.offset, (try? store.message(at: CommitLogOffset(last.offset))) != nil {
            problems.append("the torn record is still readable")
        }
        for queueId: Int32 in 0..<2 {
            let expected = Int64(written.records.dropLast().filter { $0.queueId == queueId }.count)
            let maximum = store.maximumOffset(topic: "TopicTest", queueId: queueId).rawValue
            if maximum != expected { problems.append("queue \(queueId) maximum \(maximum), expected \(expected)") }
        }
        let result = await store.put(StoreFixtures.message(queueId: last.queueId, body: replacement))
        if result.status != .ok { problems.append("append after recovery: \(result.status)") }
        if result.appended?.firstOffset.rawValue != last.offset {
            problems.append("append after recovery landed at \(result.appended.map { "\($0.firstOffset)" } ?? "nil"), expected \(last.offset)")
        } else if let message = try? store.message(at: CommitLogOffset(last.offset)) {
            if String(buffer: message.message.body) != replacement { problems.append("the new record reads back wrong") }
        } else {
            problems.append("the new record is not readable")
        }
        do { try store.close() } catch { problems.append("close failed: \(error)") }
        return problems
    }
}
