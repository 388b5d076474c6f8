#!/usr/bin/env bash
# Fetch Debian's `prometheus` package (it ships `prometheus` and `promtool`) into a cache directory
# and unpack it there with dpkg-deb: nothing is installed on the system. Prints the directory that
# holds the two binaries. When the package cannot be fetched, prints the reason on stderr and exits 3
# (the tests skip with that reason).
#
#   scripts/prometheus.sh [--ui]   --ui: also the JavaScript packages of the classic web UI (for
#                                  scripts/fleet_screenshot.py; run prometheus with
#                                  --web.local-assets=<cache>/root/usr/share/prometheus/web/)
#   TWTOP_PROMETHEUS_CACHE  cache directory (default ${XDG_CACHE_HOME:-~/.cache}/twtop/prometheus)
set -euo pipefail

# The classic UI's scripts are symlinks into /usr/share/javascript, shipped by these packages.
UI_PACKAGES=(libjs-jquery libjs-jquery-hotkeys libjs-bootstrap4 libjs-bootstrap libjs-popper.js
  libjs-moment libjs-moment-timezone libjs-mustache libjs-rickshaw libjs-d3
  libjs-eonasdan-bootstrap-datetimepicker fonts-glyphicons-halflings)
ui=0
if [ "${1:-}" = "--ui" ]; then ui=1; fi

cache="${TWTOP_PROMETHEUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/twtop/prometheus}"
bin="$cache/root/usr/bin"

fail() {
  echo "prometheus.sh: $*" >&2
  exit 3
}

have() {
  [ -x "$bin/prometheus" ] && [ -x "$bin/promtool" ] && { [ "$ui" = 0 ] || [ -e "$cache/root/.ui" ]; }
}
if have; then
  echo "$bin"
  exit 0
fi
command -v apt-get >/dev/null || fail "apt-get not found (not a Debian system?)"
command -v dpkg-deb >/dev/null || fail "dpkg-deb not found"
mkdir -p "$cache" || fail "cannot create $cache"

# One fetch at a time: a second caller waits for the first and then uses its result.
exec 9>"$cache/.lock"
flock 9
if have; then
  echo "$bin"
  exit 0
fi

work="$(mktemp -d "$cache/fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
# apt-get drops to the _apt user to download; let it write here.
chmod 0755 "$work"
packages=(prometheus)
if [ "$ui" = 1 ]; then packages+=("${UI_PACKAGES[@]}"); fi
if ! apt-get download -q "${packages[@]}" >download.log 2>&1; then
  # Empty or stale package lists (a fresh machine or container): refresh them once, as root.
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >update.log 2>&1 || fail "apt-get update failed: $(tail -n 1 update.log)"
    apt-get download -q "${packages[@]}" >download.log 2>&1 ||
      fail "apt-get download ${packages[*]} failed: $(tail -n 1 download.log)"
  else
    fail "apt-get download prometheus failed (and only root may run apt-get update): $(tail -n 1 download.log)"
  fi
fi
for deb in ./*.deb; do
  dpkg-deb -x "$deb" root || fail "dpkg-deb -x $deb failed"
done
[ -x root/usr/bin/prometheus ] && [ -x root/usr/bin/promtool ] ||
  fail "the prometheus package has no usr/bin/prometheus and usr/bin/promtool"
if [ "$ui" = 1 ]; then touch root/.ui; fi
rm -rf "$cache/root"
mv root "$cache/root"
echo "$bin"
