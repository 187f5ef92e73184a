"""The Python binding's surface: declarations match the header, statuses map to exceptions, and
`pip install bindings/python` puts a working copy of libpetrel.so inside the package."""
import os
import re
import subprocess
import sys

import pytest

from petrel_python import HEADER, LIBRARY, PYTHON_SOURCE, petrel


def header_functions():
    """The functions include/petrel.h declares (comments stripped; function-pointer typedefs skipped)."""
    text = re.sub(r"/\*.*?\*/", " ", HEADER.read_text(), flags=re.S)
    return set(re.findall(r"(?<!\(\*)\b(petrel_[a-z0-9_]+)\s*\((?!\s*\*)", text))


def test_every_header_function_is_declared():
    from petrel import _native
    assert set(_native.FUNCTIONS) == header_functions()


def test_option_structs_match_the_library_sizes():
    from petrel import _native
    for init, struct in [("petrel_producer_options_init", _native.ProducerOptions),
                         ("petrel_push_consumer_options_init", _native.PushConsumerOptions),
                         ("petrel_pull_consumer_options_init", _native.PullConsumerOptions)]:
        options = struct()
        getattr(_native.lib, init)(options)
        assert options.size == _native.ctypes.sizeof(struct), init


def test_version_status_names_and_loading():
    assert re.fullmatch(r"\d+\.\d+\.\d+", petrel.version())
    assert petrel.library_path == str(LIBRARY)
    for status in petrel.Status:
        assert petrel.status_name(status) == f"PETREL_{status.name}"
    assert petrel.status_name(999) == "PETREL_UNKNOWN"


@pytest.mark.parametrize("status,error_class,builtin", [
    (petrel.Status.INVALID_ARGUMENT, petrel.InvalidArgumentError, ValueError),
    (petrel.Status.INVALID_STATE, petrel.InvalidStateError, None),
    (petrel.Status.CONNECT_FAILED, petrel.ConnectError, ConnectionError),
    (petrel.Status.TIMEOUT, petrel.PetrelTimeoutError, TimeoutError),
    (petrel.Status.NO_ROUTE, petrel.NoRouteError, None),
    (petrel.Status.BROKER_ERROR, petrel.BrokerError, None),
    (petrel.Status.NO_MESSAGE, petrel.NoMessageError, None),
    (petrel.Status.BUFFER_TOO_SMALL, petrel.BufferTooSmallError, None),
    (petrel.Status.PLUGIN_ERROR, petrel.PluginError, None),
    (petrel.Status.SHUT_DOWN, petrel.ShutDownError, None),
    (petrel.Status.INTERNAL_ERROR, petrel.InternalError, None),
])
def test_each_status_has_its_exception(status, error_class, builtin):
    from petrel.errors import error_for
    error = error_for(status, "what happened")
    assert type(error) is error_class and isinstance(error, petrel.PetrelError)
    assert error.status == status and error.message == "what happened" and status.name in str(error)
    if builtin:
        assert isinstance(error, builtin)
    unknown = error_for(77, "future")
    assert type(unknown) is petrel.PetrelError and unknown.status == 77


def test_bad_arguments_without_a_broker():
    with pytest.raises(petrel.InvalidArgumentError) as raised:
        petrel.Producer("")
    assert "name_servers" in raised.value.message and "name_servers" in petrel.last_error()
    with pytest.raises(TypeError):
        petrel.Producer(42)
    with pytest.raises(petrel.InvalidArgumentError):
        petrel.Producer("127.0.0.1:9876", "bad\0group")
    with pytest.raises(petrel.InvalidArgumentError):
        petrel.PullConsumer("127.0.0.1:9876", "")
    with pytest.raises(petrel.InvalidArgumentError):
        petrel.PullConsumer("127.0.0.1:9876", "group", poll_timeout=-1)
    consumer = petrel.PullConsumer("127.0.0.1:9876", "group")
    with pytest.raises(petrel.InvalidStateError):
        consumer.fetch_queues("Topic")
    with pytest.raises(petrel.InvalidStateError):
        consumer.poll(0)
    with pytest.raises(petrel.InvalidStateError):
        consumer.commit(petrel.Queue("Topic", "broker-a", 0), 1)
    consumer.close()


