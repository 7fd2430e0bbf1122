#!/bin/sh
# size.sh: figure 8, the size of the binary (bytes on disk, shown in KiB)
# and whether it is static (no ELF interpreter). For context, the same for
# nohup, nq and tsp: they are dynamically linked, so their file size leaves
# out the C library they load.
# Target: a static agent-exec of <= 256 KiB (musl, x86-64).
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init size

figure size "8. binary size"

# size_of TOOL FILE [NAME]: a RESULT of FILE's size in KiB, and its
# linkage; the size in bytes in $bytes, the linkage in $linkage.
size_of() {
	bytes=$(wc -c <"$2" | tr -d ' ') || die "cannot read $2"
	linkage=$("$BT" linkage "$2" 2>/dev/null) || linkage="not ELF"
	result size "$1" "$(calc "$bytes / 1024")" KiB "$linkage"
	say "  $1: $bytes bytes, $linkage (${3:-$2})"
}

size_of agent-exec "$AE" "$AE_SRC"
ae_bytes=$bytes
ae_linkage=$linkage
for tool in nohup nq tsp; do
	if path=$(command -v "$tool"); then
		size_of "$tool" "$path"
	else
		result size "$tool" n/a
	fi
done
ok=MISSED
[ "$ae_linkage" = static ] && [ "$ae_bytes" -le 262144 ] && ok=met
target size "$ok" "<= 256 KiB, static"
