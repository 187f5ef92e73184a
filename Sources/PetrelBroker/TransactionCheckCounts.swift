import PetrelCore

/// Check-backs sent per half message, with change tracking so unchanged counts are not rewritten.
///
/// Saved as `<storeRoot>/config/transactionCheckCounts.json`: `{"checkCounts":{"<halfQueueOffset>":<count>}}`
/// (a Petrel file; Java instead re-appends the half message with an incremented
/// `TRANSACTION_CHECK_TIMES` property on every check, which costs a commit-log write per check).
struct CheckCounts: Sendable {
    /// Half queue offset → check-backs sent.
    var counts: [Int64: Int] = [:]
    /// Incremented on every change.
    var version: UInt64 = 0
    /// `version` as of the last successful write.
    var persistedVersion: UInt64 = 0
}

extension TransactionOutcomeTable {
    /// The counts file's name under `<storeRoot>/config/`.
    static let checkCountsFileName = "transactionCheckCounts.json"

    /// The counts saved in `file`; empty when there is no file.
    static func loadCheckCounts(_ file: MetadataFile) throws(BrokerError) -> [Int64: Int] {
        guard let json = try file.read() else { return [:] }
        var counts: [Int64: Int] = [:]
        do {
            let reader = try JSONObjectReader(json, context: checkCountsFileName)
            let table = try JSONObjectReader(reader.members["checkCounts"] ?? .object([:]), context: "checkCounts")
            for key in table.members.keys {
                guard let offset = Int64(key), let count = try table.int64(key) else {
                    throw CoreError(.invalidJSONField, "checkCounts.\(key): not a half queue offset with a count")
                }
                counts[offset] = Int(count)
            }
        } catch {
            throw BrokerError(.corruptMetadata, "\(file.path): \(error)")
        }
        return counts
    }

    /// Writes the counts when they changed since the last write.
    public func persistCheckCounts() throws(BrokerError) {
        try checkCountsPersistLock.withLock { _ throws(BrokerError) in
            let (snapshot, version, dirty) = checks.withLock { ($0.counts, $0.version, $0.version != $0.persistedVersion) }
            guard dirty else { return }
            let members = Dictionary(uniqueKeysWithValues: snapshot.map { (String($0.key), JSONValue.integer(Int64($0.value))) })
            try checkCountsFile.write(.object(["checkCounts": .object(members)]))
            checks.withLock { $0.persistedVersion = max($0.persistedVersion, version) }
        }
    }
}
