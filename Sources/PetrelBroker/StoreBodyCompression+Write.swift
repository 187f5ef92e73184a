import Foundation
import NIOCore
import PetrelCore
import PetrelPluginHost
import PetrelStore

/// The write path: compress a body, sample it for a dictionary, train off the hot path.
extension StoreBodyCompression {
    /// `message` with its body compressed as `settings` (its topic's) ask, counting the bytes for
    /// `topic`. A body below the minimum size, already compressed by its client (zlib …), or that
    /// compression does not make smaller is stored as sent. A compression failure is logged with
    /// the topic and the body stored plain, so nothing is lost.
    func compressed(_ message: StoredMessage, topic: String, settings: TopicCompressionSettings) -> StoredMessage {
        let size = message.message.body.readableBytes
        guard settings.isEnabled, let compressor, size > 0, size >= settings.minimumBodySize,
              size <= CompressedBodyEnvelope.maximumOriginalLength, message.sysFlag.compression == nil else {
            count(topic: topic, received: size, stored: size)
            return message
        }
        let dictionary = settings.usesDictionary ? dictionaryForWrite(topic: topic, body: message.message.body) : nil
        // Untyped: the buffer closures below are rethrowing; what they throw is PluginError or BrokerError.
        do {
            let prepared = try dictionary.map { dictionary throws(PluginError) in
                try preparedForCompression(dictionary, level: settings.level, compressor)
            }
            try ensureMarker()
            let envelope = CompressedBodyEnvelope(originalLength: size, dictionaryId: dictionary?.id ?? 0)
            let bound = try compressor.compressBound(size)
            var buffer = ByteBufferAllocator().buffer(capacity: envelope.headerLength + bound)
            buffer.writeBytes(envelope.bytes)
            try message.message.body.withUnsafeReadableBytes { source in
                _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { free in
                    let destination = UnsafeMutableRawBufferPointer(rebasing: free[..<bound])
                    if let prepared { return try compressor.compress(source, into: destination, dictionary: prepared) }
                    return try compressor.compress(source, into: destination, level: settings.level)
                }
            }
            guard buffer.readableBytes < size else {
                count(topic: topic, received: size, stored: size)
                return message
            }
            var result = message
            count(topic: topic, received: size, stored: buffer.readableBytes)
            result.message.body = buffer
            result.sysFlag.compression = .zstd
            return result
        } catch {
            logger.error("compressing a body failed; storing it uncompressed", metadata: ["topic": "\(topic)", "error": "\(error)"])
            count(topic: topic, received: size, stored: size)
            return message
        }
    }

    /// Writes the compressed-store marker once, before the first compressed body is appended.
    func ensureMarker() throws(BrokerError) {
        if markerWritten.load(ordering: .acquiring) { return }
        guard let storeRoot else { return }
        let failure: BrokerError? = markerLock.withLock { _ in
            if markerWritten.load(ordering: .acquiring) { return nil }
            do throws(BrokerError) { try CompressedStoreMarker.write(codec: "zstd", storeRoot: storeRoot) } catch { return error }
            markerWritten.store(true, ordering: .releasing)
            return nil
        }
        if let failure { throw failure }
    }

