import CPetrel

// Logging (petrel.h's "logging" section): where the library's log records go and from which level.

/// The level, or INVALID_ARGUMENT for a value outside the enumeration.
private func checkedLevel(_ level: petrel_log_level) throws(CallFailure) -> petrel_log_level {
    guard level.rawValue <= PETREL_LOG_OFF.rawValue else {
        throw .invalidArgument("log level \(level.rawValue) is not a petrel_log_level (0 TRACE ... 7 OFF)")
    }
    return level
}

/// `petrel_set_log_handler`: the callback (NULL: standard error) and the threshold; returns once no
/// call of the previous callback is running.
@_cdecl("petrel_set_log_handler")
public func petrel_set_log_handler(
    _ level: petrel_log_level, _ callback: petrel_log_callback?, _ userData: UnsafeMutableRawPointer?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let checked = try checkedLevel(level)
        let router = LogRouter.shared
        guard !router.isInsideCallback else {
            throw .invalidState("petrel_set_log_handler was called from inside the log callback (it would wait for itself)")
        }
        router.setLevel(checked)
        router.replaceSink(callback.map { LogRouter.Sink(callback: $0, userData: userData) })
    }
}

/// `petrel_set_log_level`: the lowest level passed on, whoever receives the records.
@_cdecl("petrel_set_log_level")
public func petrel_set_log_level(_ level: petrel_log_level) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        LogRouter.shared.setLevel(try checkedLevel(level))
    }
}

/// `petrel_get_log_level`: the current threshold.
@_cdecl("petrel_get_log_level")
public func petrel_get_log_level() -> petrel_log_level {
    LogRouter.shared.level
}
