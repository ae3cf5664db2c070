#!/usr/bin/env bash
# Make sure the Debian packages a make target needs are installed.
# As root on Debian it installs them; otherwise it prints the exact command to run.
set -euo pipefail
missing=()
for pkg in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: not a Debian-like system; these Debian packages are not installed: ${missing[*]}"
  echo "      Fashion-MNIST is then downloaded (with a checksum) on first use when you are online;"
  echo "      the browser tests need a Chromium: set NNPRACTICE_CHROMIUM to its path."
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "This target needs Debian packages that are not installed. Run:"
  echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  echo "(Without them, Fashion-MNIST is downloaded on first use when you are online,"
  echo " and the browser tests fail for want of /usr/bin/chromium.)"
fi
