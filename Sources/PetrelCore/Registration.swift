import NIOCore

/// The version of a broker's topic configuration: bumped whenever a topic changes, so the name server
/// can skip re-reading an unchanged table on the 30-second re-registration (spec §6.4).
///
/// JSON: `{"counter":3,"timestamp":1700000000000}`. Two versions are equal when both fields are.
public struct DataVersion: Hashable, Sendable, JSONConvertible {
    /// Incremented on every change.
    public var counter: Int64
    /// Milliseconds since the epoch of the last change.
    public var timestamp: Int64

    /// A data version.
    public init(counter: Int64 = 0, timestamp: Int64 = 0) {
        self.counter = counter
        self.timestamp = timestamp
    }

    /// The next version: counter + 1, stamped `now` (Java `DataVersion.nextVersion`).
    public func next(now: Int64) -> DataVersion {
        DataVersion(counter: counter &+ 1, timestamp: now)
    }

    /// Decodes a `DataVersion` object; missing members are 0. Members Java 5 added are ignored.
    public init(json: JSONValue) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "DataVersion")
        self.init(counter: try reader.int64("counter") ?? 0, timestamp: try reader.int64("timestamp") ?? 0)
    }

    /// The JSON object.
    public var json: JSONValue {
        .object(["counter": .integer(counter), "timestamp": .integer(timestamp)])
    }
}

/// The body of a REGISTER_BROKER (103) request: the broker's topics, their version, and its filter
/// servers (spec §6.4).
///
/// Plain JSON form:
/// `{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":DataVersion,"topicConfigTable":{"<topic>":TopicConfig}}}`.
///
/// Compressed form (`compressed=true` in the request header), after zlib inflation, all integers
/// big-endian int32:
///
/// | field | content |
/// |---|---|
/// | length, bytes | DataVersion JSON |
/// | count | number of topics |
/// | per topic: length, bytes | `TopicConfig.compactText`: `"<name> <read> <write> <perm> <filterType>"` |
/// | length, bytes | filter-server list as a JSON array of strings |
///
/// The compact topic text carries no `topicSysFlag` or `order`; they decode as 0 and false, as in Java.
public struct RegisterBrokerBody: Hashable, Sendable, JSONConvertible {
    /// Topic name → configuration.
    public var topicConfigTable: [String: TopicConfig]
    /// The version of `topicConfigTable`.
    public var dataVersion: DataVersion
    /// Filter-server addresses (always empty for Petrel brokers).
    public var filterServerList: [String]

    /// A registration body.
    public init(topicConfigTable: [String: TopicConfig] = [:], dataVersion: DataVersion = DataVersion(), filterServerList: [String] = []) {
        self.topicConfigTable = topicConfigTable
        self.dataVersion = dataVersion
        self.filterServerList = filterServerList
    }

    /// Decodes the plain JSON form; every member is optional. A topic entry without `topicName`
    /// takes its table key.
    public init(json: JSONValue) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "RegisterBrokerBody")
        var table: [String: TopicConfig] = [:]
        var version = DataVersion()
        if let wrapperMembers = try reader.object("topicConfigSerializeWrapper") {
            let wrapper = JSONObjectReader(members: wrapperMembers, context: "TopicConfigSerializeWrapper")
            version = try wrapper.decode("dataVersion", as: DataVersion.self) ?? DataVersion()
            for (name, value) in try wrapper.object("topicConfigTable") ?? [:] where value != .null {
                let config = try TopicConfig(json: value, fallbackName: name)
                table[config.topicName] = config
            }
        }
        self.init(topicConfigTable: table, dataVersion: version, filterServerList: try reader.stringArray("filterServerList") ?? [])
    }

    /// The plain JSON form.
    public var json: JSONValue {
        .object([
            "filterServerList": .strings(filterServerList),
            "topicConfigSerializeWrapper": .object([
                "dataVersion": dataVersion.json,
                "topicConfigTable": .object(topicConfigTable.mapValues(\.json)),
            ]),
        ])
    }

    /// Decodes a request body in whichever form the request's `compressed` header flag says.
    public init(body: [UInt8], compressed: Bool) throws(CoreError) {
        if compressed {
            try self.init(compressedBytes: body)
        } else {
            try self.init(jsonBytes: body)
        }
    }

    /// Decodes the compressed form: inflates the zlib stream, then reads the table above.
    public init(compressedBytes: [UInt8]) throws(CoreError) {
        try self.init(inflatedPayload: try Inflate.decompress(compressedBytes))
    }

    /// Decodes the binary layout of the compressed form once inflated. Bytes after the filter-server
    /// list (Java 5 appends more) are ignored.
    public init(inflatedPayload payload: [UInt8]) throws(CoreError) {
        var cursor = PayloadCursor(bytes: payload)
        let version = try DataVersion(jsonBytes: try cursor.readChunk("data version"))
        let topicCount = try cursor.readLength("topic count")
        var table: [String: TopicConfig] = [:]
        for _ in 0..<topicCount {
            let text = String(decoding: try cursor.readChunk("topic config"), as: UTF8.self)
            let config = try TopicConfig(compactText: text)
            table[config.topicName] = config
        }
        let filterServers = try JSONValue.parse(try cursor.readChunk("filter server list"))
        let reader = JSONObjectReader(members: ["filterServerList": filterServers], context: "RegisterBrokerBody")
        self.init(topicConfigTable: table, dataVersion: version, filterServerList: try reader.stringArray("filterServerList") ?? [])
    }

    /// The binary layout of the compressed form before deflation (topics sorted by name), for
    /// tests and for a broker that wants to send `compressed=true` through its own deflater.
    public func uncompressedPayload() -> [UInt8] {
        var buffer = ByteBuffer()
        func chunk(_ bytes: [UInt8]) {
            buffer.writeInteger(Int32(truncatingIfNeeded: bytes.count))
            buffer.writeBytes(bytes)
        }
        chunk(dataVersion.jsonBytes())
        buffer.writeInteger(Int32(truncatingIfNeeded: topicConfigTable.count))
        for name in topicConfigTable.keys.sorted() {
            chunk(Array(topicConfigTable[name]!.compactText.utf8))
        }
        chunk(JSONValue.strings(filterServerList).serialized())
        return Array(buffer.readableBytesView)
    }
}

/// Reads the length-prefixed chunks of a compressed registration's payload.
private struct PayloadCursor {
    /// The inflated payload.
    let bytes: [UInt8]
    /// The next byte to read.
    var index = 0

    /// A big-endian int32 that must be a non-negative count no larger than the bytes left
    /// (every counted item takes at least four bytes, so a bigger count is certainly corrupt).
    mutating func readLength(_ what: String) throws(CoreError) -> Int {
        guard index + 4 <= bytes.count else {
            throw CoreError(.truncated, "compressed registration ends before the \(what)")
        }
        let value = bytes[index..<(index + 4)].reduce(Int32(0)) { $0 << 8 | Int32($1) }
        index += 4
        guard value >= 0, Int(value) <= bytes.count - index else {
            throw CoreError(.badSize, "compressed registration: \(what) \(value) is impossible with \(bytes.count - index) bytes left")
        }
        return Int(value)
    }

    /// A length-prefixed chunk.
    mutating func readChunk(_ what: String) throws(CoreError) -> [UInt8] {
        let length = try readLength(what)
        defer { index += length }
        return Array(bytes[index..<(index + length)])
    }
}
