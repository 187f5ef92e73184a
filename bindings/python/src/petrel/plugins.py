"""SelectorPlugin: a C selector plugin (include/petrel_plugin.h) loaded through libpetrel.so."""
from __future__ import annotations

import ctypes
import threading
from typing import Optional

from . import _native
from ._native import lib
from .message import check


class SelectorPlugin:
    """A loaded selector plugin for Producer.send_plugin_selected.

    `plugin` is a name looked up as `<plugin_directory>/<name>.so` (e.g. "selector-hash") or a path (any
    string with '/'). A plugin that cannot be loaded, or refuses `config`, raises PluginError with the
    plugin's reason. Close it (or use `with`) when done; sends in progress keep it alive."""

    def __init__(self, plugin: str, config: Optional[str] = None, plugin_directory: Optional[str] = None) -> None:
        self._handle: Optional[ctypes.c_void_p] = None  # set first: __del__ runs even when loading fails
        self._lock = threading.Lock()
        self.plugin = plugin
        handle = ctypes.c_void_p()
        check(lib.petrel_selector_plugin_load(_native.encode(plugin, "plugin"), _native.encode(config, "config"),
                                              _native.encode(plugin_directory, "plugin_directory"),
                                              ctypes.byref(handle)))
        self._handle = handle

    @property
    def handle(self) -> ctypes.c_void_p:
        """The C handle; ValueError once closed."""
        with self._lock:
            if self._handle is None:
                raise ValueError(f"selector plugin {self.plugin} is closed")
            return self._handle

    def close(self) -> None:
        """Releases the plugin handle. Idempotent."""
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            lib.petrel_selector_plugin_destroy(handle)

    def __enter__(self) -> SelectorPlugin:
        return self

    def __exit__(self, *_exception: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
