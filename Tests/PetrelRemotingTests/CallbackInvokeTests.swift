import NIOCore
import NIOPosix
import PetrelRemoting
import PetrelTestSupport
import Synchronization
import Testing

/// What the completions of callback `invoke`s reported, by opaque.
final class CompletionLog: Sendable {
    /// Every outcome, in the order the completions ran, with whether each ran on its event loop.
    let outcomes = Mutex<[(opaque: Int32, result: Result<RemotingCommand, RemotingError>, onEventLoop: Bool)]>([])

    /// A completion for `request` that records its outcome.
    func completion(for request: RemotingCommand) -> @Sendable (Result<RemotingCommand, RemotingError>) -> Void {
        let opaque = request.opaque
        return { result in
            let onEventLoop = MultiThreadedEventLoopGroup.currentEventLoop != nil
            self.outcomes.withLock { $0.append((opaque, result, onEventLoop)) }
        }
    }

    /// How many completions ran.
    var count: Int { outcomes.withLock { $0.count } }

    /// The outcome of `opaque`'s request; nil before its completion ran.
    func result(of opaque: Int32) -> Result<RemotingCommand, RemotingError>? {
        outcomes.withLock { list in list.first { $0.opaque == opaque }?.result }
    }
}

@Suite("Callback invoke and the connection's timer")
struct CallbackInvokeTests {
    @Test("500 pipelined callback invokes answered on the server's event loop complete once each, on an event loop")
    func pipelined() async throws {
        try await ServerFixture.with { server in
            let client = RemotingNetworkTests.makeClient()
            let connection = try await client.connection(to: server.address)
            let log = CompletionLog()
            var opaques: [Int32] = []
            for index in 0..<500 {
                let request = RemotingCommand.request(code: TestCode.echoOnEventLoop, extFields: ["index": "\(index)"])
                opaques.append(request.opaque)
                connection.invoke(request, timeout: .seconds(30), completion: log.completion(for: request))
            }
            #expect(await eventually(within: .seconds(60)) { log.count == 500 })
            let outcomes = log.outcomes.withLock { $0 }
            #expect(Set(outcomes.map(\.opaque)) == Set(opaques))
            #expect(outcomes.count == 500)
            #expect(outcomes.allSatisfy { $0.onEventLoop })
            for (index, opaque) in opaques.enumerated() {
                let response = try #require(try log.result(of: opaque)?.get())
                #expect(response.opaque == opaque)
                #expect(response.extFields["index"] == "\(index)")
            }
            await client.shutdown()
        }
    }

    @Test("a shorter timeout registered after a longer one fires before the longer request is answered")
    func earlierDeadlineRearms() async throws {
        try await ServerFixture.with { server in
            let client = RemotingNetworkTests.makeClient()
            let connection = try await client.connection(to: server.address)
            let log = CompletionLog()
            let slow = RemotingCommand.request(code: TestCode.sleep, extFields: ["sleepMilliseconds": "1500"])
            connection.invoke(slow, timeout: .seconds(30), completion: log.completion(for: slow))
            #expect(await eventually { server.handler.count(of: TestCode.sleep) == 1 })
            let short = RemotingCommand.request(code: TestCode.sleep, extFields: ["sleepMilliseconds": "1500"])
            connection.invoke(short, timeout: .milliseconds(100), completion: log.completion(for: short))
            #expect(await eventually(within: .seconds(30)) { log.count == 2 })
            let outcomes = log.outcomes.withLock { $0 }
            // The short request's timeout must not wait for the timer armed for the slow one's 30 s.
            #expect(outcomes.map(\.opaque) == [short.opaque, slow.opaque])
            #expect(throws: RemotingError.self) { try log.result(of: short.opaque)?.get() }
            #expect((try? log.result(of: slow.opaque)?.get())?.isResponse == true)
            await client.shutdown()
        }
    }

