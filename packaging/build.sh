#!/usr/bin/env bash
# Build emgscope for installation:
#
#   bash packaging/build.sh
#
# writes dist/emgscope-VERSION-py3-none-any.whl (the wheel), build/bundle/emgscope/ (a PyInstaller onedir bundle
# of the app made from that wheel) and dist/emgscope_VERSION_ARCH.deb (the bundle under /opt/emgscope with
# /usr/bin/emgscope, the desktop entry, icons, AppStream metadata, MIME types and the udev rule), plus
# dist/screenshot.png, the picture the AppStream metadata names (to be published at EMGSCOPE_WEB_URL).
#
# Run as root it installs the Debian packages it needs; otherwise it names the missing ones. The bundle carries
# the Python interpreter and the libraries from PyPI; libraries that come from Debian are not copied into it but
# become the package's Depends, found by dpkg-shlibdeps from what the bundle's ELF files need.
#
# Settings (environment): EMGSCOPE_DEB_VERSION (default: the package version; a higher one builds an upgrade),
# EMGSCOPE_APP_ID, EMGSCOPE_WEB_URL, EMGSCOPE_MAINTAINER (the project's identity in the package metadata).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

app_id="${EMGSCOPE_APP_ID:-org.example.emgscope}"
web_url="${EMGSCOPE_WEB_URL:-https://emgscope.example.org}"
maintainer="${EMGSCOPE_MAINTAINER:-emgscope developers <emgscope@example.org>}"

# Tools for the build, and every library the bundle links to that Debian provides: dpkg-shlibdeps can only name
# the package of a library that is installed here (a missing one stops the build and is named).
packages=(python3-venv dpkg-dev binutils librsvg2-bin appstream desktop-file-utils
    libgl1 libegl1 libopengl0 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0 libxkbcommon0
    libxkbcommon-x11-0 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0
    libxcb-shape0 libxcb-randr0 libxcb-xkb1 libxcb-xinput0 libxcb-sync1 libxcb-xfixes0 libxcb-shm0 libxcb-render0
    libwayland-client0 libwayland-cursor0 libwayland-egl1 libportaudio2 libbluetooth3 libusb-1.0-0)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "Installing build packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "The build needs these system packages: ${missing[*]}" >&2
        echo "Install them with:  sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi

version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' emgscope/__init__.py)
deb_version="${EMGSCOPE_DEB_VERSION:-$version}"
arch=$(dpkg --print-architecture)
mkdir -p build dist

echo "== wheel"
python="${PYTHON:-python3}"
[ -x build/venv/bin/python ] || "$python" -m venv build/venv
build/venv/bin/python -m pip install -q --upgrade pip
rm -f dist/emgscope-*.whl
build/venv/bin/python -m pip wheel -q --no-deps -w dist .
wheel=$(ls dist/emgscope-"$version"-*.whl)
# The bundle is made from the installed wheel, in a venv holding only the app's own dependencies.
build/venv/bin/python -m pip install -q --force-reinstall --no-deps "$wheel"
build/venv/bin/python -m pip install -q "$wheel" pyinstaller

echo "== bundle"
rm -rf build/bundle
build/venv/bin/pyinstaller --noconfirm --clean --log-level WARN --workpath build/pyinstaller --distpath build/bundle \
    packaging/emgscope.spec
bundle=build/bundle/emgscope
"$bundle/emgscope" --version

echo "== screenshot"
screenshot_home=$(mktemp -d)
trap 'rm -rf "$screenshot_home"' EXIT
# A first start in an empty home, offscreen: the simulated patient at 30 % effort, as the README shows it.
HOME="$screenshot_home" XDG_CONFIG_HOME="$screenshot_home/.config" QT_QPA_PLATFORM=offscreen \
    "$bundle/emgscope" --no-settings --screenshot dist/screenshot.png --seconds 3 --effort 8
build/venv/bin/python packaging/check_screenshot.py dist/screenshot.png

