#!/usr/bin/env bash
# Set up emgscope on a Debian/Ubuntu machine and run it.
#
#   bash packaging/bootstrap.sh app  [emgscope options]   install, then open the app on the simulated patient
#   bash packaging/bootstrap.sh test [pytest options]     install, then run the lint check and the whole test suite
#
# Run as root, it installs the system packages it needs with apt-get; otherwise it names the missing ones and
# the command that installs them. The Python packages go into .venv in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
if [ "$mode" != app ] && [ "$mode" != test ]; then
    echo "usage: bash packaging/bootstrap.sh app|test [options]" >&2
    exit 2
fi
shift

# Qt's runtime libraries (offscreen and X11), PortAudio for sound, venv for the Python environment.
packages=(python3-venv libgl1 libegl1 libx11-6 libdbus-1-3 libfontconfig1 libglib2.0-0 libxkbcommon0
    libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0
    libxcb-shape0 libportaudio2)
if [ "$mode" = test ]; then
    # A real audio device without sound hardware (a PulseAudio null sink), a virtual screen, and poppler's
    # pdftotext and pdftoppm, which read the reports' PDFs back.
    packages+=(pulseaudio pulseaudio-utils libasound2-plugins xvfb xauth poppler-utils)
fi

if command -v dpkg-query >/dev/null 2>&1; then
    missing=()
    for package in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" = 0 ]; then
            echo "Installing system packages: ${missing[*]}"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        else
            echo "emgscope needs these system packages: ${missing[*]}" >&2
            echo "Install them with:  sudo apt-get install ${missing[*]}" >&2
            exit 1
        fi
    fi
else
    echo "Not a Debian/Ubuntu system: make sure Qt 6's runtime libraries and PortAudio are installed." >&2
fi

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
extras=""
[ "$mode" = test ] && extras="[test]"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".${extras}"

if [ "$mode" = app ]; then
    exec .venv/bin/emgscope "$@"
fi
.venv/bin/ruff check emgscope tests
.venv/bin/ruff format --check emgscope tests
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
exec .venv/bin/python -m pytest "$@"
