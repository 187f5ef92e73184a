import NIOCore
import PetrelRemoting
import PetrelTestSupport
import Testing

@Suite("Header codecs")
struct HeaderCodecTests {
    /// The route request header observed from the C++ 1.2.3 client (spec §2.1), trailing newline included.
    static let observedCppHeader = """
        {"code":105,"extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":"N/YT7X6tJe5UfutmW+uNwTTJ7Fc=",\
        "topic":"TopicTest"},"flag":0,"language":"CPP","opaque":0,"remark":"","version":63}\n
        """

    /// Decodes a JSON header given as text.
    static func decodeJSON(_ text: String) throws(RemotingError) -> RemotingCommand {
        try JSONHeaderCodec.decode(ByteBuffer(string: text))
    }

    /// The JSON header of `command` as text.
    static func encodeJSON(_ command: RemotingCommand) -> String {
        var buffer = ByteBuffer()
        JSONHeaderCodec.encode(command, into: &buffer)
        return String(buffer: buffer)
    }

    @Test("the observed C++ route request decodes, and frames as the capture's 193 / 0x000000bd")
    func observedCppRequest() throws {
        let command = try Self.decodeJSON(Self.observedCppHeader)
        #expect(command.code == 105)
        #expect(command.requestCode == .getRouteinfoByTopic)
        #expect(command.language == .cpp)
        #expect(command.version == 63)
        #expect(command.opaque == 0)
        #expect(command.flag == 0)
        #expect(command.remark == "")
        #expect(command.extFields == [
            "AccessKey": "", "OnsChannel": "ALIYUN", "Signature": "N/YT7X6tJe5UfutmW+uNwTTJ7Fc=", "topic": "TopicTest",
        ])
        var frame = ByteBuffer(bytes: bigEndianBytes(193) + bigEndianBytes(0xBD))
        frame.writeString(Self.observedCppHeader)
        #expect(frame.readableBytes == 4 + 193)
        frame.moveReaderIndex(forwardBy: 4)
        var decoded = try RemotingCommandCodec.decode(frame: frame)
        #expect(decoded.body == nil)
        decoded.body = nil
        #expect(decoded == command)
    }

    @Test("numbers, booleans and nested values in extFields become their text; null is absent")
    func scalarExtFields() throws {
        let command = try Self.decodeJSON("""
             { "code" : 10 , "opaque" : 3, "extFields": {"queueId": 2, "sysFlag": 0, "flag": -1,
              "bornTimestamp": "1700000000000", "big": 12345678901234, "batch": false, "unitMode": true,
              "ratio": 1.5e3, "nested": {"a": [1, 2, {}]}, "gone": null} }\n\r\t
            """)
        #expect(command.extFields == [
            "queueId": "2", "sysFlag": "0", "flag": "-1", "bornTimestamp": "1700000000000", "big": "12345678901234",
            "batch": "false", "unitMode": "true", "ratio": "1.5e3", "nested": "{\"a\": [1, 2, {}]}",
        ])
        #expect(try command.int32("queueId") == 2)
        #expect(try command.int64("big") == 12_345_678_901_234)
        #expect(try command.bool("unitMode"))
    }

    @Test("defaults: no remark is nil, unknown language is OTHER, serializeTypeCurrentRPC is ignored")
    func lenientFields() throws {
        let command = try Self.decodeJSON(
            #"{"code":0,"opaque":7,"language":"KOTLIN","serializeTypeCurrentRPC":"ROCKETMQ","remark":null,"x":[1]}"#)
        #expect(command.remark == nil)
        #expect(command.language == .other)
        #expect(command.serializeType == .json)
        #expect(command.flag == 0)
        #expect(command.extFields.isEmpty)
        #expect(try Self.decodeJSON(#"{"code":0,"opaque":7}"#).language == .java)
        #expect(try Self.decodeJSON(#"{"code":"17","opaque":7,"language":1}"#).language == .cpp)
    }

    @Test("missing code or opaque and broken JSON are .badHeader", arguments: [
        #"{"opaque":1}"#, #"{"code":1}"#, #"{"code":1,"opaque":null}"#, #"{"code":1,"opaque":1"#, #"{"code":1,,"opaque":1}"#,
        #"{"code":1.5,"opaque":1}"#, #"{"code":1,"opaque":1} x"#, #"[1]"#, "", #"{"code":1,"opaque":1,"remark":"\q"}"#,
        #"{"code":1,"opaque":1,"remark":"open}"#, #"{"code":99999999999,"opaque":1}"#, #"{"code":tru,"opaque":1}"#,
    ])
    func badJSON(text: String) {
        do {
            _ = try Self.decodeJSON(text)
            Issue.record("decoded \(text)")
        } catch {
            #expect(error.code == .badHeader)
        }
    }

    @Test("a deeply nested value is refused instead of overflowing the stack")
    func deepNesting() {
        let text = #"{"code":1,"opaque":1,"x":"# + String(repeating: "[", count: 10_000) + "}"
        #expect(throws: RemotingError.self) { try Self.decodeJSON(text) }
    }

    @Test("encoding writes Java's form: sorted keys, string ext values, no nil remark, serializeTypeCurrentRPC")
    func javaStyleEncoding() {
        let request = RemotingCommand(code: 10, opaque: 1)
        let response = request.response(extFields: ["queueOffset": "0", "queueId": "0", "msgId": "ABC"])
        #expect(Self.encodeJSON(response) == """
            {"code":0,"extFields":{"msgId":"ABC","queueId":"0","queueOffset":"0"},"flag":1,"language":"JAVA",\
            "opaque":1,"serializeTypeCurrentRPC":"JSON","version":409}
            """)
        let withRemark = RemotingCommand(code: 1, opaque: 2, flag: 1, remark: "no")
        #expect(Self.encodeJSON(withRemark) == """
            {"code":1,"flag":1,"language":"JAVA","opaque":2,"remark":"no","serializeTypeCurrentRPC":"JSON","version":409}
            """)
    }

    @Test("escapes survive a round trip: control characters, quotes, backslashes, non-ASCII")
    func escapes() throws {
        let properties = "KEYS\u{1}k1 k2\u{2}TAGS\u{1}TagA\u{2}WAIT\u{1}true\u{2}"
        let remark = "line\nquote\" back\\slash tab\t \u{7F} é 漢字 😀 \u{0}"
        let command = RemotingCommand(code: 10, opaque: 4, remark: remark, extFields: ["properties": properties])
        let text = Self.encodeJSON(command)
        #expect(text.contains(#""properties":"KEYS\u0001k1 k2\u0002TAGS\u0001TagA\u0002WAIT\u0001true\u0002""#))
        #expect(text.contains(#"line\nquote\" back\\slash tab\t"#))
        #expect(try Self.decodeJSON(text) == command)
        let escaped = try Self.decodeJSON(#"{"code":0,"opaque":0,"remark":"\u00e9\ud83d\ude00\/\b\f\r\ud800x"}"#)
        #expect(escaped.remark == "é😀/\u{8}\u{C}\r\u{FFFD}x")
    }

    @Test("binary header: exact bytes of a known header, and its size")
    func binaryKnownHeader() throws {
        let command = RemotingCommand(
            code: 10, language: .cpp, version: 63, opaque: 7, flag: 0, remark: "ok", extFields: ["k": "v"],
            serializeType: .rocketmq)
        var buffer = ByteBuffer()
        try BinaryHeaderCodec.encode(command, into: &buffer)
        let expected: [UInt8] = [
            0x00, 0x0A,  // code
            0x01,  // language CPP
            0x00, 0x3F,  // version 63
            0x00, 0x00, 0x00, 0x07,  // opaque
            0x00, 0x00, 0x00, 0x00,  // flag
            0x00, 0x00, 0x00, 0x02, 0x6F, 0x6B,  // remark "ok"
            0x00, 0x00, 0x00, 0x08,  // ext length
            0x00, 0x01, 0x6B, 0x00, 0x00, 0x00, 0x01, 0x76,  // "k" = "v"
        ]
        #expect(Array(buffer.readableBytesView) == expected)
        #expect(expected.count == BinaryHeaderCodec.fixedSize + 2 + 8)
        #expect(BinaryHeaderCodec.encodedSize(of: command) == expected.count)
        #expect(try BinaryHeaderCodec.decode(buffer) == command)
    }

    @Test("binary header round trip; empty remark and empty values read back as absent")
    func binaryRoundTrip() throws {
        let command = RemotingCommand(
            code: -2, language: .rust, version: 409, opaque: .min, flag: 3, remark: "é😀",
            extFields: ["topic": "T", "properties": "a\u{1}b\u{2}", "empty": ""], serializeType: .rocketmq)
        var buffer = ByteBuffer()
        try BinaryHeaderCodec.encode(command, into: &buffer)
        #expect(buffer.readableBytes == BinaryHeaderCodec.encodedSize(of: command))
        var expected = command
        expected.extFields["empty"] = nil
        #expect(try BinaryHeaderCodec.decode(buffer) == expected)
        var noRemark = command
        noRemark.remark = ""
        buffer.clear()
        try BinaryHeaderCodec.encode(noRemark, into: &buffer)
        #expect(try BinaryHeaderCodec.decode(buffer).remark == nil)
    }

    @Test("truncated or inconsistent binary headers are .badHeader", arguments: [
        [UInt8](), [0, 10, 1, 0], [0, 10, 1, 0, 63, 0, 0, 0, 7, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF],
        [0, 10, 1, 0, 63, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0x6B],
    ])
    func badBinary(bytes: [UInt8]) {
        do {
            _ = try BinaryHeaderCodec.decode(ByteBuffer(bytes: bytes))
            Issue.record("decoded \(bytes)")
        } catch {
            #expect(error.code == .badHeader)
        }
    }

    @Test("a binary header of many empty ext entries does not reserve a dictionary slot for each")
    func binaryManyEmptyEntries() throws {
        // 100,000 six-byte entries with empty keys and values: nothing to keep, so the decoded fields
        // must not cost ~3 MiB of reserved slots (a 16 MiB frame of them would cost ~130 MiB).
        let entries = 100_000
        var header = ByteBuffer(bytes: [0, 10, 1, 0, 63, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0])
        header.writeInteger(Int32(entries * 6))
        for _ in 0..<entries {
            header.writeInteger(Int16(0))
            header.writeInteger(Int32(0))
        }
        let command = try BinaryHeaderCodec.decode(header)
        #expect(command.extFields.isEmpty)
        #expect(command.extFields.capacity <= 1024)
    }

    @Test("values that do not fit the binary header are .encodeFailed")
    func binaryDoesNotFit() {
        for command in [
            RemotingCommand(code: 200_050, opaque: 1, serializeType: .rocketmq),
            RemotingCommand(code: 1, version: 70_000, opaque: 1, serializeType: .rocketmq),
            RemotingCommand(code: 1, opaque: 1, extFields: [String(repeating: "k", count: 40_000): "v"], serializeType: .rocketmq),
        ] {
            var buffer = ByteBuffer()
            do {
                try BinaryHeaderCodec.encode(command, into: &buffer)
                Issue.record("encoded \(command)")
            } catch {
                #expect(error.code == .encodeFailed)
            }
        }
    }
}
