import PetrelCore
import PetrelPluginHost

/// The broker's store-compression settings (`broker.conf` keys in `BrokerConfigurationKeys+Compression`):
/// which compressor plugin to load and the defaults for topics without compression attributes.
public struct CompressionConfiguration: Sendable {
    /// `pluginDirectory`: where `compressorPlugin` names are looked up (`<directory>/<name>.so`). The
    /// executable falls back to `$PETREL_PLUGIN_DIR`; the library reads no environment.
    public var pluginDirectory: String?
    /// `compressorPlugin`: a plugin name in `pluginDirectory`, or a path containing '/'; nil (empty
    /// in broker.conf) means no compressor, so no topic may be set to zstd.
    public var compressorPlugin: PluginReference?
    /// `compressorPluginConfig`: the configuration string handed to the plugin's init.
    public var compressorPluginConfig = ""
    /// `compressionType`, `compressionLevel`, `compressionMinBodySize`, `compressionDictionaryEnable`:
    /// what a topic without the matching `compression.*` attribute uses.
    public var defaults = TopicCompressionSettings(codec: .none, level: 3, minimumBodySize: 64, usesDictionary: true)
    /// `compressionDictionarySampleCount`: bodies sampled per topic before a dictionary is trained.
    public var dictionarySampleCount = 1000
    /// `compressionDictionarySize`: the largest dictionary trained, in bytes.
    public var dictionarySize = 16_384
    /// `compressionDictionaryRetrainMessages`: after this many bodies compressed with a topic's
    /// current dictionary the broker samples again and trains a replacement; 0 never retrains.
    public var dictionaryRetrainMessages: Int64 = 1_000_000

    /// Defaults: no compressor, topics uncompressed unless their attributes say otherwise.
    public init() {}

    /// Largest part of one body copied into a training sample: training needs representative
    /// prefixes, not megabytes of one message.
    public static let maximumSampleBytes = 8192
}
