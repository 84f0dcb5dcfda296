#!/bin/sh
# The connect page's browser tests (tests/connect/test_browser.py) drive Debian's headless Chromium
# through Debian's chromedriver (Selenium's own browser download is not used). Idempotent: silent
# when both are installed; installs them with apt-get otherwise (root, or sudo without a password);
# fails loudly when it cannot, so the tests never run without the browser they need.
set -eu

have() { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }

have && exit 0

if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root="sudo -n"
else
    echo "scripts/browser/install.sh: chromium and chromium-driver are not installed and this user cannot" >&2
    echo "install them (not root, no password-less sudo): run 'apt-get install -y chromium chromium-driver' as root." >&2
    exit 1
fi

echo "Installing chromium and chromium-driver (the connect page's browser tests)..."
export DEBIAN_FRONTEND=noninteractive
if ! { $as_root apt-get update -qq >/dev/null && $as_root apt-get install -y -qq chromium chromium-driver >/dev/null; }; then
    echo "scripts/browser/install.sh: apt-get could not install chromium and chromium-driver" >&2
    exit 1
fi
have || { echo "scripts/browser/install.sh: installed, but chromium or chromedriver is still not on PATH" >&2; exit 1; }
