import CPetrel
import PetrelClient

/// `petrel_version()`: "MAJOR.MINOR.PATCH", static storage.
@_cdecl("petrel_version")
public func petrel_version() -> UnsafePointer<CChar> {
    StatusNames.version
}

/// `petrel_status_name()`: the status's name, "PETREL_UNKNOWN" for values the library does not know.
@_cdecl("petrel_status_name")
public func petrel_status_name(_ status: petrel_status) -> UnsafePointer<CChar> {
    StatusNames.name(of: status)
}

/// `petrel_last_error()`: the calling thread's last error message, "" when none.
@_cdecl("petrel_last_error")
public func petrel_last_error() -> UnsafePointer<CChar> {
    LastError.get()
}

/// Static C strings the library hands out.
enum StatusNames {
    /// The version string.
    nonisolated(unsafe) static let version = StaticCString.make(PetrelClientModule.version)

    /// Each status's name, by raw value.
    nonisolated(unsafe) static let names: [UInt32: UnsafePointer<CChar>] = {
        let known: [(petrel_status, String)] = [
            (PETREL_OK, "PETREL_OK"), (PETREL_INVALID_ARGUMENT, "PETREL_INVALID_ARGUMENT"),
            (PETREL_INVALID_STATE, "PETREL_INVALID_STATE"), (PETREL_CONNECT_FAILED, "PETREL_CONNECT_FAILED"),
            (PETREL_TIMEOUT, "PETREL_TIMEOUT"), (PETREL_NO_ROUTE, "PETREL_NO_ROUTE"),
            (PETREL_BROKER_ERROR, "PETREL_BROKER_ERROR"), (PETREL_NO_MESSAGE, "PETREL_NO_MESSAGE"),
            (PETREL_BUFFER_TOO_SMALL, "PETREL_BUFFER_TOO_SMALL"), (PETREL_PLUGIN_ERROR, "PETREL_PLUGIN_ERROR"),
            (PETREL_SHUT_DOWN, "PETREL_SHUT_DOWN"), (PETREL_INTERNAL_ERROR, "PETREL_INTERNAL_ERROR"),
        ]
        return Dictionary(uniqueKeysWithValues: known.map { ($0.0.rawValue, StaticCString.make($0.1)) })
    }()

    /// Returned for values outside the enumeration.
    nonisolated(unsafe) static let unknown = StaticCString.make("PETREL_UNKNOWN")

    /// The name of `status`.
    static func name(of status: petrel_status) -> UnsafePointer<CChar> {
        names[status.rawValue] ?? unknown
    }
}
