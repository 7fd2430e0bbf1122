#!/bin/sh
# list's index of finished jobs, <root>/.list/index (issue 18): list
# answers the same with and without it; a job changed after it was indexed
# (tags, restart, deleted, made again) is read from its records; a torn,
# garbled, forged or foreign index is ignored and written again; list
# --limit N on a settled root reads only the newest lines, and still sees
# what changed (new, deleted, restarted, tagged, running jobs: restart and
# tag set move the root's mtime). summary counts settled jobs by their
# lines.
. "$(dirname "$0")/lib.sh"

IDX=$ROOT/.list/index
# indexed ID: list has put job ID into the index (a job goes in once its
# directory has been unchanged for 2 s).
indexed() { ae list --all >/dev/null && grep -q "^$1 " "$IDX" 2>/dev/null; }
# listing: list --all, every field (the answer's "jobs" only).
listing() { ae list --all | sed 's/.*"jobs":\[//; s/\],"truncated".*//'; }
# no_index_listing: the same, read from the records alone.
no_index_listing() { rm -f "$IDX" && listing && rm -f "$IDX"; }

a=$(job_id "$(ae run --wait --tag ci.a -- sh -c 'exit 3')")
b=$(job_id "$(ae run --wait --meta owner=me -- echo b)")
c=$(job_id "$(ae create -- echo c)")
rm -f "$TMP/go"
d=$(start_job -- sh -c 'while [ ! -e "$1" ]; do sleep 0.05; done' x "$TMP/go")
q=$(job_id "$(ae run --wait --queue ci.q -- true)")
e=$(job_id "$(ae run --wait -- sh -c 'kill -TERM $$')")
# each goes in 2 s after its last change: the last one made last
wait_for "finished jobs go into the index" 20 indexed "$e"
check "... all of them" sh -c 'grep -q "^$2 " "$1" && grep -q "^$3 " "$1"' x "$IDX" "$a" "$b"
check "... but not the created or the running one" \
	sh -c '! grep -q "^$2 " "$1" && ! grep -q "^$3 " "$1"' x "$IDX" "$c" "$d"
check_eq "the index is private (0600)" "$(stat -c %a "$IDX")" 600
with=$(listing)
without=$(no_index_listing)
check_eq "list with the index answers as list without it" "$with" "$without"
check_eq "... list --all --limit 2 too" "$(ae list --all --limit 2)" \
	"$(rm -f "$IDX"; ae list --all --limit 2)"
until_true 20 indexed "$a"
# summary counts a settled job by its line too: the same counts as from
# the records, and a state.json rewritten in place (its directory, so its
# line, unchanged) is not read
summary_counts() { ae summary | sed 's/.*\],"counts":/"counts":/'; }
until_true 20 indexed "$q"
counted=$(summary_counts)
check_contains "... a queue's jobs too" "$counted" '"ci.q":{'
check_eq "... (the queued job counted by its line)" "$(grep -c "^$q .* ci.q " "$IDX")" 1
check_eq "summary with the index counts as summary without it" "$counted" \
	"$(mv "$IDX" "$TMP/idx"; summary_counts; mv "$TMP/idx" "$IDX")"
cp "$ROOT/$a/state.json" "$TMP/a.state"
printf 'not json' >"$TMP/junk" && cat "$TMP/junk" >"$ROOT/$a/state.json"
check_eq "... a settled job is counted by its line, not read" \
	"$(summary_counts)" "$counted"
check_eq "... (without the index, that state.json is unreadable)" \
	"$(mv "$IDX" "$TMP/idx"; json_num unknown "$(ae summary)"; mv "$TMP/idx" "$IDX")" 1
cat "$TMP/a.state" >"$ROOT/$a/state.json"
check_eq "... list --tag ci.a (a filter)" "$(ids_in "$(ae list --all --tag ci.a)")" "$a"
check_eq "... list --state killed" "$(ids_in "$(ae list --all --state killed)")" "$e"
check_eq "... list in this directory" "$(ids_in "$(ae list)")" "$(ids_in "$(rm -f "$IDX"; ae list)")"
check_eq "... kill --meta owner=me (a selector the index cannot answer)" \
	"$(ids_in "$(ae delete --dry-run --meta owner=me)")" "$b"

