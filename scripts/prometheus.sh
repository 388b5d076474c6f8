#!/usr/bin/env bash
# Fetch Debian's `prometheus` package (it ships `prometheus` and `promtool`) into a cache directory
# and unpack it there with dpkg-deb: nothing is installed on the system. Prints the directory that
# holds the two binaries. When the package cannot be fetched, prints the reason on stderr and exits 3
# (the tests skip with that reason).
#
#   TWTOP_PROMETHEUS_CACHE  cache directory (default ${XDG_CACHE_HOME:-~/.cache}/twtop/prometheus)
set -euo pipefail

cache="${TWTOP_PROMETHEUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/twtop/prometheus}"
bin="$cache/root/usr/bin"

fail() {
  echo "prometheus.sh: $*" >&2
  exit 3
}

if [ -x "$bin/prometheus" ] && [ -x "$bin/promtool" ]; then
  echo "$bin"
  exit 0
fi
command -v apt-get >/dev/null || fail "apt-get not found (not a Debian system?)"
command -v dpkg-deb >/dev/null || fail "dpkg-deb not found"
mkdir -p "$cache" || fail "cannot create $cache"

# One fetch at a time: a second caller waits for the first and then uses its result.
exec 9>"$cache/.lock"
flock 9
if [ -x "$bin/prometheus" ] && [ -x "$bin/promtool" ]; then
  echo "$bin"
  exit 0
fi

work="$(mktemp -d "$cache/fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
# apt-get drops to the _apt user to download; let it write here.
chmod 0755 "$work"
if ! apt-get download -q prometheus >download.log 2>&1; then
  # Empty or stale package lists (a fresh machine or container): refresh them once, as root.
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >update.log 2>&1 || fail "apt-get update failed: $(tail -n 1 update.log)"
    apt-get download -q prometheus >download.log 2>&1 ||
      fail "apt-get download prometheus failed: $(tail -n 1 download.log)"
  else
    fail "apt-get download prometheus failed (and only root may run apt-get update): $(tail -n 1 download.log)"
  fi
fi
deb="$(ls prometheus_*.deb 2>/dev/null | head -n 1)"
[ -n "$deb" ] || fail "apt-get download left no prometheus_*.deb"
dpkg-deb -x "$deb" root || fail "dpkg-deb -x $deb failed"
[ -x root/usr/bin/prometheus ] && [ -x root/usr/bin/promtool ] ||
  fail "$deb has no usr/bin/prometheus and usr/bin/promtool"
rm -rf "$cache/root"
mv root "$cache/root"
echo "$bin"
