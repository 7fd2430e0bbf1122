#!/bin/sh
# The layout of the sources (README, "Architecture"): includes run only
# from a higher wing to a lower one (main > MCP > CLI > exec > notify > store > the
# event log, config and skills > JSON > lib/) and in no loop, no source
# file is over 800 lines but the regex engine, and every header opens with
# two lines on what its file owns. Skipped where the sources are not here
# (the busybox chroot holds the binary and the tests only).
. "$(dirname "$0")/lib.sh"

if [ ! -d lib ] || [ ! -f store.h ]; then
	echo "# skip: the sources are not here"
	exit 0
fi

# rank FILE: the wing of a source file, lower ones first.
rank() {
	case $1 in
	lib/*) echo 0 ;;
	json.* | json_*) echo 1 ;;
	events.* | config.* | skills.*) echo 2 ;;
	store.* | store_*) echo 3 ;;
	notify.* | notify_*) echo 4 ;;
	exec.* | exec_*) echo 5 ;;
	cli.* | cli_* | cmd.* | cmd_*) echo 6 ;;
	mcp.* | mcp_*) echo 7 ;;
	main.c) echo 8 ;;
	*) echo "?" ;;
	esac
}

sources=$(ls ./*.c ./*.h lib/*.c lib/*.h | sed 's|^\./||')
: >"$TMP/edges"
unknown=""
upward=""
for file in $sources; do
	from=$(rank "$file")
	[ "$from" = "?" ] && unknown="$unknown $file"
	for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file"); do
		# a file in lib/ names its neighbours by their path from the top
		to=$(rank "$inc")
		[ "$to" = "?" ] && unknown="$unknown $inc"
		[ "$from" != "?" ] && [ "$to" != "?" ] && [ "$to" -gt "$from" ] &&
			upward="$upward $file->$inc"
		# a module is its .c and its .h: one node
		a=${file%.*}
		b=${inc%.*}
		[ "$a" != "$b" ] && echo "$a $b" >>"$TMP/edges"
	done
done
check_eq "every source file belongs to a wing" "$unknown" ""
check_eq "no include runs up from a lower wing to a higher one" "$upward" ""

# Take away, again and again, every module that nothing left includes or
# that includes nothing left: what remains lies on a loop.
loops=$(sort -u "$TMP/edges" | awk '
	{ from[NR] = $1; to[NR] = $2; node[$1]; node[$2] }
	END {
		do {
			changed = 0
			split("", in_deg); split("", out_deg)
			for (e = 1; e <= NR; e++)
				if (!(from[e] in gone) && !(to[e] in gone)) {
					out_deg[from[e]]++
					in_deg[to[e]]++
				}
			for (n in node)
				if (!(n in gone) && (!(n in in_deg) ||
						     !(n in out_deg))) {
					gone[n] = 1
					changed = 1
				}
		} while (changed)
		for (n in node) if (!(n in gone)) printf "%s ", n
	}')
check_eq "no modules include each other in a loop" "$loops" ""

long=""
for file in $(ls ./*.c lib/*.c | sed 's|^\./||'); do
	[ "$file" = lib/pattern.c ] && continue
	[ "$(wc -l <"$file")" -gt 800 ] && long="$long $file"
done
check_eq "no source file over 800 lines but the regex engine" "$long" ""

headers=""
for file in $(ls ./*.h lib/*.h | sed 's|^\./||'); do
	first=$(sed -n 1p "$file")
	second=$(sed -n 2p "$file")
	case $first in
	"/* $file - "*) ;;
	*) headers="$headers $file" ; continue ;;
	esac
	case $second in
	*"*/") ;;
	*) headers="$headers $file" ;;
	esac
done
check_eq "every header says in two lines what its file owns" "$headers" ""
