#!/usr/bin/env bash
# Debian packages the project needs beyond Python: Chromium (Playwright drives it; no
# browser download) and a CJK font (readable screenshots and PDFs), Redis (Rasa lock
# store for more than one Rasa), nginx (the balanced layout), pango (WeasyPrint's PDFs),
# a PostgreSQL server (tests on PostgreSQL).  Installs only what is missing.
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in chromium fonts-wqy-microhei redis-server nginx-light libpango-1.0-0 libpangoft2-1.0-0 postgresql; do
  have "$p" || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "[setup] installing ${need[*]} …"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# services must not start at install time (the project starts its own on loopback)
printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null; $SUDO chmod +x /usr/sbin/policy-rc.d
trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
