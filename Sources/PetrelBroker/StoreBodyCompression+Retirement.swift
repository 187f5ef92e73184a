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
/// puts its dictionary back in use (durably, when it was already retired), or brings it back when the
/// latest pass deleted it after the record was read. The retired offsets are
/// persisted in `config/dictionaries/retired`; after a crash every other superseded dictionary starts
/// again as in use.
extension StoreBodyCompression {
    /// How often `retireDictionaries` runs (the broker's retirement loop).
    public static let retirementInterval: Duration = .seconds(60)

    /// The retired-offsets file.
    static func retiredPath(storeRoot: String) -> String { CompressionDictionaryFile.directory(storeRoot: storeRoot) + "/retired" }

    /// One pass: advances superseded dictionaries' states and deletes those below `minimumOffset`.
    /// Returns the ids deleted. The check and the delete (state and file) happen under the state
    /// lock, as does `noteRestored`: a dictionary put back in use before the pass is not deleted,
    /// and one deleted by it is seen as deleted (and can be brought back until the next pass).
    @discardableResult
    public func retireDictionaries(minimumOffset: Int64, maximumOffset: Int64) -> [UInt32] {
        let (changed, deleted, failures): (Bool, [UInt32], [String]) = state.withLock { state in
            state.deletedByLastPass = [:]
            var changed = false
            var due: [UInt32] = []
            for (id, dictionary) in state.dictionaries where state.current[dictionary.topic] != id {
                switch state.retirement[id] {
                case nil:
                    state.retirement[id] = .settling
                case .settling:
                    state.retirement[id] = .retired(after: maximumOffset)
                    changed = true
                case .retired(let after) where after < minimumOffset:
                    due.append(id)
                case .retired:
                    break
                }
            }
            let (deleted, failures) = deleteDictionaries(due, in: &state)
            return (changed || !deleted.isEmpty, deleted, failures)
        }
        for failure in failures {
            logger.error("deleting a compression dictionary failed; the next pass tries again", metadata: ["error": "\(failure)"])
        }
        for id in deleted {
            logger.info("deleted a compression dictionary no stored message uses", metadata: ["dictionary": "\(id)"])
        }
        guard changed, let storeRoot else { return deleted }
        do { try persistRetired(storeRoot: storeRoot) } catch {
            logger.error("retiring compression dictionaries failed; the next pass tries again", metadata: ["error": "\(error)"])
        }
        return deleted
    }

    /// Deletes the files of `ids` and drops them from `state` (called under the state lock); a
    /// dictionary whose file cannot be deleted stays retired for the next pass. Returns the ids
    /// deleted and the failures.
    private func deleteDictionaries(_ ids: [UInt32], in state: inout DictionaryState) -> ([UInt32], [String]) {
        var deleted: [UInt32] = []
        var failures: [String] = []
        for id in ids {
            if let storeRoot {
                do { try System.remove(CompressionDictionaryFile.path(storeRoot: storeRoot, id: id)) } catch {
                    failures.append("cannot delete dictionary \(id): \(error)")
                    continue
                }
            }
            deleted.append(id)
            state.deletedByLastPass[id] = state.dictionaries[id]
            state.dictionaries[id] = nil
            state.retirement[id] = nil
            state.decompressing[id] = nil
            state.compressing = state.compressing.filter { $0.key.id != id }
        }
        return (deleted, failures)
    }

    /// What `noteRestored` found.
    private struct RestoreCheck: Sendable {
        /// One of the dictionaries had been retired (the retired file changes).
        var wasRetired = false
        /// Dictionaries the latest pass had deleted, brought back.
        var broughtBack: [UInt32] = []
        /// Dictionaries the broker does not have.
        var unknown: [UInt32] = []
    }

    /// Puts the dictionaries of zstd bodies about to be re-stored unchanged back in use; call before
    /// the append. Atomic with retirement passes (one lock): a dictionary put back before a pass is
    /// not deleted by it, and one the latest pass deleted (the record was read before the delete) is
    /// brought back, its file written again, before the copy is appended. Throws when that file
    /// cannot be written: the copy would name a dictionary the broker no longer has, so it must not
    /// be stored. A body naming a dictionary the broker does not have at all (a lost file) is already
    /// undecodable; it is copied as it is (Petrel's client moves it to the dead-letter topic), logged.
    public func noteRestored(_ messages: [StoredMessage]) throws(BrokerError) {
        let ids = Set(messages.compactMap { message -> UInt32? in
            guard message.sysFlag.compression == .zstd else { return nil }
            let envelope = message.message.body.withUnsafeReadableBytes { try? CompressedBodyEnvelope(parsing: $0) }
            return envelope.map(\.dictionaryId).flatMap { $0 == 0 ? nil : $0 }
        })
        guard !ids.isEmpty else { return }
        let outcome: Result<RestoreCheck, BrokerError> = state.withLock { state in
            var check = RestoreCheck()
            for id in ids.sorted() {
                if state.dictionaries[id] != nil {
                    if case .retired = state.retirement[id] { check.wasRetired = true }
                    state.retirement[id] = nil
                } else if let dictionary = state.deletedByLastPass[id] {
                    if let storeRoot {
                        do { try CompressionDictionaryFile.write(dictionary, storeRoot: storeRoot) } catch {
                            return .failure(BrokerError(.compressionFailure, """
                                compression dictionary \(id) was deleted by a retirement pass while a copy of a message using it was \
                                being stored, and writing it back failed: \(error); the copy is not stored
                                """))
                        }
                    }
                    state.deletedByLastPass[id] = nil
                    state.dictionaries[id] = dictionary
                    check.broughtBack.append(id)
                } else {
                    check.unknown.append(id)
                }
            }
            return .success(check)
        }
        let check: RestoreCheck
        switch outcome {
        case .success(let value): check = value
        case .failure(let error): throw error
        }
        if !check.broughtBack.isEmpty {
            logger.warning("a message was re-stored just after its compression dictionary was retired; the dictionary is back in use",
                           metadata: ["dictionaries": "\(check.broughtBack)"])
        }
        if !check.unknown.isEmpty {
            logger.warning("a message re-stored unchanged names a compression dictionary this broker does not have; its body stays undecodable",
                           metadata: ["dictionaries": "\(check.unknown)"])
        }
        guard check.wasRetired, let storeRoot else { return }
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
