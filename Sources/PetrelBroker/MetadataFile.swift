import PetrelCore
import PetrelStore

/// One of the broker's JSON metadata files under `<storeRoot>/config/` (`topics.json`,
/// `subscriptionGroup.json`, `consumerOffset.json`), in the layout a Java broker writes so the
/// files can be moved between the two.
///
/// Writes go through PetrelStore's `AtomicFile` (write a temporary, fsync, rename, fsync the
/// directory), so a crash leaves either the old or the new content, never a torn file. A `.bak`
/// copy of the previous content is kept beside it, as Java's `MixAll.string2File` does, and is
/// read when the main file is missing.
struct MetadataFile: Sendable {
    /// Full path of the file.
    let path: String

    /// The file `name` in `<storeRoot>/config/`.
    init(storeRoot: String, name: String) {
        path = storeRoot + "/config/" + name
    }

    /// The directory holding the file.
    var directory: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    /// The parsed content; nil when neither the file nor its backup exists. A file that exists but
    /// does not parse is an error: silently starting empty would lose every topic or offset.
    func read() throws(BrokerError) -> JSONValue? {
        for candidate in [path, path + ".bak"] {
            let bytes: [UInt8]?
            do { bytes = try AtomicFile.read(candidate) } catch {
                throw BrokerError(.metadataFailure, "cannot read \(candidate): \(error)")
            }
            guard let bytes else { continue }
            // An empty file is what an interrupted Java broker can leave; treat it as absent.
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { continue }
            do { return try JSONValue.parse(bytes) } catch {
                throw BrokerError(.corruptMetadata, "\(candidate) is not JSON: \(error)")
            }
        }
        return nil
    }

    /// Replaces the file with `json`, keeping the previous content as `<file>.bak`.
    func write(_ json: JSONValue) throws(BrokerError) {
        do {
            try System.makeDirectories(directory)
            if let previous = try AtomicFile.read(path), !previous.isEmpty {
                try AtomicFile.write(previous, to: path + ".bak")
            }
            try AtomicFile.write(json.serialized(), to: path)
        } catch {
            throw BrokerError(.metadataFailure, "cannot write \(path): \(error)")
        }
    }
}
