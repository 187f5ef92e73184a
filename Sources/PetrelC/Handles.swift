import CPetrel
import Foundation
import Synchronization

/// The base of every object a C handle points to. Live handles are registered by address, so a
/// NULL, foreign, already destroyed or wrongly typed pointer is refused with a status instead of
/// being dereferenced.
class Handle: @unchecked Sendable {
    /// What the handle is, for messages ("producer", "message" …).
    class var kind: String { "handle" }

    /// Addresses of the live handles.
    private static let live = Mutex<Set<UInt>>([])

    /// Hands out a retained reference as a C pointer and registers it.
    final func retainedPointer() -> OpaquePointer {
        let pointer = OpaquePointer(Unmanaged.passRetained(self).toOpaque())
        Self.live.withLock { _ = $0.insert(UInt(bitPattern: UnsafeRawPointer(pointer))) }
        return pointer
    }

    /// Unregisters `pointer` and drops the reference `retainedPointer` made; false for a pointer that
    /// is not a live handle.
    static func release(_ pointer: OpaquePointer) -> Bool {
        let removed = live.withLock { $0.remove(UInt(bitPattern: UnsafeRawPointer(pointer))) != nil }
        if removed { Unmanaged<Handle>.fromOpaque(UnsafeRawPointer(pointer)).release() }
        return removed
    }

    /// The live handle `pointer` names, if it is one of type `T`.
    static func resolve<T: Handle>(_ pointer: OpaquePointer?, as type: T.Type) -> T? {
        guard let pointer, live.withLock({ $0.contains(UInt(bitPattern: UnsafeRawPointer(pointer))) }) else { return nil }
        return Unmanaged<Handle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue() as? T
    }

    /// The live handle `pointer` names, or an INVALID_ARGUMENT failure naming `argument`.
    static func require<T: Handle>(_ pointer: OpaquePointer?, as type: T.Type, argument: String) throws(CallFailure) -> T {
        guard let pointer else { throw .invalidArgument("\(argument) is NULL") }
        guard let handle = resolve(pointer, as: type) else {
            throw .invalidArgument("\(argument) is not a live petrel_\(type.kind) (destroyed already, or another kind of handle)")
        }
        return handle
    }
}

/// Checks of C arguments: strings, out-pointers, options structs.
enum Arguments {
    /// The longest string accepted anywhere (names, expressions, property values).
    static let maximumStringLength = 1 << 20

    /// The UTF-8 string at `pointer`; refuses NULL, invalid UTF-8, over-long and (unless allowed) empty.
    static func string(_ pointer: UnsafePointer<CChar>?, _ argument: String, allowEmpty: Bool = false) throws(CallFailure) -> String {
        guard let pointer else { throw .invalidArgument("\(argument) is NULL") }
        let length = strnlen(pointer, maximumStringLength + 1)
        guard length <= maximumStringLength else { throw .invalidArgument("\(argument) is longer than \(maximumStringLength) bytes") }
        guard let text = String(validatingCString: pointer) else { throw .invalidArgument("\(argument) is not valid UTF-8") }
        guard allowEmpty || !text.isEmpty else { throw .invalidArgument("\(argument) is empty") }
        return text
    }

    /// Like `string`, but NULL (and "") give nil: for optional settings.
    static func optionalString(_ pointer: UnsafePointer<CChar>?, _ argument: String) throws(CallFailure) -> String? {
        guard pointer != nil else { return nil }
        let text = try string(pointer, argument, allowEmpty: true)
        return text.isEmpty ? nil : text
    }

    /// `pointer` itself, refused when NULL.
    static func required<T>(_ pointer: T?, _ argument: String) throws(CallFailure) -> T {
        guard let pointer else { throw .invalidArgument("\(argument) is NULL") }
        return pointer
    }

    /// The caller's options: `defaults` overlaid with the first `size` bytes of `*options` (fields a
    /// newer header appended are ignored, fields an older caller did not know keep their defaults).
    static func options<T>(_ options: UnsafePointer<T>?, defaults: T, argument: String) throws(CallFailure) -> T {
        guard let options else { throw .invalidArgument("\(argument) is NULL") }
        let size = Int(UnsafeRawPointer(options).load(as: UInt32.self))
        guard size >= MemoryLayout<UInt32>.size else {
            throw .invalidArgument("\(argument)->size is \(size): fill the options with their *_options_init function first")
        }
        var result = defaults
        withUnsafeMutableBytes(of: &result) { target in
            let count = min(size, target.count)
            target.baseAddress?.copyMemory(from: UnsafeRawPointer(options), byteCount: count)
            // The copy keeps the library's own size, whatever the caller's says.
            target.storeBytes(of: UInt32(MemoryLayout<T>.size), as: UInt32.self)
        }
        return result
    }

    /// Copies `text` into a fixed C array (a Swift tuple of CChar), truncated to fit, NUL-terminated.
    static func copy<Tuple>(_ text: String, into array: inout Tuple) {
        withUnsafeMutableBytes(of: &array) { target in
            guard target.count > 0 else { return }
            let bytes = Array(text.utf8.prefix(target.count - 1))
            target.copyBytes(from: bytes)
            target[bytes.count] = 0
        }
    }

    /// The NUL-terminated text of a fixed C array; nil when it has no NUL or is not UTF-8.
    static func text<Tuple>(of array: Tuple) -> String? {
        withUnsafeBytes(of: array) { bytes -> String? in
            guard let end = bytes.firstIndex(of: 0) else { return nil }
            return String(validating: bytes[..<end], as: UTF8.self)
        }
    }
}
