#!/usr/bin/env bash
# Install the .deb that packaging/build.sh made, use the installed app as a user would, remove it:
#
#   bash packaging/test_package.sh      (as root; CI runs it)
#
# Checks: apt-get installs it with its Depends; the metadata and desktop entry validate as installed;
# /usr/bin/emgscope runs from outside the checkout (--version with the notice, a headless recording read back,
# an offscreen screenshot that holds traces); so does the wheel the build installed in build/venv; installing
# the package again over itself works; removing it (and purging) leaves none of its files, while the user's data
# stays.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
deb=$(ls "$repo"/dist/emgscope_*.deb)
check_picture=("$repo/build/venv/bin/python" "$repo/packaging/check_screenshot.py")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DEBIAN_FRONTEND=noninteractive

echo "== install $(basename "$deb")"
apt-get install -y -qq "$deb" >/dev/null
# Its files and links (folders like /usr/share/icons/hicolor are shared with other packages).
dpkg -L emgscope | while read -r path; do [ -d "$path" ] && [ ! -L "$path" ] || echo "$path"; done > "$work/files"
appstreamcli validate --no-net --pedantic /usr/share/metainfo/*emgscope.metainfo.xml
desktop-file-validate /usr/share/applications/emgscope.desktop

echo "== run /usr/bin/emgscope from $work"
cd "$work"
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_STATE_HOME="$work/home/.local/state"
mkdir -p "$HOME"
/usr/bin/emgscope --version | tee version.txt
grep -q "not a cleared medical device" version.txt
emgscope record --seconds 2 --out "$work/recording.bdf"
emgscope info "$work/recording.bdf" | grep -q "Duration:   2.000 s"
QT_QPA_PLATFORM=offscreen emgscope --screenshot "$work/screenshot.png" --seconds 2 2> screenshot.log || {
    cat screenshot.log >&2
    exit 1
}
"${check_picture[@]}" "$work/screenshot.png"

echo "== the wheel, installed by the build in a venv of its own, from $work"
wheel_app="$repo/build/venv/bin/emgscope"
"$repo/build/venv/bin/python" -c "import emgscope, sys; sys.exit('emgscope' in sys.modules and 'site-packages' not in emgscope.__file__)"
QT_QPA_PLATFORM=offscreen "$wheel_app" --no-settings --screenshot "$work/wheel.png" --seconds 2 2> wheel.log || {
    cat wheel.log >&2
    exit 1
}
"${check_picture[@]}" "$work/wheel.png"

echo "== install again over it"
apt-get install -y -qq --reinstall "$deb" >/dev/null
dpkg -s emgscope | grep -q "Status: install ok installed"

echo "== remove, then purge"
apt-get remove -y -qq emgscope >/dev/null
apt-get purge -y -qq emgscope >/dev/null
left=$(while read -r path; do if [ -e "$path" ] || [ -L "$path" ]; then echo "$path"; fi; done < "$work/files")
[ -e /opt/emgscope ] && left+=$'\n/opt/emgscope'
if [ -n "$left" ]; then
    echo "Left behind after purge:" >&2
    echo "$left" >&2
    exit 1
fi
[ -f "$work/recording.bdf" ] && [ -d "$HOME/.config/emgscope" ]
echo "removed: none of its $(wc -l < "$work/files") files is left; the user's recording and settings stay"
