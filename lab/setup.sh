#!/bin/sh
# Install the lab's Debian packages and its Python venv (lab/.venv). Run as root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "${SKIP_APT:-0}" != 1 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(grep -v '^#' "$here/apt-packages.txt")
fi
python3 -m venv "$here/.venv"
"$here/.venv/bin/pip" install -q --upgrade pip
"$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
"$here/.venv/bin/python" -c "import pymodbus, snap7, c104, asyncua, cpppo, bacpypes3, dnp3, pyftpdlib, vncdotool, ntplib, impacket.smbserver; print('lab venv ok')"
