"""ALSA's own complaints ("underrun occurred") go to the log, not to the terminal the app was started from.

alsa-lib prints its errors to stderr through a handler that a program may replace
(``snd_lib_error_set_handler``). PortAudio reaches the sound card through ALSA, so without this every sound-card
hiccup of a busy machine would print a line the operator cannot act on; the log keeps it beside the audio figures
instead (the underrun counters on screen already say how the sound fared).

The handler is variadic in C (``file, line, function, err, fmt, ...``). It is received here with the fixed
arguments and the first variadic one, which both x86-64 and AArch64 Linux pass in a register like any other
argument; that one is used only when the format takes exactly one string (``"%s occurred"``), else the format
itself is logged. The handler only queues the text (it runs on the sound thread, which must not wait on a file);
a thread of its own writes it to the log.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import queue
import threading

from emgscope.core import log

_HANDLER = ctypes.CFUNCTYPE(
    None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p
)
_log = log.logger(__name__)
_installed: list[object] = []
"""The handler in force (kept alive: ALSA holds a bare pointer to it)."""
_messages: queue.SimpleQueue[str] = queue.SimpleQueue()


def _text(raw: bytes | None) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def _on_alsa_error(file: bytes, line: int, function: bytes, err: int, fmt: bytes, first: bytes) -> None:
    message = _text(fmt)
    if message.count("%") == 1 and "%s" in message:
        message = message.replace("%s", _text(first))
    _messages.put(f"ALSA ({_text(function)}): {message}")


def _write_messages() -> None:
    while True:
        message = _messages.get()
        # PortAudio's probing of every card at start-up makes ALSA list each one it does not have: kept for
        # DEBUG; what happens to a playing stream (an underrun) is worth a line at the default level.
        _log.log(logging.INFO if "run" in message else logging.DEBUG, "%s", message)


def route_alsa_messages() -> bool:
    """Send ALSA's error messages to the log (once per process); ``False`` where there is no ALSA."""
    if _installed:
        return True
    name = ctypes.util.find_library("asound")
    if name is None:
        return False
    try:
        library = ctypes.CDLL(name)
    except OSError:
        return False
    handler = _HANDLER(_on_alsa_error)
    library.snd_lib_error_set_handler(handler)
    _installed.append(handler)
    threading.Thread(target=_write_messages, name="alsa-log", daemon=True).start()
    return True
