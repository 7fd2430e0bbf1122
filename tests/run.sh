#!/bin/sh
# Run the unit tests and every end-to-end script (tests/e2e/t_*.sh, a few at
# a time), show what failed, and end with one line: "N passed, N failed",
# and ", N skipped" when some part of a script was skipped (each "# skip:"
# note it printed: a tool or a privilege missing, an emulator).
#   AE_BIN=/path/to/agent-exec   binary under test [./agent-exec]
#   E2E_ONLY=1                   skip the unit tests
#   JOBS=N                       scripts run at once [4]
#   tests/run.sh t_run t_kill    only these scripts
cd "$(dirname "$0")/.." || exit 2
AE_BIN=${AE_BIN:-$PWD/agent-exec}
# the schema every answer must match, and the tool that checks it
AE_SCHEMA=${AE_SCHEMA:-$PWD/schema/agent-exec.schema.json}
SCHEMA_CHECK=${SCHEMA_CHECK:-$PWD/build/schema_check}
# the client the MCP tests drive agent-exec mcp with
MCP_CLIENT=${MCP_CLIENT:-$PWD/build/mcp_client}
export AE_BIN AE_SCHEMA SCHEMA_CHECK MCP_CLIENT
out_dir=$(mktemp -d "${TMPDIR:-/tmp}/ae-results.XXXXXX") || exit 2
trap 'rm -rf "$out_dir"' EXIT
passed=0
failed=0
skipped=0

if [ $# -gt 0 ]; then
	scripts=""
	for name in "$@"; do scripts="$scripts tests/e2e/${name%.sh}.sh"; done
else
	scripts=$(ls tests/e2e/t_*.sh)
fi

if [ -z "${E2E_ONLY:-}" ]; then
	build/unit-tests >"$out_dir/unit.out" 2>&1
	grep -v '^unit: ' "$out_dir/unit.out" | grep -v '^100%:' | grep -v '^Running suite' | sed 's/^/  /'
	line=$(grep '^unit: ' "$out_dir/unit.out" | tail -n 1)
	if [ -n "$line" ]; then
		set -- $line
		passed=$2
		failed=$4
	else
		echo "  unit tests did not run to the end"
		failed=1
	fi
	echo "$line"
fi

# Each script prints "ok - ..." / "not ok - ..." lines (and "# ..." notes).
for script in $scripts; do echo "$script"; done |
	xargs -P "${JOBS:-4}" -I{} sh -c \
		'sh "$1" >"$2/$(basename "$1").out" 2>&1; echo "$?" >"$2/$(basename "$1").rc"' \
		sh {} "$out_dir"

for script in $scripts; do
	name=$(basename "$script")
	result="$out_dir/$name.out"
	ok=$(grep -c '^ok ' "$result")
	bad=$(grep -c '^not ok ' "$result")
	skips=$(grep -c '^# skip:' "$result")
	rc=$(cat "$out_dir/$name.rc" 2>/dev/null || echo 1)
	if [ "$rc" != 0 ] && [ "$bad" = 0 ]; then
		bad=1
		echo "not ok - $name exited with status $rc" >>"$result"
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
	skipped=$((skipped + skips))
	counts="$ok passed"
	[ "$bad" -gt 0 ] && counts="$counts, $bad failed"
	[ "$skips" -gt 0 ] && counts="$counts, $skips skipped"
	echo "$name: $counts"
	if [ "$bad" -gt 0 ]; then
		grep -v '^ok ' "$result" | sed 's/^/  /'
	elif [ "$skips" -gt 0 ]; then
		grep '^# skip:' "$result" | sed 's/^/  /'
	fi
done

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
