/// The error every PetrelStore operation throws: a stable `code`, a message for people, and
/// where known the file and `errno` behind it (modelled on NIOFS's `FileSystemError`).
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable, switchable error kinds.
    public enum Code: String, Hashable, Sendable {
        /// A system call failed; `errno` says why.
        case ioFailure
        /// A record in the middle of the log is damaged while valid records follow it.
        case corruptLog
        /// A metadata file (checkpoint, index header …) is damaged.
        case corruptMetadata
        /// A flush failed earlier; the store refuses writes from then on.
        case flushFailed
        /// The disk is fuller than the configured ratio.
        case diskFull
        /// The offset is below the oldest data kept (retention deleted it).
        case offsetTooSmall
        /// The offset is past the newest data.
        case offsetOverflow
        /// The message cannot be stored as given (size, topic length …).
        case messageIllegal
        /// The configuration is inconsistent.
        case invalidConfiguration
        /// The store is closed or not yet open.
        case notAvailable
        /// Another process holds the store's lock.
        case locked
    }

    /// What went wrong, stably.
    public var code: Code
    /// What went wrong, for people.
    public var message: String
    /// The file involved, if any.
    public var path: String?
    /// The `errno` of a failed system call, if any.
    public var errno: Int32?

    /// Creates an error.
    public init(_ code: Code, _ message: String, path: String? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.errno = errno
    }

    /// `code: message (path) [errno]`.
    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let path { text += " (\(path))" }
        if let errno { text += " [errno \(errno): \(System.describe(errno: errno))]" }
        return text
    }
}
