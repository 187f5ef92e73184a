import NIOCore
import PetrelCore
import PetrelPluginHost
import PetrelStore

/// Deleting dictionaries no stored record can use any more.
///
/// A dictionary superseded by a newer one of its topic goes through three states, one per
/// `retireDictionaries` pass (every `retirementInterval`): in use → settling → retired after the commit
/// log's end offset of that pass. The settling pass leaves a whole interval for sends compressed with it
/// just before the switch to be appended. Once the commit log's minimum offset passes that end, every
/// record that could reference it is deleted, and so is the dictionary file. A body the broker re-stores
/// unchanged (retry, schedule, timer, transaction commit) calls `noteRestored` before its append, which
/// puts its dictionary back in use (durably, when it was already retired). The retired offsets are
/// persisted in `config/dictionaries/retired`; after a crash every other superseded dictionary starts
/// again as in use.
extension StoreBodyCompression {
    /// How often `retireDictionaries` runs (the broker's retirement loop).
    public static let retirementInterval: Duration = .seconds(60)

    /// The retired-offsets file.
    static func retiredPath(storeRoot: String) -> String { CompressionDictionaryFile.directory(storeRoot: storeRoot) + "/retired" }

    /// One pass: advances superseded dictionaries' states and deletes those below `minimumOffset`.
    /// Returns the ids deleted.
    @discardableResult
    public func retireDictionaries(minimumOffset: Int64, maximumOffset: Int64) -> [UInt32] {
        let (changed, deleted): (Bool, [UInt32]) = state.withLock { state in
            var changed = false
            var deleted: [UInt32] = []
            for (id, dictionary) in state.dictionaries where state.current[dictionary.topic] != id {
                switch state.retirement[id] {
                case nil:
                    state.retirement[id] = .settling
                case .settling:
                    state.retirement[id] = .retired(after: maximumOffset)
                    changed = true
                case .retired(let after) where after < minimumOffset:
                    deleted.append(id)
                case .retired:
                    break
                }
            }
            for id in deleted {
                state.dictionaries[id] = nil
                state.retirement[id] = nil
                state.decompressing[id] = nil
                state.compressing = state.compressing.filter { $0.key.id != id }
            }
            return (changed || !deleted.isEmpty, deleted)
        }
        guard changed, let storeRoot else { return deleted }
        do throws(BrokerError) {
            for id in deleted {
                do { try System.remove(CompressionDictionaryFile.path(storeRoot: storeRoot, id: id)) } catch {
                    throw BrokerError(.metadataFailure, "cannot delete dictionary \(id): \(error)")
                }
                logger.info("deleted a compression dictionary no stored message uses", metadata: ["dictionary": "\(id)"])
            }
            try persistRetired(storeRoot: storeRoot)
        } catch {
            logger.error("retiring compression dictionaries failed; the next pass tries again", metadata: ["error": "\(error)"])
        }
        return deleted
    }

    /// Puts the dictionaries of zstd bodies about to be re-stored unchanged back in use; call before
    /// the append. Persists the change when one of them was already retired.
    public func noteRestored(_ messages: [StoredMessage]) {
        let ids = Set(messages.compactMap { message -> UInt32? in
            guard message.sysFlag.compression == .zstd else { return nil }
            let envelope = message.message.body.withUnsafeReadableBytes { try? CompressedBodyEnvelope(parsing: $0) }
            return envelope.map(\.dictionaryId).flatMap { $0 == 0 ? nil : $0 }
        })
        guard !ids.isEmpty else { return }
        let wasRetired: Bool = state.withLock { state in
            var wasRetired = false
            for id in ids {
                if case .retired = state.retirement[id] { wasRetired = true }
                state.retirement[id] = nil
            }
            return wasRetired
        }
        guard wasRetired, let storeRoot else { return }
        do { try persistRetired(storeRoot: storeRoot) } catch {
            logger.error("cannot record that a retired dictionary is in use again", metadata: ["error": "\(error)"])
        }
    }

    /// Writes the retired offsets as they are now. Writers are serialised and each snapshots the
    /// state inside the lock: with snapshots taken before it, a pass and a re-store writing at once
    /// could land the older snapshot last (a dictionary back in use persisted as retired, deleted
    /// after a restart while re-stored bodies use it), and they shared one temporary file.
    func persistRetired(storeRoot: String) throws(BrokerError) {
        let failure: BrokerError? = retiredFileLock.withLock { _ in
            let retired = state.withLock { $0.retiredOffsets }
            do throws(BrokerError) { try Self.writeRetired(retired, storeRoot: storeRoot) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// Writes `id offset` lines, crash-safely.
    static func writeRetired(_ retired: [UInt32: Int64], storeRoot: String) throws(BrokerError) {
        let text = retired.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)\n" }.joined()
        do { try AtomicFile.write(Array(text.utf8), to: retiredPath(storeRoot: storeRoot)) } catch {
            throw BrokerError(.metadataFailure, "cannot write \(retiredPath(storeRoot: storeRoot)): \(error)")
        }
    }

    /// The retired offsets on disk (lines of unknown dictionaries are ignored by the caller).
    static func readRetired(storeRoot: String) throws(BrokerError) -> [UInt32: Int64] {
        let path = retiredPath(storeRoot: storeRoot)
        let bytes: [UInt8]?
        do { bytes = try AtomicFile.read(path) } catch { throw BrokerError(.metadataFailure, "cannot read \(path): \(error)") }
        var retired: [UInt32: Int64] = [:]
        for line in String(decoding: bytes ?? [], as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let id = UInt32(parts[0]), let offset = Int64(parts[1]) else {
                throw BrokerError(.corruptMetadata, "\(path): bad line '\(line)'")
            }
            retired[id] = offset
        }
        return retired
    }
}

/// Where a superseded dictionary is on its way to deletion.
enum DictionaryRetirement: Hashable, Sendable {
    /// Superseded; one more pass before its last possible use is fixed.
    case settling
    /// No record written after commit-log offset `after` uses it.
    case retired(after: Int64)
}
