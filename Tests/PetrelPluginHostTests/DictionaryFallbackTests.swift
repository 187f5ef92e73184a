import PetrelPluginHost
import Testing

/// ABI 1.0 compressors still load and work behind ABI 1.1's dictionary API (raw dictionaries on
/// every call, training refused); broken 1.1 tables are refused with their reason.
@Suite struct DictionaryFallbackTests {
    /// A host over the built plugin directory.
    func host() throws -> PluginHost {
        PluginHost(configuration: PluginHostConfiguration(pluginDirectory: try PluginBuild.directory()))
    }

    /// compress-minor-zero XORs with the dictionary, so its output shows the fallback passed the
    /// prepared dictionary's raw bytes through on every path.
    @Test func minorZeroCompressorWorksThroughTheFallbacks() throws {
        let plugin = try host().compressor(.named("compress-minor-zero"))
        #expect(plugin.abiMinor == 0)
        #expect(plugin.supportsPreparedDictionaries == false)
        #expect(plugin.supportsTraining == false)

        let dictionary: [UInt8] = [0x0F, 0xF0, 0x55]
        let prepared = try plugin.prepareDictionary(dictionary, level: 5)
        #expect(prepared.isPrepared == false)
        #expect(prepared.bytes == dictionary)
        let message = Array("a minor-0 plugin, still working".utf8)
        let expected = message.enumerated().map { $0.element ^ dictionary[$0.offset % dictionary.count] }
        let packed = try plugin.compress(message, dictionary: prepared)
        #expect(packed == expected)
        #expect(try plugin.decompress(packed, originalSize: message.count, dictionary: prepared) == message)

        var appended: [UInt8] = [1]
        _ = try message.withUnsafeBytes { try plugin.compress($0, appendingTo: &appended, dictionary: prepared) }
        #expect(appended == [1] + expected)
        let adapter = PluginCompressor(plugin: plugin, preparedDictionary: prepared)
        #expect(try adapter.compress(message) == expected)
        #expect(try plugin.compress(message) == message, "no dictionary: the copy is unchanged")

        #expect {
            try plugin.trainDictionary(samples: [message, message], capacity: 1_024)
        } throws: { error in
            guard let error = error as? PluginError else { return false }
            return error.code == .unsupported && error.plugin == "compress-minor-zero"
                && error.message.contains("train_dictionary") && error.message.contains("ABI 1.0")
        }
    }

    /// A train_dictionary that reports more bytes than the buffer holds is refused, naming the
    /// plugin and the sizes; a partial prepared-dictionary group is refused at load.
    @Test func brokenDictionaryFunctionsAreRefused() throws {
        let library = try PluginBuild.path("broken-results")
        let overflow = try host().compressor(.path(library, plugin: "broken-train-overflow"))
        #expect(overflow.supportsTraining && !overflow.supportsPreparedDictionaries)
        #expect {
            try overflow.trainDictionary(samples: [[1, 2, 3]], capacity: 16)
        } throws: { error in
            guard let error = error as? PluginError else { return false }
            return error.code == .invalidResult && error.plugin == "broken-train-overflow"
                && error.message == "train_dictionary reported 17 bytes written into a 16-byte buffer"
        }
        #expect {
            try host().compressor(.path(library, plugin: "broken-prepared-partial"))
        } throws: { error in
            guard let error = error as? PluginError else { return false }
            return error.code == .missingFunction && error.plugin == "broken-prepared-partial"
                && error.message.contains("release_dictionary, compress_prepared, decompress_prepared are NULL")
        }
    }
}
