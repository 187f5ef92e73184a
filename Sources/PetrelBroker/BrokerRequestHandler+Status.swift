import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore

/// GET_BROKER_RUNTIME_INFO (28, mqadmin `brokerStatus`) and DELETE_SUBSCRIPTIONGROUP (207, mqadmin
/// `deleteSubGroup`), spec §4.3.
extension BrokerRequestHandler {
    /// The release Petrel answers like, as Java's `MQVersion.getVersionDesc` names it.
    static let versionDescription = "V4_9_8"

    /// GET_BROKER_RUNTIME_INFO: a KVTable `{"table":{…}}` of the runtime figures Petrel measures.
    func brokerRuntimeInfo(_ request: RemotingCommand) -> RemotingCommand {
        request.response(body: KVTable(table: runtimeInfo(now: now)).jsonBuffer())
    }

    /// The runtime table at `now`, under Java's key names: version, uptime, message totals and rates,
    /// commit-log bounds, flush and dispatch backlog, disk usage. Figures Petrel does not measure
    /// (thread-pool queues, page-cache lock time, transient store pool) are left out rather than faked.
    func runtimeInfo(now: Int64) -> [String: String] {
        let statistics = self.statistics
        let midnight = statistics.midnightTotals
        let maximum = store.maximumCommitLogOffset.rawValue
        var table: [String: String] = [
            "brokerVersionDesc": Self.versionDescription,
            "brokerVersion": String(RemotingCommand.currentVersion),
            "bootTimestamp": String(statistics.bootTimestamp),
            "runtime": Self.uptimeText(milliseconds: now - statistics.bootTimestamp),
            "msgPutTotalTodayNow": String(statistics.putTotal),
            "msgGetTotalTodayNow": String(statistics.getTotal),
            "msgPutTotalTodayMorning": String(midnight.today.puts),
            "msgGetTotalTodayMorning": String(midnight.today.gets),
            "msgPutTotalYesterdayMorning": String(midnight.yesterday.puts),
            "msgGetTotalYesterdayMorning": String(midnight.yesterday.gets),
            "putTps": statistics.rates(now: now, puts: true),
            "getTransferedTps": statistics.rates(now: now, puts: false),
            "commitLogMinOffset": String(store.minimumCommitLogOffset.rawValue),
            "commitLogMaxOffset": String(maximum),
            "dispatchBehindBytes": String(max(0, maximum - store.dispatchedCommitLogOffset.rawValue)),
            "remainHowManyDataToFlush": Self.humanReadableBytes(max(0, maximum - store.flushedCommitLogOffset.rawValue)),
        ]
        // statvfs can fail (directory removed under a running broker): the key is then left out.
        if let ratio = try? System.diskUsageRatio(store.configuration.commitLogDirectory) {
            table["commitLogDiskRatio"] = String(ratio)
        }
        return table
    }

    /// DELETE_SUBSCRIPTIONGROUP: removes a group's settings (and with `removeOffset`, or 5.x's
    /// `cleanOffset`, its committed offsets). Java answers SUCCESS even for a group it never had;
    /// Petrel answers SUBSCRIPTION_GROUP_NOT_EXIST so a mistyped name is noticed, and refuses the
    /// system groups, which the broker recreates at every start anyway.
    func deleteSubscriptionGroup(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        let fields = RequestFields(command: request)
        let name = try fields.nonEmptyString("groupName")
        let cleanOffset = try fields.optionalBool("cleanOffset")
        let removeOffsets = try fields.optionalBool("removeOffset") ?? cleanOffset ?? false
        if SystemNames.systemGroups.contains(name) {
            throw RequestFailure(.systemError, "the subscription group[\(name)] is a system group and cannot be deleted")
        }
        let removed: Bool
        do { removed = try subscriptionGroups.delete(name) } catch {
            logger.error("persisting a group deletion failed", metadata: ["group": "\(name)", "error": "\(error)"])
            throw RequestFailure(.systemError, "the group is deleted in memory but the deletion could not be persisted: \(error.message)")
        }
        guard removed else {
            throw RequestFailure(.subscriptionGroupNotExist, "subscription group[\(name)] does not exist on broker \(configuration.brokerName)")
        }
        let topics = removeOffsets ? offsets.removeGroup(name) : []
        logger.info("subscription group deleted", metadata: [
            "group": "\(name)", "removeOffset": "\(removeOffsets)", "offsetTopics": "\(topics)",
        ])
        return request.response()
    }

    /// Uptime as Java's store prints `runtime`: `[ 0 days, 1 hours, 2 minutes, 3 seconds ]`.
    static func uptimeText(milliseconds: Int64) -> String {
        let seconds = max(0, milliseconds) / 1000
        return "[ \(seconds / 86400) days, \(seconds % 86400 / 3600) hours, \(seconds % 3600 / 60) minutes, \(seconds % 60) seconds ]"
    }

    /// Bytes as Java's `MixAll.humanReadableByteCount(bytes, false)`: `512 B`, `1.5 KiB`, `3.0 MiB`.
    static func humanReadableBytes(_ bytes: Int64) -> String {
        guard bytes >= 1024 else { return "\(bytes) B" }
        var exponent = 0
        var scaled = Double(bytes)
        while scaled >= 1024, exponent < 6 {
            scaled /= 1024
            exponent += 1
        }
        let prefix = Array("KMGTPE")[exponent - 1]
        let tenths = Int64((scaled * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(prefix)iB"
    }
}
