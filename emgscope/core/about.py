"""What the app says about itself: its version, its licence, that it is not a medical device, and where it keeps
the user's settings, sessions and logs (shown by Help → About, the first-start notice and ``--version``).

Installing or removing the app never touches those folders: they are the user's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emgscope import __version__
from emgscope.core.log import log_dir
from emgscope.core.settings import RecordingSettings, config_dir

LICENCE = "GPL-3.0-or-later"
LICENCE_URL = "https://www.gnu.org/licenses/gpl-3.0.html"
NOT_A_MEDICAL_DEVICE = (
    "emgscope is not a cleared medical device. It has not been evaluated by the FDA, under the EU MDR or by any "
    "other regulator, and must not be used to diagnose or treat anyone. Use it for teaching, research and "
    "development only."
)
"""The notice of the README, word for word."""


@dataclass(frozen=True)
class DataFolders:
    """Where the user's data lives."""

    settings: Path
    sessions: Path
    logs: Path


def data_folders(recording: RecordingSettings) -> DataFolders:
    """The folders in force: the settings folder, the sessions folder the recording settings name, the log folder."""
    return DataFolders(config_dir(), recording.folder(), log_dir())


def version_text() -> str:
    """What ``emgscope --version`` prints."""
    return f"emgscope {__version__}\nLicence: {LICENCE} (no warranty)\n{NOT_A_MEDICAL_DEVICE}"
