// Logging: the library's records to a std::function, levels.
// Part of petrel.hpp (bindings/cpp), the header-only C++17 wrapper of petrel.h; include petrel.hpp.
#ifndef PETREL_LOGGING_HPP
#define PETREL_LOGGING_HPP

#include "core.hpp"

#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace petrel {

/// Severity of a log record (petrel_log_level); `off` as a threshold passes nothing.
enum class LogLevel : int {
    trace = PETREL_LOG_TRACE,
    debug = PETREL_LOG_DEBUG,
    info = PETREL_LOG_INFO,
    notice = PETREL_LOG_NOTICE,
    warning = PETREL_LOG_WARNING,
    error = PETREL_LOG_ERROR,
    critical = PETREL_LOG_CRITICAL,
    off = PETREL_LOG_OFF,
};

/// Receives one record: level, logger name ("petrel.client" ...), message. Runs on whichever library
/// thread logs (network threads included, several at once): keep it quick and non-blocking. An
/// exception it throws is reported on stderr and dropped.
using LogHandler = std::function<void(LogLevel, const std::string &logger, const std::string &message)>;

namespace detail {
/// The installed handler; replaced under `log_mutex`, freed once the library no longer calls it.
inline std::mutex log_mutex;
inline std::unique_ptr<LogHandler> log_handler;

inline void on_log(void *user_data, petrel_log_level level, const char *logger, const char *message) noexcept {
    try {
        (*static_cast<LogHandler *>(user_data))(static_cast<LogLevel>(level), logger ? logger : "",
                                                 message ? message : "");
    } catch (const std::exception &error) {
        std::fprintf(stderr, "petrel: log handler threw: %s\n", error.what());
    } catch (...) {
        std::fprintf(stderr, "petrel: log handler threw\n");
    }
}
}  // namespace detail

/// Sends records at `level` and up to `handler`; an empty handler restores the library's default
/// (warnings and up to stderr, nothing on stdout). Must not be called from inside a handler.
inline void set_log_handler(LogLevel level, LogHandler handler) {
    std::lock_guard<std::mutex> guard(detail::log_mutex);
    std::unique_ptr<LogHandler> installed = handler ? std::make_unique<LogHandler>(std::move(handler)) : nullptr;
    check(petrel_set_log_handler(static_cast<petrel_log_level>(level), installed ? &detail::on_log : nullptr,
                                 installed.get()));
    // The C call returned only once no call of the previous handler was running: free it now.
    detail::log_handler = std::move(installed);
}

/// Changes only the threshold (default warning).
inline void set_log_level(LogLevel level) { check(petrel_set_log_level(static_cast<petrel_log_level>(level))); }

/// The current threshold.
inline LogLevel log_level() { return static_cast<LogLevel>(petrel_get_log_level()); }

}  // namespace petrel

#endif  // PETREL_LOGGING_HPP
