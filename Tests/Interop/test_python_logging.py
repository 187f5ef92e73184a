"""The Python binding's logging: the library's records reach Python's `logging` ("petrel.*" loggers),
the library's threshold follows set_log_level, and nothing is written to standard output."""
import logging

import pytest

from clients import unique
from conftest import wait_until
from petrel_python import fast_broker, petrel  # noqa: F401  (fixture)


@pytest.fixture
def library_at_info():
    petrel.set_log_level(logging.INFO)
    yield
    petrel.route_logs_to_python(logging.WARNING)


def test_records_reach_python_logging_not_stdout(fast_broker, library_at_info, caplog, capfd):
    assert petrel.get_log_level() == logging.INFO
    with caplog.at_level(logging.INFO, logger="petrel"):
        with petrel.Producer(fast_broker.namesrv_addr, unique("PG")):
            wait_until(lambda: any(record.name == "petrel.client" and "client instance started" in record.getMessage()
                                   for record in caplog.records), message="the client's start record")
    started = next(record for record in caplog.records if "client instance started" in record.getMessage())
    assert started.levelno == logging.INFO and "clientId=" in started.getMessage()
    output = capfd.readouterr()
    assert "client instance started" not in output.out and "client instance started" not in output.err


def test_threshold_filters_in_the_library(fast_broker, caplog):
    petrel.route_logs_to_python(logging.WARNING)
    assert petrel.get_log_level() == logging.WARNING
    with caplog.at_level(logging.DEBUG, logger="petrel"):
        with petrel.Producer(fast_broker.namesrv_addr, unique("PG")):
            pass
    # The library never produced the INFO record, whatever Python's own level is.
    assert not any("client instance started" in record.getMessage() for record in caplog.records)


def test_standard_error_handler_and_bad_levels(fast_broker, capfd):
    try:
        petrel.use_standard_error(logging.INFO)
        with petrel.Producer(fast_broker.namesrv_addr, unique("PG")):
            pass
        output = capfd.readouterr()
        assert "petrel INFO petrel.client: client instance started" in output.err
        assert "client instance started" not in output.out
    finally:
        petrel.route_logs_to_python(logging.WARNING)
    with pytest.raises(petrel.InvalidArgumentError):
        petrel.set_log_level(-1)
    with pytest.raises(TypeError):
        petrel.set_log_level("INFO")  # type: ignore[arg-type]
    from petrel import _native
    assert _native.lib.petrel_set_log_level(42) == petrel.Status.INVALID_ARGUMENT
    assert petrel.get_log_level() == logging.WARNING
