import PetrelCore
import PetrelStore

/// A trained compression dictionary as the broker keeps it: its broker-unique id, the topic it was
/// trained for, and the dictionary bytes the compressor takes.
public struct CompressionDictionary: Hashable, Sendable {
    /// Unique per broker, increasing; recorded in every compressed body's envelope.
    public var id: UInt32
    /// The topic whose bodies it was trained from.
    public var topic: String
    /// The dictionary.
    public var bytes: [UInt8]

    /// A dictionary.
    public init(id: UInt32, topic: String, bytes: [UInt8]) {
        self.id = id
        self.topic = topic
        self.bytes = bytes
    }
}

/// One dictionary on disk, `<storeRoot>/config/dictionaries/<id>.dict` (integers big-endian):
///
/// ```
/// +--------+---------+--------+-----------+---------+-------------+------------+--------+
/// | magic  | version | id     | topic len | topic   | dict length | dictionary | CRC32  |
/// | "PZDC" | 1 byte  | 4 bytes| 2 bytes   | UTF-8   | 4 bytes     | bytes      | 4 bytes|
/// +--------+---------+--------+-----------+---------+-------------+------------+--------+
/// ```
///
/// The CRC32 covers every byte before it, so a damaged file is refused at start-up instead of
/// decompressing bodies into garbage. Written with `AtomicFile` (temporary, fsync, rename, fsync
/// of the directory) before any message compressed with it is appended.
enum CompressionDictionaryFile {
    /// The file's first four bytes.
    static let magic: [UInt8] = Array("PZDC".utf8)
    /// The only version written.
    static let version: UInt8 = 1
    /// Bytes besides topic and dictionary: magic, version, id, topic length, dictionary length, CRC.
    static let fixedSize = 4 + 1 + 4 + 2 + 4 + 4
    /// The file-name suffix.
    static let suffix = ".dict"

    /// The directory under a store root.
    static func directory(storeRoot: String) -> String { storeRoot + "/config/dictionaries" }

    /// The file of dictionary `id`.
    static func path(storeRoot: String, id: UInt32) -> String { directory(storeRoot: storeRoot) + "/\(id)\(suffix)" }

    /// The file's bytes for `dictionary`.
    static func encode(_ dictionary: CompressionDictionary) -> [UInt8] {
        let topic = Array(dictionary.topic.utf8)
        var bytes = magic + [version]
        bytes.reserveCapacity(fixedSize + topic.count + dictionary.bytes.count)
        append(dictionary.id, to: &bytes)
        bytes += [UInt8(truncatingIfNeeded: topic.count >> 8), UInt8(truncatingIfNeeded: topic.count)]
        bytes += topic
        append(UInt32(dictionary.bytes.count), to: &bytes)
        bytes += dictionary.bytes
        append(CRC32.checksum(bytes), to: &bytes)
        return bytes
    }

    /// Parses a file's bytes; `path` names the file in errors.
    static func decode(_ bytes: [UInt8], path: String) throws(BrokerError) -> CompressionDictionary {
        func corrupt(_ why: String) -> BrokerError { BrokerError(.corruptMetadata, "dictionary file \(path) \(why)") }
        guard bytes.count >= fixedSize, Array(bytes[0..<4]) == magic else { throw corrupt("does not start with PZDC") }
        guard bytes[4] == version else { throw corrupt("has version \(bytes[4]), expected \(version)") }
        let stored = readUInt32(bytes, at: bytes.count - 4)
        guard CRC32.checksum(Array(bytes[..<(bytes.count - 4)])) == stored else { throw corrupt("fails its CRC32 check") }
        let id = readUInt32(bytes, at: 5)
        let topicLength = Int(bytes[9]) << 8 | Int(bytes[10])
        guard 11 + topicLength + 4 + 4 <= bytes.count else { throw corrupt("is truncated inside its topic") }
        let topic = String(decoding: bytes[11..<(11 + topicLength)], as: UTF8.self)
        let lengthAt = 11 + topicLength
        let length = Int(readUInt32(bytes, at: lengthAt))
        guard lengthAt + 4 + length + 4 == bytes.count else { throw corrupt("has a dictionary length \(length) that does not match its size") }
        return CompressionDictionary(id: id, topic: topic, bytes: Array(bytes[(lengthAt + 4)..<(lengthAt + 4 + length)]))
    }

    /// Writes `dictionary` durably: the directory chain's entries are synced on every write, not
    /// only by the writer that created it (another topic's training may have made it a moment
    /// before and not synced it yet). Dictionaries are written rarely, so the two syncs cost nothing.
    static func write(_ dictionary: CompressionDictionary, storeRoot: String) throws(BrokerError) {
        let directory = directory(storeRoot: storeRoot)
        let path = path(storeRoot: storeRoot, id: dictionary.id)
        do {
            try System.makeDirectories(directory)
            try System.syncDirectory(storeRoot + "/config")
            try System.syncDirectory(storeRoot)
            // The id is recorded as issued before its file exists: a later loss of the file (outside
            // the broker) must not let the next dictionary take the same id, or old records naming it
            // would decompress with the wrong dictionary and fail as corrupt instead of as unknown.
            if dictionary.id > (try readHighestId(storeRoot: storeRoot)) {
                try AtomicFile.write(Array("\(dictionary.id)\n".utf8), to: highestIdPath(storeRoot: storeRoot))
            }
            try AtomicFile.write(encode(dictionary), to: path)
        } catch {
            throw BrokerError(.metadataFailure, "cannot write dictionary \(path): \(error)")
        }
    }

    /// `config/dictionaries/highest-id`: the highest dictionary id ever issued, as decimal text.
    static func highestIdPath(storeRoot: String) -> String { directory(storeRoot: storeRoot) + "/highest-id" }

    /// The highest id ever issued (0 when none was recorded); damaged contents stop start-up, as a
    /// guess could reuse an id.
    static func readHighestId(storeRoot: String) throws(BrokerError) -> UInt32 {
        let path = highestIdPath(storeRoot: storeRoot)
        let bytes: [UInt8]?
        do { bytes = try AtomicFile.read(path) } catch {
            throw BrokerError(.metadataFailure, "cannot read \(path): \(error)")
        }
        guard let bytes else { return 0 }
        let text = String(decoding: bytes.filter { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: " ") }, as: UTF8.self)
        guard let id = UInt32(text) else { throw BrokerError(.corruptMetadata, "\(path) holds '\(text)', not a dictionary id") }
        return id
    }

    /// Every dictionary under `storeRoot`, by id; a damaged file stops start-up (bodies need it).
    static func loadAll(storeRoot: String) throws(BrokerError) -> [UInt32: CompressionDictionary] {
        let directory = directory(storeRoot: storeRoot)
        guard System.exists(directory) else { return [:] }
        var loaded: [UInt32: CompressionDictionary] = [:]
        do {
            for name in try System.listDirectory(directory) where name.hasSuffix(suffix) {
                let path = directory + "/" + name
                guard let bytes = try AtomicFile.read(path) else { continue }
                let dictionary = try decode(bytes, path: path)
                guard name == "\(dictionary.id)\(suffix)" else {
                    throw BrokerError(.corruptMetadata, "dictionary file \(path) holds dictionary \(dictionary.id)")
                }
                loaded[dictionary.id] = dictionary
            }
        } catch let error as BrokerError {
            throw error
        } catch {
            throw BrokerError(.metadataFailure, "cannot read the dictionaries in \(directory): \(error)")
        }
        return loaded
    }

    /// Appends `value` big-endian.
    private static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                  UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    /// The big-endian value at `offset`.
    private static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
