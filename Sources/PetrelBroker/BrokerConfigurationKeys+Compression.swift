import PetrelCore
import PetrelPluginHost

/// The `broker.conf` keys of store compression (docs/storage-format.md, "Compressed bodies").
extension BrokerConfigurationKeys {
    /// Key → setter for the compression keys.
    static let compressionSetters: [String: Setter] = [
        "pluginDirectory": { $0.compression.pluginDirectory = try text($1, "pluginDirectory") },
        "compressorPlugin": { $0.compression.compressorPlugin = try pluginReference($1, "compressorPlugin") },
        "compressorPluginConfig": { configuration, value in configuration.compression.compressorPluginConfig = value },
        "compressionType": { $0.compression.defaults.codec = try codec($1, "compressionType") },
        "compressionLevel": { $0.compression.defaults.level = Int32(try integer($1, "compressionLevel", -131_072...22)) },
        "compressionMinBodySize": {
            $0.compression.defaults.minimumBodySize = Int(try integer($1, "compressionMinBodySize", 0...Int64(Int32.max)))
        },
        "compressionRecordFormat": {
            let text = $1.lowercased()
            guard let format = StoredRecordFormat(rawValue: text) else { throw invalid("compressionRecordFormat", $1, "compact or standard") }
            $0.compression.defaults.recordFormat = format
        },
        "compressionDictionaryEnable": { $0.compression.defaults.usesDictionary = try boolean($1, "compressionDictionaryEnable") },
        "compressionDictionarySampleCount": {
            $0.compression.dictionarySampleCount = Int(try integer($1, "compressionDictionarySampleCount", 8...1_000_000))
        },
        "compressionDictionarySize": {
            $0.compression.dictionarySize = Int(try integer($1, "compressionDictionarySize", 256...(1 << 20)))
        },
        "compressionDictionaryRetrainMessages": {
            $0.compression.dictionaryRetrainMessages = try integer($1, "compressionDictionaryRetrainMessages", 0...Int64.max)
        },
    ]

    /// `compressorPlugin`: empty for none, a path when it contains '/', else a plugin name.
    static func pluginReference(_ value: String, _ key: String) throws(BrokerError) -> PluginReference? {
        if value.isEmpty { return nil }
        if value.contains("/") { return .path(value) }
        let allowed = value.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-")
        }
        guard allowed else { throw invalid(key, value, "a plugin name (a-z, 0-9, '-') such as compress-zstd, or a path containing '/'") }
        return .named(value)
    }

    /// `compressionType`: `none` or `zstd`.
    static func codec(_ value: String, _ key: String) throws(BrokerError) -> TopicCompressionSettings.Codec {
        guard let codec = TopicCompressionSettings.Codec(rawValue: value.lowercased()) else {
            throw invalid(key, value, "one of " + TopicCompressionSettings.Codec.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return codec
    }
}
