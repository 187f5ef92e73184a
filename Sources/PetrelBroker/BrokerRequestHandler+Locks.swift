import NIOCore
import PetrelCore
import PetrelRemoting

/// Orderly consumption locks: LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42), spec §17.
extension BrokerRequestHandler {
    /// Grants the client the queues nobody else holds (or whose holder's lock expired, or whose holder
    /// is no longer a consumer of the group); answers `{"lockOKMQSet":[…]}` with the queues it now holds.
    func lockBatch(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        let body = try lockBody(request, name: "LOCK_BATCH_MQ")
        let members = Set(clients.consumerIds(group: body.consumerGroup))
        let granted = queueLocks.lock(
            group: body.consumerGroup, clientId: body.clientId, queues: body.queues, now: now,
            isAlive: { members.contains($0) })
        if granted.count < Set(body.queues).count {
            logger.debug("queue lock refused", metadata: [
                "group": "\(body.consumerGroup)", "client": "\(body.clientId)",
                "asked": "\(Set(body.queues).count)", "granted": "\(granted.count)",
            ])
        }
        let response = JSONValue.object(["lockOKMQSet": .array(granted.map(\.json))])
        return request.response(body: ByteBuffer(bytes: response.serialized()))
    }

    /// Releases the queues the client holds among those named; SUCCESS.
    func unlockBatch(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        let body = try lockBody(request, name: "UNLOCK_BATCH_MQ")
        queueLocks.unlock(group: body.consumerGroup, clientId: body.clientId, queues: body.queues)
        return request.response()
    }

    /// The request's lock body; SYSTEM_ERROR naming what is wrong.
    private func lockBody(_ request: RemotingCommand, name: String) throws(RequestFailure) -> LockBatchRequestBody {
        guard let buffer = request.body, buffer.readableBytes > 0 else {
            throw RequestFailure(.systemError, "the \(name) body is missing")
        }
        let body: LockBatchRequestBody
        do { body = try LockBatchRequestBody(jsonBuffer: buffer) } catch {
            throw RequestFailure(.systemError, "the \(name) body is not LockBatchRequestBody JSON: \(error.message)")
        }
        guard !body.consumerGroup.isEmpty else { throw RequestFailure(.systemError, "the \(name) body's consumerGroup is empty") }
        guard !body.clientId.isEmpty else { throw RequestFailure(.systemError, "the \(name) body's clientId is empty") }
        return body
    }
}