echo "== package"
stage=build/deb/debian/emgscope
rm -rf build/deb
mkdir -p "$stage/opt" "$stage/usr/bin" "$stage/DEBIAN"
cp -a "$bundle" "$stage/opt/emgscope"
ln -s /opt/emgscope/emgscope "$stage/usr/bin/emgscope"
install -D -m 644 packaging/emgscope.desktop "$stage/usr/share/applications/emgscope.desktop"
install -D -m 644 resources/icons/emgscope.svg "$stage/usr/share/icons/hicolor/scalable/apps/emgscope.svg"
for size in 16 22 24 32 48 64 128 256 512; do
    mkdir -p "$stage/usr/share/icons/hicolor/${size}x${size}/apps"
    rsvg-convert -w "$size" -h "$size" resources/icons/emgscope.svg \
        -o "$stage/usr/share/icons/hicolor/${size}x${size}/apps/emgscope.png"
done
metainfo="$stage/usr/share/metainfo/$app_id.metainfo.xml"
mkdir -p "$(dirname "$metainfo")"
sed -e "s|@APP_ID@|$app_id|" -e "s|@WEB_URL@|$web_url|g" -e "s|@VERSION@|$version|" \
    -e "s|@DATE@|$(git log -1 --format=%cs 2>/dev/null || date +%F)|" packaging/emgscope.metainfo.xml.in > "$metainfo"
install -D -m 644 packaging/mime/emgscope.xml "$stage/usr/share/mime/packages/emgscope.xml"
install -D -m 644 resources/udev/60-emgscope-cpu-latency.rules "$stage/usr/lib/udev/rules.d/60-emgscope-cpu-latency.rules"
mkdir -p "$stage/usr/share/doc/emgscope"
{
    cat packaging/debian/copyright.in
    build/venv/bin/python packaging/bundled_licences.py "$stage/opt/emgscope/_internal"
} > "$stage/usr/share/doc/emgscope/copyright"
appstreamcli validate --no-net --pedantic "$metainfo"
desktop-file-validate "$stage/usr/share/applications/emgscope.desktop"

# Depends: what the bundle's ELF files need that the bundle does not carry, mapped to Debian packages (with the
# versions their symbols need) by dpkg-shlibdeps; plus PortAudio, which sounddevice opens with ctypes at run time
# and so appears in no ELF file's needs.
(
    cd build/deb
    printf 'Source: emgscope\n\nPackage: emgscope\nArchitecture: %s\n' "$arch" > debian/control
    mapfile -t elves < <(find debian/emgscope/opt -type f -exec sh -c 'head -c 4 "$1" | grep -q ELF && echo "$1"' _ {} \;)
    mapfile -t private < <(printf '%s\n' "${elves[@]}" | xargs -n1 dirname | sort -u | sed 's|^debian/emgscope|-l|')
    dpkg-shlibdeps -O --warnings=0 "${private[@]}" "${elves[@]}" 2>shlibdeps.log > substvars || {
        cat shlibdeps.log >&2
        exit 1
    }
)
portaudio_path=$(ldconfig -p | sed -n 's/.*libportaudio\.so\.2 .*=> //p' | head -1)
portaudio=$({ dpkg -S "$portaudio_path" "/usr$portaudio_path" "$(readlink -f "$portaudio_path")" 2>/dev/null || true; } |
    head -1 | cut -d: -f1)
if [ -z "$portaudio" ]; then
    echo "PortAudio (libportaudio.so.2) is not installed here, so its package cannot be named" >&2
    exit 1
fi
depends="$(sed -n 's/^shlibs:Depends=//p' build/deb/substvars), $portaudio"

sed -e "s|@VERSION@|$deb_version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" -e "s|@WEB_URL@|$web_url|" \
    -e "s|@INSTALLED_SIZE@|$(du -sk --exclude=DEBIAN "$stage" | cut -f1)|" -e "s|@DEPENDS@|$depends|" \
    packaging/debian/control.in > "$stage/DEBIAN/control"
install -m 755 packaging/debian/postinst packaging/debian/postrm "$stage/DEBIAN/"
rm -f dist/emgscope_*.deb
# zstd: several times faster to build than xz here; every dpkg that can satisfy the Depends (glibc >= 2.35:
# Debian 12, Ubuntu 22.04 and later) reads it.
deb="dist/emgscope_${deb_version}_${arch}.deb"
dpkg-deb --root-owner-group -Zzstd --build "$stage" "$deb" >/dev/null

echo "== done in $((SECONDS - started)) s"
echo "wheel:   $wheel"
echo "package: $deb ($(du -h "$deb" | cut -f1)), Depends: $depends"
