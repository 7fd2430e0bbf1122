#!/bin/sh
# What make check needs beyond a C compiler: libcheck (unit tests) and
# musl-gcc (the static build). Installed with apt-get when we run as root,
# otherwise named so the user can install them.
missing=""
if ! pkg-config --exists check 2>/dev/null && [ ! -f /usr/include/check.h ]; then
	missing="$missing check pkg-config"
fi
command -v musl-gcc >/dev/null 2>&1 || missing="$missing musl-tools"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "installing:$missing" >&2
	apt-get install -y -qq $missing >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
		  apt-get install -y -qq $missing >/dev/null 2>&1; } ||
		{ echo "apt-get could not install:$missing" >&2; exit 1; }
	exit 0
fi
echo "make check needs:$missing" >&2
echo "install them, e.g.: sudo apt-get install$missing" >&2
exit 1
