#!/bin/sh
# Installs the Debian packages scout needs to build, test and run, when they
# are missing. A quick no-op when everything is present.
set -eu
PKGS="gcc make pkg-config libc6-dev libcurl4-openssl-dev libjansson-dev libmicrohttpd-dev
libpq-dev libcmocka-dev postgresql poppler-utils tzdata ca-certificates"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "deps: missing packages:$missing; run as root: apt-get install$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
