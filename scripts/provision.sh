#!/usr/bin/env bash
# Installs what the build and the tests need, on a machine that has cargo
# and the package registries and nothing else: the Debian packages of
# tools/provision/build.txt and programs.txt (when a program is missing;
# needs root or sudo) and of tools/provision/packages.txt (libraries the
# build needs, when not installed), and a virtualenv with
# tools/provision/requirements.txt from PyPI (target/test-venv, or the
# folder IDMEFV2_TEST_VENV names). With --build, only what building the
# crate with every feature needs (build.txt and packages.txt). Running it
# again installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=false
case "${1:-}" in
    --build) build_only=true ;;
    "") ;;
    *) echo "usage: scripts/provision.sh [--build]" >&2; exit 2 ;;
esac

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else echo "provision: '$*' needs root (or sudo)" >&2; return 1
    fi
}

programs=(tools/provision/build.txt)
$build_only || programs+=(tools/provision/programs.txt)
packages=()
while read -r program package; do
    case "$program" in ''|'#'*) continue ;; esac
    command -v "$program" >/dev/null || [ -x "/usr/sbin/$program" ] || packages+=("$package")
done < <(cat "${programs[@]}")
# Libraries (no program to look for): installed when dpkg does not list them.
while read -r package; do
    case "$package" in ''|'#'*) continue ;; esac
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || packages+=("$package")
done < tools/provision/packages.txt
# The test virtualenv needs venv and pip, which Debian ships apart.
if ! $build_only && ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    packages+=(python3-venv python3-pip)
fi
if [ ${#packages[@]} -gt 0 ]; then
    echo "provision: installing ${packages[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

$build_only && exit 0
venv=${IDMEFV2_TEST_VENV:-target/test-venv}
stamp="$venv/.requirements"
if ! cmp -s tools/provision/requirements.txt "$stamp" 2>/dev/null; then
    echo "provision: the test virtualenv $venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r tools/provision/requirements.txt
    cp tools/provision/requirements.txt "$stamp"
fi