# a change after the job was indexed
until_true 20 indexed "$a"
ae tag set "$a" --tag ci.changed >/dev/null
check_contains "tag set on an indexed job: list shows the new tags" \
	"$(ae list --all --tag ci.changed)" "\"job_id\":\"$a\""
check_eq "... not the old ones" "$(ids_in "$(ae list --all --tag ci.a)")" ""
until_true 20 indexed "$e"
ae restart --wait "$e" >/dev/null
check_eq "restart of an indexed job: list shows its new run" \
	"$(json_str state "$(ae list --all | grep -o "{\"job_id\":\"$e\"[^}]*")")" killed
check_eq "... and its new start" \
	"$(ae list --all | grep -o "{\"job_id\":\"$e\"[^}]*" | grep -o '"started_at":"[^"]*"')" \
	"$(ae status "$e" | grep -o '"started_at":"[^"]*"' | head -n 1)"
until_true 20 indexed "$b"
ae delete "$b" >/dev/null
check "a deleted job is not listed" sh -c 'id=$1; shift; ! "$@" | grep -q "$id"' x "$b" "$AE_BIN" --root "$ROOT" list --all
until_true 20 indexed "$a"
check "... and its line is dropped" sh -c '! grep -q "^$2 " "$1"' x "$IDX" "$b"

# a job directory made again under the same id (another inode)
until_true 20 indexed "$a"
cp -a "$ROOT/$a" "$TMP/copy"
sed 's/"status": "exited"/"status": "failed"/' "$TMP/copy/state.json" >"$TMP/state"
cat "$TMP/state" >"$TMP/copy/state.json"
rm -rf "${ROOT:?}/$a"
mv "$TMP/copy" "$ROOT/$a"
check_eq "a job made again under its id: read from its records" \
	"$(json_str state "$(ae list --all | grep -o "{\"job_id\":\"$a\"[^}]*")")" failed

# the index damaged
until_true 20 indexed "$a"
good=$(listing)
head -c 100 "$IDX" >"$TMP/torn" && cat "$TMP/torn" >"$IDX"
check_eq "a torn index: list answers the same" "$(listing)" "$good"
printf 'garbage\n\000\001\002\n%s 1 2 3 exited - - -\tx\t{"job_id":"%s"}\n' "$a" "$a" >"$IDX"
check_eq "a garbled index: list answers the same" "$(listing)" "$good"
until_true 20 indexed "$a"
check "... and it is written again" grep -q "^$a " "$IDX"
# a forged entry: the right inode and ctime, another job's entry
line=$(grep "^$a " "$IDX")
printf '%s\n' "$line" | sed "s/\"job_id\":\"$a\"/\"job_id\":\"$e\"/" >"$IDX"
check_eq "an entry that is not its job's: ignored" "$(listing)" "$good"
printf '%s\n' "$line" | sed 's/"exit_code":[0-9]*/"exit_code":99/' >"$IDX"
chmod 0666 "$IDX"
check_eq "an index others may write: ignored" "$(listing)" "$good"
rm -f "$IDX"
ln -s "$TMP/elsewhere" "$IDX"
printf '%s\n' "$line" >"$TMP/elsewhere"
check_eq "an index that is a symlink: ignored" "$(listing)" "$good"
rm -f "$IDX"

: >"$TMP/go"
wait_for "the running job ends" 10 is_state "$d" exited
check_contains "... list shows it exited (never from an old line)" \
	"$(ae list --all | grep -o "{\"job_id\":\"$d\"[^}]*")" '"state":"exited"'

# ---- list --limit N: the newest alone ----

# settled: list has recorded the root's mtime in the index (the root's
# entries unchanged for 2 s), so that list --limit reads no more
settled() {
	ae list --all >/dev/null &&
		head -n 1 "$IDX" | awk '{ exit !($1 == "#agent-exec" && $5 != 0) }'
}
# ids_of ARGS...: the ids list ARGS shows, in order.
ids_of() { ae list "$@" | grep -o '"job_id":"[^"]*"' | sed 's/.*:"//; s/"//' | tr '\n' ' '; }
# first N IDS...: the first N words.
first() { _n=$1; shift; echo "$@" | tr ' ' '\n' | head -n "$_n" | tr '\n' ' '; }