def test_property_enumeration_of_a_built_message_and_bad_arguments():
    import ctypes
    from petrel import _native
    from petrel.message import Message, NativeMessage, read_properties
    with NativeMessage(Message("Topic", properties={"zeta": "z", "alpha": "a", "Mid": "m"})) as native:
        properties = read_properties(native.handle)
        assert list(properties.items()) == [("Mid", "m"), ("alpha", "a"), ("zeta", "z")]
        assert native.property("alpha") == "a" and native.property("absent") is None
        with pytest.raises(TypeError):
            properties["new"] = "read-only"  # type: ignore[index]
        name, value = ctypes.c_char_p(b"unset"), ctypes.c_char_p(b"unset")
        status = _native.lib.petrel_message_property_at(native.handle, 3, ctypes.byref(name), ctypes.byref(value))
        assert status == petrel.Status.INVALID_ARGUMENT and "out of range" in petrel.last_error()
        assert name.value is None and value.value is None
        assert _native.lib.petrel_message_property_count(native.handle, None) == petrel.Status.INVALID_ARGUMENT
    with pytest.raises(petrel.InvalidArgumentError):
        read_properties(None)  # type: ignore[arg-type]


def test_pip_install_puts_the_library_in_the_package(tmp_path):
    target = tmp_path / "site"
    environment = dict(os.environ, PETREL_LIBRARY=str(LIBRARY))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--target", str(target),
                    str(PYTHON_SOURCE.parent)], check=True, env=environment, capture_output=True)
    installed = target / "petrel"
    assert (installed / "libpetrel.so").read_bytes() == LIBRARY.read_bytes()
    assert (installed / "py.typed").exists()
    environment = {key: value for key, value in os.environ.items() if key != "PETREL_LIBRARY"}
    environment["PYTHONPATH"] = str(target)
    completed = subprocess.run([sys.executable, "-c", "import petrel; print(petrel.library_path); print(petrel.version())"],
                               env=environment, capture_output=True, text=True, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == [str(installed / "libpetrel.so"), petrel.version()]


def test_import_without_any_library_explains(tmp_path):
    environment = {key: value for key, value in os.environ.items() if key != "PETREL_LIBRARY"}
    environment["PYTHONPATH"] = str(PYTHON_SOURCE)
    environment["LD_LIBRARY_PATH"] = ""
    completed = subprocess.run([sys.executable, "-c", "import petrel"], env=environment, capture_output=True,
                               text=True, cwd=tmp_path)
    if "libpetrel.so not found" not in completed.stderr:
        assert completed.returncode == 0  # a system-wide libpetrel.so (make install) was found instead
    else:
        assert completed.returncode != 0 and "PETREL_LIBRARY" in completed.stderr


def test_option_types_are_checked_before_the_library_sees_them():
    with pytest.raises(TypeError):
        petrel.Producer("127.0.0.1:9876", group=7)
    with pytest.raises(TypeError):
        petrel.Producer("127.0.0.1:9876", retry_times="2")
    with pytest.raises(petrel.InvalidArgumentError):
        petrel.Producer("127.0.0.1:9876", retry_times=-1)
    with pytest.raises(TypeError):
        petrel.PushConsumer("127.0.0.1:9876", "group", thread_count=1.5)


def test_the_binding_calls_every_function():
    source = "\n".join(path.read_text() for path in (PYTHON_SOURCE / "petrel").glob("*.py") if path.name != "_native.py")
    unused = sorted(name for name in header_functions() if not re.search(rf"lib\.{name}\b", source))
    assert unused == []
