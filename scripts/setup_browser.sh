#!/usr/bin/env bash
# Debian's Chromium (Playwright drives it; no browser download) and a CJK font so
# screenshots of the Chinese pages are readable.
set -euo pipefail
pkgs=()
[ -x /usr/bin/chromium ] || pkgs+=(chromium)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || pkgs+=(fonts-wqy-microhei)
[ ${#pkgs[@]} -eq 0 ] && exit 0
echo "[setup] installing ${pkgs[*]} for the browser tests …"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
