#!/bin/sh
# list: keys, the cwd filter (default, --cwd, --all), --state, --limit,
# newest-first order, corrupt and hand-made job directories, missing root.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/d1" "$TMP/d2" "$TMP/empty"
d1=$(cd "$TMP/d1" && pwd -P)
d2=$(cd "$TMP/d2" && pwd -P)

# entry ID JSON: the list entry of job ID (entries hold no nested object).
entry() { printf '%s\n' "$2" | grep -o "{\"job_id\":\"$1\"[^}]*}"; }
# count JSON: how many entries.
count() { printf '%s\n' "$1" | grep -o '"job_id":' | wc -l | tr -d ' '; }
# ids JSON: the job ids in order, space-separated.
ids() { printf '%s\n' "$1" | grep -o '"job_id":"[^"]*"' | cut -d'"' -f4 | tr '\n' ' '; }

check_eq "list with a missing root: no jobs" "$(ae list --all)" \
	'{"schema_version":"0.1","ok":true,"type":"list","root":"'"$ROOT"'","cwd_scope":null,"jobs":[],"truncated":false,"skipped":0}'
check "list does not create the root" test ! -e "$ROOT"

a=$(job_id "$(cd "$TMP/d1" && ae run --wait -- true)")
b=$(cd "$TMP/d1" && start_job -- sleep 30)
c=$(job_id "$(ae run --wait --cwd "$TMP/d2" -- sh -c 'exit 3')")
f=$(job_id "$(ae run --wait --cwd "$TMP/d2/none" -- true)")

# ---- filters -----------------------------------------------------------------------

out=$(cd "$TMP/d1" && ae list)
case $out in
'{"schema_version":"0.1","ok":true,"type":"list","root":"'"$ROOT"'","cwd_scope":"'"$TMP/d1"'","jobs":['*)
	ok "list: envelope, root, cwd_scope (the directory), jobs" ;;
*) not_ok "list: envelope, root, cwd_scope (the directory), jobs"; echo "#   $out" ;;
esac
check_eq "default: the jobs of the current directory, newest first" \
	"$(ids "$out")" "$b $a "
check_eq "list: truncated false, skipped 0" \
	"$(json_bool truncated "$out") $(json_num skipped "$out")" "false 0"
out=$(cd "$TMP/d2" && ae list)
check_eq "default from another directory" "$(ids "$out")" "$c "
out=$(cd "$TMP/empty" && ae list)
check_eq "a directory without jobs: none" "$(count "$out")" 0
out=$(cd "$TMP/empty" && ae list --cwd "$TMP/d2")
check_eq "--cwd DIR" "$(ids "$out")" "$c "
ln -s d1 "$TMP/link"
out=$(ae list --cwd "$TMP/link")
check_eq "--cwd through a symlink: the real directory" "$(ids "$out")" "$b $a "
out=$(cd "$TMP/link" && ae list)
check_eq "listing from a symlinked directory" "$(ids "$out")" "$b $a "
out=$(cd "$TMP" && ae list --cwd d1)
check_eq "a relative --cwd" "$(ids "$out")" "$b $a "
check_eq "... and cwd_scope is the real directory" \
	"$(json_str cwd_scope "$out")" "$TMP/d1"
check_contains "entries carry the command (argv)" "$out" '"command":["sleep","30"]'
all=$(cd "$TMP/empty" && ae list --all)
check_contains "--all: cwd_scope null" "$all" '"cwd_scope":null'
check_eq "--all: every job, newest first" "$(ids "$all")" "$f $c $b $a "
check_eq "--state running" "$(ids "$(ae list --all --state running)")" "$b "
check_eq "--state exited" "$(ids "$(ae list --all --state exited)")" "$c $a "
check_eq "--state failed" "$(ids "$(ae list --all --state failed)")" "$f "
check_eq "--state killed (none yet)" "$(count "$(ae list --all --state killed)")" 0
check_eq "--state combines with the cwd filter" \
	"$(ids "$(cd "$TMP/d1" && ae list --state exited)")" "$a "

out=$(ae list --all --limit 2)
check_eq "--limit 2: the two newest" "$(ids "$out")" "$f $c "
check_eq "--limit 2 of 4: truncated" "$(json_bool truncated "$out")" true
out=$(ae list --all --limit 4)
check_eq "--limit 4 of 4: not truncated" \
	"$(count "$out") $(json_bool truncated "$out")" "4 false"