    @Test("a timer that fires with nothing expired re-arms for the next deadline")
    func rearmAfterEmptyExpiry() async throws {
        try await ServerFixture.with { server in
            let client = RemotingNetworkTests.makeClient()
            let connection = try await client.connection(to: server.address)
            let log = CompletionLog()
            // Answered at once: the timer stays armed for its 12 s deadline and finds nothing then
            // (12 s, not less: a saturated 2-core machine running the whole suite has delayed the
            // echo by more than 8 s).
            let quick = RemotingCommand.request(code: TestCode.echo)
            connection.invoke(quick, timeout: .seconds(12), completion: log.completion(for: quick))
            let slow = RemotingCommand.request(code: TestCode.sleep, extFields: ["sleepMilliseconds": "25000"])
            connection.invoke(slow, timeout: .seconds(14), completion: log.completion(for: slow))
            #expect(await eventually(within: .seconds(60)) { log.count == 2 })
            let quickResult = log.result(of: quick.opaque)
            #expect((try? quickResult?.get())?.remark == "echo", "quick: \(String(describing: quickResult))")
            // Answered only after 25 s: a success would mean the 14 s timeout never fired.
            guard case .failure(let error) = log.result(of: slow.opaque) else {
                Issue.record("the slow request was not timed out: \(String(describing: log.result(of: slow.opaque)))")
                return
            }
            #expect(error.code == .timeout)
            await client.shutdown()
        }
    }

    @Test("closing the connection fails every callback in flight once with .connectionClosed; later ones are refused")
    func closeInFlight() async throws {
        try await ServerFixture.with { server in
            let client = RemotingNetworkTests.makeClient()
            let connection = try await client.connection(to: server.address)
            let log = CompletionLog()
            for _ in 0..<100 {
                let request = RemotingCommand.request(code: TestCode.sleep, extFields: ["sleepMilliseconds": "10000"])
                connection.invoke(request, timeout: .seconds(60), completion: log.completion(for: request))
            }
            connection.close()
            #expect(await eventually(within: .seconds(30)) { log.count == 100 })
            let late = RemotingCommand.request(code: TestCode.echo)
            connection.invoke(late, timeout: .seconds(30), completion: log.completion(for: late))
            #expect(await eventually(within: .seconds(30)) { log.count == 101 })
            let outcomes = log.outcomes.withLock { $0 }
            #expect(Set(outcomes.map(\.opaque)).count == 101)
            #expect(outcomes.allSatisfy { $0.onEventLoop })
            for outcome in outcomes {
                guard case .failure(let error) = outcome.result else {
                    Issue.record("opaque \(outcome.opaque) answered after close")
                    continue
                }
                #expect(error.code == .connectionClosed)
            }
            await client.shutdown()
        }
    }

    @Test("pipelined callback invokes with a 1 ms timeout each complete once, and the connection stays usable")
    func tinyTimeouts() async throws {
        try await ServerFixture.with { server in
            let client = RemotingNetworkTests.makeClient()
            let connection = try await client.connection(to: server.address)
            let log = CompletionLog()
            for index in 0..<200 {
                let code = index.isMultiple(of: 2) ? TestCode.echoOnEventLoop : TestCode.sleep
                let request = RemotingCommand.request(code: code, extFields: ["sleepMilliseconds": "50"])
                connection.invoke(request, timeout: .milliseconds(1), completion: log.completion(for: request))
            }
            #expect(await eventually(within: .seconds(30)) { log.count == 200 })
            #expect(Set(log.outcomes.withLock { $0.map(\.opaque) }).count == 200)
            let response = try await connection.invoke(.request(code: TestCode.echoOnEventLoop), timeout: .seconds(30))
            #expect(response.remark == "echo on the event loop")
            #expect(log.count == 200)
            await client.shutdown()
        }
    }

    @Test("an invoke from an already cancelled task fails .cancelled, is never written, and leaves the outbox draining", .timeLimit(.minutes(1)))
    func cancelledBeforeStart() async throws {
        try await ServerFixture.with { server in
            let client = RemotingNetworkTests.makeClient()
            let connection = try await client.connection(to: server.address)
            let (gate, gateOpen) = AsyncStream<Void>.makeStream()
            let cancelled = Task { () -> RemotingError? in
                for await _ in gate {}  // ends once the task is cancelled
                return await RemotingNetworkTests.failure { () async throws(RemotingError) in
                    try await connection.invoke(.request(code: TestCode.echo, extFields: ["which": "cancelled"]), timeout: .seconds(30))
                }
            }
            cancelled.cancel()
            #expect(await cancelled.value?.code == .cancelled)
            // The cancelled request was first in the outbox: the next one must still be written.
            let response = try await connection.invoke(.request(code: TestCode.echo, extFields: ["which": "next"]), timeout: .seconds(20))
            #expect(response.extFields["which"] == "next")
            #expect(server.handler.received.withLock { $0.map { $0.extFields["which"] } } == ["next"])
            gateOpen.finish()
            await client.shutdown()
        }
    }
}
