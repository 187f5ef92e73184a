import NIOCore
import PetrelRemoting
import Testing

@Suite("Remoting command")
struct RemotingCommandTests {
    /// A request carrying `fields`.
    static func command(_ fields: [String: String]) -> RemotingCommand {
        RemotingCommand(code: 10, opaque: 1, extFields: fields)
    }

    /// The error code `body` throws, nil when it does not throw.
    static func errorCode<Value>(_ body: () throws -> Value) -> RemotingError.Code? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? RemotingError)?.code
        }
    }

    @Test("typed fields parse like Java, booleans also as 1/0")
    func typedFields() throws {
        let command = Self.command([
            "topic": "T", "queueId": "-3", "offset": "9223372036854775807", "a": "TRUE", "b": "false", "c": "1",
            "d": "0", "empty": "",
        ])
        #expect(try command.string("topic") == "T")
        #expect(try command.int32("queueId") == -3)
        #expect(try command.int64("offset") == .max)
        #expect(try command.bool("a") == true)
        #expect(try command.bool("b") == false)
        #expect(try command.bool("c") == true)
        #expect(try command.bool("d") == false)
        #expect(command.optionalString("missing") == nil)
        #expect(try command.optionalInt32("missing") == nil)
        #expect(try command.optionalInt32("empty") == nil)
        #expect(try command.optionalInt64("offset") == .max)
        #expect(try command.optionalBool("empty") == nil)
        #expect(try command.optionalBool("a") == true)
    }

    @Test("a missing field is .missingField naming it; a bad one .invalidField")
    func fieldErrors() {
        let command = Self.command(["queueId": "x", "big": "2147483648", "flag": "yes"])
        do {
            _ = try command.string("consumerGroup")
            Issue.record("no error")
        } catch {
            #expect(error.code == .missingField)
            #expect(error.message.contains("consumerGroup"))
        }
        #expect(Self.errorCode { try command.int32("topic") } == .missingField)
        #expect(Self.errorCode { try command.int32("queueId") } == .invalidField)
        #expect(Self.errorCode { try command.int32("big") } == .invalidField)
        #expect(Self.errorCode { try command.int64("queueId") } == .invalidField)
        #expect(Self.errorCode { try command.bool("flag") } == .invalidField)
        #expect(Self.errorCode { try command.optionalInt64("queueId") } == .invalidField)
    }

    @Test("request() uses JAVA, V4_9_8 and increasing opaques")
    func requestFactory() {
        let first = RemotingCommand.request(code: .heartBeat, extFields: ["a": "b"], body: ByteBuffer(string: "x"))
        let second = RemotingCommand.request(code: .heartBeat)
        #expect(first.code == 34)
        #expect(first.language == .java)
        #expect(first.version == 409)
        #expect(first.flag == 0)
        #expect(!first.isResponse && !first.isOneway)
        #expect(first.extFields == ["a": "b"])
        #expect(second.opaque != first.opaque)
    }

    @Test("response() copies opaque and serialize type and sets the response flag")
    func responseFactory() {
        let request = RemotingCommand(
            code: 11, language: .cpp, version: 63, opaque: 77, flag: 0, serializeType: .rocketmq)
        let response = request.response(code: .pullNotFound, remark: "none", extFields: ["minOffset": "0"])
        #expect(response.opaque == 77)
        #expect(response.serializeType == .rocketmq)
        #expect(response.flag == 1)
        #expect(response.isResponse)
        #expect(response.language == .java)
        #expect(response.version == 409)
        #expect(response.responseCode == .pullNotFound)
        #expect(response.remark == "none")
        let oneway = RemotingCommand(code: 15, opaque: 1, flag: RemotingCommand.onewayFlag)
        #expect(oneway.isOneway && !oneway.isResponse)
    }

    @Test("language names and binary codes follow RocketMQ's order")
    func languages() {
        let names = ["JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY", "OTHER", "HTTP", "GO", "PHP", "OMS", "RUST"]
        #expect(LanguageCode.allCases.map(\.name) == names)
        #expect(LanguageCode.allCases.map(\.rawValue) == Array(0...12))
        #expect(LanguageCode(name: "cpp") == .other)
        #expect(LanguageCode(name: "CPP") == .cpp)
        #expect(LanguageCode(code: 13) == .other)
    }

    @Test("request and response codes carry RocketMQ's values and names; unknown codes round-trip")
    func codes() {
        #expect(RequestCode.getRouteinfoByTopic.rawValue == 105)
        #expect(RequestCode.sendMessageV2.rawValue == 310)
        #expect(RequestCode.notifyConsumerIdsChanged.rawValue == 40)
        #expect(RequestCode.popMessage.rawValue == 200_050)
        #expect(RequestCode.getRouteinfoByTopic.description == "105 GET_ROUTEINFO_BY_TOPIC")
        #expect(RequestCode(rawValue: 4242).name == nil)
        #expect(RequestCode(rawValue: 4242).description == "4242")
        #expect(ResponseCode.transactionStateUnknow.rawValue == 202)
        #expect(ResponseCode.flowControl.rawValue == 215)
        #expect(ResponseCode.pullOffsetMoved.name == "PULL_OFFSET_MOVED")
        let unknown = RemotingCommand(code: 330, opaque: 1)
        #expect(unknown.requestCode.rawValue == 330)
    }

    @Test("errors describe themselves with code, message and address")
    func errorDescription() {
        let error = RemotingError(.connectFailed, "could not connect", address: "10.0.0.1:10911")
        #expect(error.description == "connectFailed: could not connect (10.0.0.1:10911)")
        #expect(RemotingError(.timeout, "late").description == "timeout: late")
    }
}
