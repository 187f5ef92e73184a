import NIOCore

/// What a request handler did with a request on the connection's event loop
/// (`RemotingRequestHandler.handleOnEventLoop`).
public enum EventLoopAnswer: Sendable {
    /// Not handled there: `handle` runs the request in a task.
    case declined
    /// Answered at once with this response.
    case answered(RemotingCommand)
    /// Taken on: the handler answers it later, exactly once, with `RemotingConnection.answerLater`
    /// (a send waiting for its group-commit flush).
    case later
}

/// A response promised by a handler that answered `.later`, built on the event loop.
struct LaterAnswer: Sendable {
    /// The request answered.
    let request: RemotingCommand
    /// Builds the response; runs on the connection's event loop.
    let build: @Sendable () -> RemotingCommand
}

extension RemotingConnection {
    /// Answers `request` (taken on by a handler that returned `.later`) with the response `build`
    /// makes on the connection's event loop. Callable from any thread, and cheap enough for a thread
    /// that must not block: it queues the answer and, when the queue was empty, schedules one drain
    /// that builds, writes and flushes every answer queued by then (one flush round of the store
    /// settling many sends costs one hop and one write system call per connection). A oneway
    /// request is not answered, nor one whose connection closed meanwhile (its event loop may be
    /// gone by then: the store settles its waiters when it closes, after the server stopped).
    public func answerLater(_ request: RemotingCommand, building build: @escaping @Sendable () -> RemotingCommand) {
        guard !request.isOneway, channel.isActive else { return }
        let startsDrain = laterAnswers.withLockedValue { queued in
            queued.append(LaterAnswer(request: request, build: build))
            return queued.count == 1
        }
        if startsDrain { channel.eventLoop.execute { self.drainLaterAnswers() } }
    }

    /// Builds and writes every queued later answer, then flushes once: the drain runs in its own
    /// event-loop task, outside any read burst, so nothing else would flush them. Runs on the event loop.
    private func drainLaterAnswers() {
        let batch = laterAnswers.withLockedValue { queued in
            defer { queued.removeAll(keepingCapacity: true) }
            return queued
        }
        for answer in batch { writeAnswer(answer.build(), to: answer.request, flush: false) }
        channel.flush()
    }

    /// Writes `response` as the answer to `request`, flushed unless `flush` is false (then the caller
    /// flushes); a response that cannot be encoded is replaced by a SYSTEM_ERROR saying why, so the
    /// client is never left waiting. Does not wait for the write.
    func writeAnswer(_ response: RemotingCommand, to request: RemotingCommand, flush: Bool = true) {
        var response = response
        response.opaque = request.opaque
        response.serializeType = request.serializeType
        response.flag |= RemotingCommand.responseFlag
        let written = flush ? channel.writeAndFlush(response) : channel.write(response)
        written.whenFailure { [logger, channel] error in
            guard let error = error as? RemotingError, error.code == .encodeFailed else {
                logger.debug("could not deliver a response", metadata: ["code": "\(request.code)", "error": "\(error)"])
                return
            }
            logger.error("could not encode a response", metadata: ["code": "\(request.code)", "error": "\(error)"])
            let fallback = request.response(code: .systemError, remark: "could not encode the response: \(error.message)")
            channel.writeAndFlush(fallback).whenFailure { error in
                logger.debug("could not deliver a response", metadata: ["code": "\(request.code)", "error": "\(error)"])
            }
        }
    }
}
