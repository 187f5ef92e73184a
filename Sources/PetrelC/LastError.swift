import Foundation

/// The calling thread's last error message, in thread-specific storage (a pthread key): each thread
/// sees its own, and a message stays valid until that thread's next failing call replaces it.
enum LastError {
    /// The key; its destructor frees a thread's message when the thread exits.
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        // Creation fails only when the process is out of keys; then `get` reads no value and reports "".
        _ = pthread_key_create(&key) { message in free(message) }
        return key
    }()

    /// "" for a thread without an error; static storage.
    nonisolated(unsafe) static let empty: UnsafePointer<CChar> = StaticCString.make("")

    /// Replaces the calling thread's message with a copy of `message`.
    static func set(_ message: String) {
        let previous = pthread_getspecific(key)
        guard let copy = strdup(message) else { return }
        if pthread_setspecific(key, copy) != 0 {
            free(copy)
            return
        }
        free(previous)
    }

    /// The calling thread's message, "" when none.
    static func get() -> UnsafePointer<CChar> {
        guard let message = pthread_getspecific(key) else { return empty }
        return UnsafePointer(message.assumingMemoryBound(to: CChar.self))
    }
}

/// NUL-terminated copies of constant strings that live as long as the process.
enum StaticCString {
    /// A copy of `text` that is never freed; "" if memory runs out (itself static).
    static func make(_ text: String) -> UnsafePointer<CChar> {
        if let copy = strdup(text) { return UnsafePointer(copy) }
        return fallback
    }

    /// A static empty string for the out-of-memory case.
    nonisolated(unsafe) private static let fallback: UnsafePointer<CChar> = {
        let byte = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
        byte.initialize(to: 0)
        return UnsafePointer(byte)
    }()
}
