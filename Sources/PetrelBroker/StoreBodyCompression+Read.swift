import NIOCore
import PetrelCore
import PetrelPluginHost
import PetrelStore

/// The read path: stored records handed to a client that cannot decompress get their plain body.
extension StoreBodyCompression {
    /// Whether the stored record in `record` (a whole v1 or compact record) has a zstd body.
    static func hasZstdBody(_ record: UnsafeRawBufferPointer) -> Bool {
        (try? StoredMessageCodec.sysFlag(ofRecord: record))?.compression == .zstd
    }

    /// The plain body of an enveloped zstd body.
    public func plainBody(_ body: ByteBuffer) throws(BrokerError) -> [UInt8] {
        let bytes = Array(body.readableBytesView)
        let envelope: CompressedBodyEnvelope
        do { envelope = try CompressedBodyEnvelope(parsing: bytes) } catch {
            throw BrokerError(.compressionFailure, "the compressed body's envelope is damaged: \(error.message)")
        }
        guard let compressor else {
            throw BrokerError(.compressionFailure, "the body is zstd-compressed and no compressorPlugin is configured")
        }
        do {
            var prepared: PreparedDictionary?
            if envelope.dictionaryId != 0 {
                prepared = try preparedForDecompression(envelope.dictionaryId, compressor)
                guard prepared != nil else {
                    throw BrokerError(.compressionFailure, "the body needs dictionary \(envelope.dictionaryId), which this broker does not have")
                }
            }
            let frame = Array(bytes[envelope.headerLength...])
            if let prepared { return try compressor.decompress(frame, originalSize: envelope.originalLength, dictionary: prepared) }
            return try compressor.decompress(frame, originalSize: envelope.originalLength)
        } catch let error as BrokerError {
            throw error
        } catch {
            throw BrokerError(.compressionFailure, "decompressing the body failed: \(error)")
        }
    }

    /// `stored` with a plain body: compression bits cleared, body CRC recomputed (the record size
    /// follows when it is encoded). Anything but a zstd body is returned unchanged.
    public func plain(_ stored: StoredMessage) throws(BrokerError) -> StoredMessage {
        guard stored.sysFlag.compression == .zstd else { return stored }
        var plain = stored
        plain.message.body = ByteBuffer(bytes: try plainBody(stored.message.body))
        plain.sysFlag.compression = nil
        plain.bodyCRC = plain.message.body.withUnsafeReadableBytes { CRC32.bodyChecksum($0) }
        return plain
    }

    /// Appends `record` to `buffer`: verbatim when `verbatim` or its body is not zstd, else
    /// re-encoded with the plain body.
    func write(_ record: StoredRecordSlice, verbatim: Bool, into buffer: inout ByteBuffer) throws(BrokerError) {
        if verbatim || !record.withUnsafeBytes({ Self.hasZstdBody($0) }) {
            do { try record.write(into: &buffer) } catch {
                throw BrokerError(.compressionFailure, "the record at \(record.commitLogOffset.rawValue) does not decode: \(error.message)")
            }
            return
        }
        let stored: StoredMessage
        do { stored = try record.decode() } catch {
            throw BrokerError(.compressionFailure, "the record at \(record.commitLogOffset.rawValue) does not decode: \(error.message)")
        }
        let plain: StoredMessage
        do { plain = try self.plain(stored) } catch {
            throw BrokerError(.compressionFailure, "message at commit-log offset \(record.commitLogOffset.rawValue) of topic \(stored.message.topic): \(error.message)")
        }
        do { try StoredMessageCodec.encode(plain, into: &buffer) } catch {
            throw BrokerError(.compressionFailure, "re-encoding the record at \(record.commitLogOffset.rawValue) failed: \(error.message)")
        }
    }
}