for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	ae run --wait --tag "n$i" -- true "$i" >/dev/null
done
rm -f "$TMP/go2"
r=$(start_job -- sh -c 'while [ ! -e "$1" ]; do sleep 0.05; done' x "$TMP/go2")
old=$(first 12 "$(ids_of --all)" | awk '{ print $NF }')
wait_for "the root settles and the index records it" 20 settled
all=$(ids_of --all)
check_eq "list --all --limit 3: the first three of list --all" \
	"$(ids_of --all --limit 3)" "$(first 3 "$all")"
check_eq "... the same entries as without the index" \
	"$(ae list --all --limit 3)" "$(mv "$IDX" "$TMP/idx"; ae list --all --limit 3; mv "$TMP/idx" "$IDX")"
check_eq "... truncated" "$(json_bool truncated "$(ae list --all --limit 3)")" true
check_eq "... the running job first, running" \
	"$(json_str state "$(ae list --all --limit 1)") $(first 1 "$(ids_of --all --limit 1)")" "running $r "
check_eq "list --limit 2 in this directory: as list | first two" \
	"$(ids_of --limit 2)" "$(first 2 "$(ids_of)")"
check_eq "list --all --limit 100: every job, not truncated" \
	"$(ids_of --all --limit 100) $(json_bool truncated "$(ae list --all --limit 100)")" \
	"$all false"
# an old job damaged behind the index's back (its meta.json rewritten in
# place, a file added to move its ctime): a whole scan reads it again and
# counts it skipped; list --limit never looks at it
printf 'not json' >"$TMP/meta" && cat "$TMP/meta" >"$ROOT/$old/meta.json"
: >"$ROOT/$old/mark"
check_eq "list --all --limit 2 reads none but the newest (an old damaged job unseen)" \
	"$(json_num skipped "$(ae list --all --limit 2)")" 0
rm -f "$ROOT/$old/mark"
ae run --wait -- true damaged >/dev/null	# the root changes: a whole scan
check_eq "... a whole scan counts it skipped" \
	"$(json_num skipped "$(ae list --all --limit 2)")" 1
ae delete --force "$old" >/dev/null
wait_for "... the root settles again" 20 settled

tagged=$(first 9 "$(ids_of --all)" | awk '{ print $NF }')
ae tag set "$tagged" --tag fresh.tag >/dev/null
check_eq "tag set on an old job: list --tag --limit finds it" \
	"$(ids_of --all --tag fresh.tag --limit 1)" "$tagged "
restarted=$(first 8 "$(ids_of --all)" | awk '{ print $NF }')
ae restart --wait "$restarted" >/dev/null
check_eq "restart of an old job: list --limit 1 shows it first" \
	"$(ids_of --all --limit 1)" "$restarted "
check_eq "... as a whole scan does" "$(ids_of --all --limit 1)" \
	"$(mv "$IDX" "$TMP/idx"; ids_of --all --limit 1; mv "$TMP/idx" "$IDX")"
check "... and no entry of theirs is left in the root" \
	test ! -e "$ROOT/.list-touch"
wait_for "the root settles again" 20 settled
check_eq "... once settled, list --limit 1 still shows it first" \
	"$(ids_of --all --limit 1)" "$restarted "
mkdir "$ROOT/.list-touch"	# as a crash between the two steps leaves it
ae tag set "$tagged" --tag fresh.tag2 >/dev/null
check_eq "tag set with a .list-touch left over: found all the same" \
	"$(ids_of --all --tag fresh.tag2 --limit 1)" "$tagged "
check "... and the leftover is gone" test ! -e "$ROOT/.list-touch"
: >"$TMP/go2"
wait_for "the running job ends" 10 is_state "$r" exited
check_contains "... list --limit shows it exited" \
	"$(ae list --all --limit 20 | grep -o "{\"job_id\":\"$r\"[^}]*")" '"state":"exited"'
wait_for "the root settles again" 20 settled
newest=$(first 1 "$(ids_of --all)")
new=$(job_id "$(ae run --wait -- true new)")
check_eq "a job made since: list --limit 1 shows it" "$(ids_of --all --limit 1)" "$new "
wait_for "the root settles again" 20 settled
ae delete "$new" >/dev/null
check_eq "a job deleted since: list --limit 1 shows the one before" \
	"$(ids_of --all --limit 1)" "$newest"
check_eq "list --all still answers as without the index" "$(listing)" "$(no_index_listing)"