out=$(ae list --all --limit 0)
check_eq "--limit 0: no limit" "$(count "$out") $(json_bool truncated "$out")" \
	"4 false"

# ---- entries -------------------------------------------------------------------------

e=$(entry "$a" "$all")
check_eq "exited entry: exit_code" "$(json_num exit_code "$e")" 0
check_eq "exited entry: state" "$(json_str state "$e")" exited
for key in created_at started_at finished_at updated_at; do
	check_match "exited entry: $key" "$(json_str "$key" "$e")" "$TS_RE"
done
check_contains "entry: tags" "$e" '"tags":[]'
e=$(entry "$b" "$all")
check_eq "running entry: state" "$(json_str state "$e")" running
check_hasnt "running entry: no exit_code" exit_code "$e"
check_hasnt "running entry: no finished_at" finished_at "$e"
check_match "running entry: started_at" "$(json_str started_at "$e")" "$TS_RE"
e=$(entry "$c" "$all")
check_eq "entry: exit code 3" "$(json_num exit_code "$e")" 3
e=$(entry "$f" "$all")
check_hasnt "failed entry: no exit_code" exit_code "$e"

ae kill --signal KILL "$b" >/dev/null
check_eq "--state killed after a kill" \
	"$(ids "$(ae list --all --state killed)")" "$b "

# ---- odd directories -----------------------------------------------------------------

cp -R "$ROOT/$a" "$ROOT/01CCCCCCCCCCCCCCCCCCCCCCCC"
printf 'not json at all' >"$ROOT/01CCCCCCCCCCCCCCCCCCCCCCCC/meta.json"
mkdir "$ROOT/01DDDDDDDDDDDDDDDDDDDDDDDD"
sed "s/$a/01EEEEEEEEEEEEEEEEEEEEEEEE/" "$ROOT/$a/meta.json" >"$TMP/meta.json"
mkdir "$ROOT/01EEEEEEEEEEEEEEEEEEEEEEEE"
cp "$TMP/meta.json" "$ROOT/01EEEEEEEEEEEEEEEEEEEEEEEE/meta.json"
echo "not a job" >"$ROOT/README"
all=$(ae list --all)
check_eq "corrupt or missing meta.json is skipped and counted" \
	"$(json_num skipped "$all")" 2
check_eq "a hand-made job without state.json is listed last" "$(ids "$all")" \
	"$f $c $b $a 01EEEEEEEEEEEEEEEEEEEEEEEE "
e=$(entry 01EEEEEEEEEEEEEEEEEEEEEEEE "$all")
check_eq "... with state unknown" "$(json_str state "$e")" unknown
check_hasnt "... and no started_at" started_at "$e"
check_eq "--state unknown" "$(ids "$(ae list --all --state unknown)")" \
	"01EEEEEEEEEEEEEEEEEEEEEEEE "
check_eq "the hand-made job keeps its cwd filter" \
	"$(ids "$(cd "$TMP/d1" && ae list)")" "$b $a 01EEEEEEEEEEEEEEEEEEEEEEEE "

check_eq "list of a root that is a file: an error, exit 1" \
	"$(
		"$AE_BIN" --root "$ROOT/README" list --all >"$TMP/o"
		echo "$? $(json_bool ok "$(cat "$TMP/o")")"
	)" "1 false"

# a deleted current directory: invalid_cwd from every command that needs it
mkdir "$TMP/gone"
for cmd in "list" "run -- true" "create -- true"; do
	# shellcheck disable=SC2086 # word splitting of cmd is wanted
	check_eq "$cmd in a deleted directory: invalid_cwd" "$(
		cd "$TMP/gone" && rmdir "$TMP/gone" &&
			json_str code "$("$AE_BIN" --root "$ROOT" $cmd)"
		mkdir "$TMP/gone"
	)" invalid_cwd
done
check_eq "a relative --root in a deleted directory: invalid_cwd" "$(
	cd "$TMP/gone" && rmdir "$TMP/gone" &&
		json_str code "$("$AE_BIN" --root rel status 01ABC)"
)" invalid_cwd
