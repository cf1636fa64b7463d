"""The JSON files kept beside a recording (the MUP results, the findings): read and written the one way.

Each is one UTF-8 JSON object naming its ``format`` and ``version``. Reading refuses, in one line naming the file,
a file that cannot be read, is not JSON, is another kind of file or a version this emgscope does not read. Writing
replaces the file whole through a temporary file beside it, so a crash leaves the old file or the new one, never
half of one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def read_document(path: Path, kind: str, fmt: str, version: int, error: type[Exception]) -> dict[str, Any]:
    """The object in ``path``, a ``kind`` file ("a findings file") of ``fmt`` and ``version``; raises ``error``
    with one line otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path.name} cannot be read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{path.name} is not {kind} (not JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise error(f"{path.name} is not {kind} (its 'format' is not {fmt!r})")
    if data.get("version") != version:
        raise error(f"{path.name} is version {data.get('version')} of {kind}; this emgscope reads {version}")
    return data


def write_document(path: Path, text: str, error: type[Exception]) -> None:
    """Replace ``path`` with ``text`` (and a final newline) whole; raises ``error`` with one line."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(text + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise error(f"{path.name} cannot be written: {exc.strerror or exc}") from None
