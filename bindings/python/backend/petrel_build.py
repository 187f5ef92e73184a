"""A PEP 517 build backend for the petrel package: a platform wheel of src/petrel plus libpetrel.so.

Kept in the tree so `pip install bindings/python` needs no download. The library comes from
$PETREL_LIBRARY (a file) or, by default, the repository's `make lib` output, build/lib/libpetrel.so.
"""
import base64
import hashlib
import io
import os
import sysconfig
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
SOURCE = HERE / "src" / "petrel"
NAME = "petrel"


def _version():
    for line in (HERE / "pyproject.toml").read_text().splitlines():
        if line.startswith("version"):
            return line.split("=", 1)[1].strip().strip('"')
    raise RuntimeError("pyproject.toml has no version")


def _library():
    """The libpetrel.so to put in the wheel; a clear error when there is none."""
    configured = os.environ.get("PETREL_LIBRARY")
    candidate = Path(configured) if configured else HERE.parent.parent / "build" / "lib" / "libpetrel.so"
    if not candidate.is_file():
        raise RuntimeError(f"libpetrel.so not found at {candidate}: run `make lib` in the repository, "
                           "or set PETREL_LIBRARY to the library's path")
    return candidate


def _tag():
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"py3-none-{platform}"


def _metadata():
    return (f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {_version()}\n"
            "Summary: Python client for Petrel (ctypes over libpetrel.so)\nRequires-Python: >=3.9\n")


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _files():
    """(path in wheel, bytes) for the package, the library and the metadata (RECORD last)."""
    files = [(f"{NAME}/{path.relative_to(SOURCE).as_posix()}", path.read_bytes())
             for path in sorted(SOURCE.rglob("*")) if path.is_file() and "__pycache__" not in path.parts
             and path.suffix != ".so"]
    files.append((f"{NAME}/libpetrel.so", _library().read_bytes()))
    dist_info = f"{NAME}-{_version()}.dist-info"
    files.append((f"{dist_info}/METADATA", _metadata().encode()))
    wheel = f"Wheel-Version: 1.0\nGenerator: petrel_build\nRoot-Is-Purelib: false\nTag: {_tag()}\n"
    files.append((f"{dist_info}/WHEEL", wheel.encode()))
    record = "\n".join([_record_line(path, data) for path, data in files] + [f"{dist_info}/RECORD,,", ""])
    files.append((f"{dist_info}/RECORD", record.encode()))
    return files


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 517: writes the wheel and returns its file name."""
    name = f"{NAME}-{_version()}-{_tag()}.whl"
    with zipfile.ZipFile(Path(wheel_directory) / name, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in _files():
            information = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            information.external_attr = (0o755 if path.endswith(".so") else 0o644) << 16
            wheel.writestr(information, data, zipfile.ZIP_DEFLATED)
    return name


def build_sdist(sdist_directory, config_settings=None):
    """PEP 517: the source tree (without the library, which each build takes from PETREL_LIBRARY)."""
    base = f"{NAME}-{_version()}"
    name = f"{base}.tar.gz"
    with tarfile.open(Path(sdist_directory) / name, "w:gz") as archive:
        for path in sorted(HERE.rglob("*")):
            relative = path.relative_to(HERE)
            if path.is_file() and "__pycache__" not in relative.parts and path.suffix != ".so":
                archive.add(path, f"{base}/{relative.as_posix()}")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = _metadata().encode()
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []
