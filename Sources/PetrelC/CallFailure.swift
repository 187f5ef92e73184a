import CPetrel
import PetrelClient

/// Why a C API call failed: the status it returns and the message `petrel_last_error()` shows.
///
/// This is the only place Swift errors become C status codes: `ClientError` codes map here, every
/// argument or state check throws one of these, and `CallBoundary` turns it into the return value.
struct CallFailure: Error, Sendable {
    /// The status the call returns.
    var status: petrel_status
    /// What went wrong, for people.
    var message: String

    /// A failure with `status` and `message`.
    init(_ status: petrel_status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// The failure a client error stands for; the message keeps the error's code, remark and peer.
    init(_ error: ClientError) {
        self.init(Self.status(of: error.code), error.description)
    }

    /// The status of each client error code.
    static func status(of code: ClientError.Code) -> petrel_status {
        switch code {
        case .invalidArgument, .invalidConfiguration: PETREL_INVALID_ARGUMENT
        case .notStarted, .groupAlreadyRegistered: PETREL_INVALID_STATE
        case .shutDown: PETREL_SHUT_DOWN
        case .topicNotFound, .noQueueAvailable, .brokerNotFound: PETREL_NO_ROUTE
        case .connectionFailed: PETREL_CONNECT_FAILED
        case .timeout: PETREL_TIMEOUT
        case .brokerError, .malformedResponse: PETREL_BROKER_ERROR
        case .remotingFailed: PETREL_INTERNAL_ERROR
        case .pluginFailed: PETREL_PLUGIN_ERROR
        }
    }

    /// A NULL or unusable argument.
    static func invalidArgument(_ message: String) -> CallFailure { CallFailure(PETREL_INVALID_ARGUMENT, message) }

    /// A call the handle's state does not allow.
    static func invalidState(_ message: String) -> CallFailure { CallFailure(PETREL_INVALID_STATE, message) }

    /// A handle that was shut down.
    static func shutDown(_ what: String) -> CallFailure { CallFailure(PETREL_SHUT_DOWN, "the \(what) is shut down") }
}

/// Where every exported function meets Swift: runs the body, turns a failure into a status and the
/// calling thread's last error. Nothing thrown gets past it. Each run first makes sure the library's
/// log router is installed, so no logger is created before it.
enum CallBoundary {
    /// Runs `body`; PETREL_OK when it returns, the failure's status (and last error) when it throws.
    static func run(_ body: () throws(CallFailure) -> Void) -> petrel_status {
        _ = LogRouter.installed
        do {
            try body()
            return PETREL_OK
        } catch {
            LastError.set(error.message)
            return error.status
        }
    }

    /// Runs `body` and returns the status it returns (for calls with more than one success status).
    static func runReturningStatus(_ body: () throws(CallFailure) -> petrel_status) -> petrel_status {
        _ = LogRouter.installed
        do {
            return try body()
        } catch {
            LastError.set(error.message)
            return error.status
        }
    }

    /// Sets the last error for a function that cannot return a status (destroy, getters).
    static func note(_ message: String) {
        LastError.set(message)
    }
}