    /// The topic's current dictionary (counted as one use) and, while the topic wants samples,
    /// `body`'s prefix added to them; starts training when enough are gathered.
    func dictionaryForWrite(topic: String, body: ByteBuffer) -> CompressionDictionary? {
        let configuration = configuration
        let (dictionary, ready): (CompressionDictionary?, [[UInt8]]?) = state.withLock { state in
            let current = state.current[topic].flatMap { state.dictionaries[$0] }
            let retrain = configuration.dictionaryRetrainMessages
            if let current {
                // The common case, a topic with its dictionary: one in-place update, no sampler moved.
                var compressed: Int64 = 0
                modify(&state.samplers[topic, default: Sampler()]) { sampler in
                    sampler.compressedWithCurrent += 1
                    compressed = sampler.training ? -1 : sampler.compressedWithCurrent
                }
                guard retrain > 0, compressed >= retrain else { return (current, nil) }
            }
            // Taken out of the table while changed, so appending a sample does not copy the samples.
            var sampler = state.samplers.removeValue(forKey: topic) ?? Sampler()
            defer { state.samplers[topic] = sampler }
            guard !sampler.training else { return (current, nil) }
            let sample = Array(body.readableBytesView.prefix(CompressionConfiguration.maximumSampleBytes))
            sampler.samples.append(sample)
            sampler.sampledBytes += sample.count
            guard sampler.samples.count >= configuration.dictionarySampleCount else { return (current, nil) }
            let samples = sampler.samples
            sampler.samples = []
            sampler.sampledBytes = 0
            sampler.training = true
            return (current, samples)
        }
        if let ready {
            // A thread of its own, not a task: training (ZDICT, ~0.1-1 s of CPU) and the dictionary
            // file's fsyncs block, and on the cooperative pool (one thread per core) they would
            // stall every task of the broker meanwhile (SYNC_FLUSH sends, long polling, timers).
            Thread.detachNewThread { [self] in train(topic: topic, samples: ready) }
        }
        return dictionary
    }

    /// Trains a dictionary for `topic` from `samples`, persists it, then makes it the topic's
    /// current one (so no body references it before its file is durable).
    func train(topic: String, samples: [[UInt8]]) {
        do throws(BrokerError) {
            guard let compressor else { throw BrokerError(.compressionFailure, "no compressor is configured") }
            let bytes = trainedDictionary(compressor, topic: topic, samples: samples, size: configuration.dictionarySize)
            let id = state.withLock { state in
                defer { state.nextId += 1 }
                return state.nextId
            }
            let dictionary = CompressionDictionary(id: id, topic: topic, bytes: bytes)
            if let storeRoot { try CompressionDictionaryFile.write(dictionary, storeRoot: storeRoot) }
            state.withLock { state in
                state.dictionaries[id] = dictionary
                state.current[topic] = id
                state.samplers[topic] = Sampler()
            }
            logger.info("trained a compression dictionary", metadata: [
                "topic": "\(topic)", "dictionary": "\(id)", "bytes": "\(bytes.count)", "samples": "\(samples.count)",
            ])
        } catch {
            logger.error("training a compression dictionary failed; sampling again", metadata: ["topic": "\(topic)", "error": "\(error)"])
            state.withLock { $0.samplers[topic]?.training = false }
        }
    }

    /// A dictionary of at most `size` bytes from `samples`: trained by the plugin (zstd's ZDICT)
    /// when it can; otherwise, or when training fails (too few or too uniform samples), a raw-content
    /// dictionary — zstd accepts any bytes as one — of the newest samples, newest last.
    func trainedDictionary(_ compressor: CompressorPlugin, topic: String, samples: [[UInt8]], size: Int) -> [UInt8] {
        if compressor.supportsTraining {
            do { return try compressor.trainDictionary(samples: samples, capacity: size) } catch {
                logger.warning("the compressor could not train a dictionary; using a raw-content dictionary of the samples",
                               metadata: ["topic": "\(topic)", "error": "\(error)"])
            }
        }
        return Self.rawContentDictionary(samples: samples, size: size)
    }

    /// The newest samples that fit `size` bytes, oldest first.
    static func rawContentDictionary(samples: [[UInt8]], size: Int) -> [UInt8] {
        var chosen: [[UInt8]] = []
        var total = 0
        for sample in samples.reversed() where total + sample.count <= size {
            chosen.append(sample)
            total += sample.count
        }
        return chosen.reversed().flatMap { $0 }
    }
}

/// Applies `change` to `value` in place (with a dictionary's `default:` subscript, one lookup).
private func modify<Value>(_ value: inout Value, _ change: (inout Value) -> Void) { change(&value) }
