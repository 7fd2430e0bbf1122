#!/bin/sh
# schema: the answer, the embedded schema against schema/agent-exec.schema.json,
# and every answer of every command in every shape we can provoke, plus every
# record the binary writes, validated against that schema by schema_check.
. "$(dirname "$0")/lib.sh"

: "${AE_SCHEMA:?AE_SCHEMA must name the schema file}"
: "${SCHEMA_CHECK:?SCHEMA_CHECK must name the schema checker}"
ANS=$TMP/answers
REC=$TMP/records
ROOT2=$TMP/root2
mkdir -p "$ANS" "$REC" "$TMP/home" "$TMP/skills/mine" "$TMP/d1"
HOME=$TMP/home
XDG_CONFIG_HOME=$TMP/home/.config
export HOME XDG_CONFIG_HOME

# keep KIND CMD...: run CMD, keep its answer as an answer of KIND (an answer
# definition of the schema), and print it.
keep() {
	_file=$(mktemp "$ANS/$1.XXXXXX") || return 1
	shift
	"$@" >"$_file" 2>/dev/null
	cat "$_file"
}
# keep_error CODE CMD...: run CMD, keep its answer as an error answer, and
# note which code it was meant to show.
keep_error() {
	_code=$1
	shift
	keep error "$@" >"$TMP/last-error"
	grep -q "\"code\":\"$_code\"" "$TMP/last-error" && : >"$TMP/seen.$_code"
	cat "$TMP/last-error"
}
# snap_record ID: keep copies of the job's records as they are now.
snap_record() {
	for _name in meta state env; do
		[ -f "$ROOT/$1/$_name.json" ] &&
			cp "$ROOT/$1/$_name.json" "$(mktemp "$REC/$_name.XXXXXX")"
	done
	return 0
}
# check_valid DESC DEFINITION FILE...: every FILE matches the schema (its
# top-level oneOf) and the named definition.
check_valid() {
	_desc=$1
	_def=$2
	shift 2
	if [ $# = 0 ] || [ ! -e "$1" ]; then
		not_ok "$_desc"
		echo "#   no documents were collected"
		return
	fi
	if [ "$_def" = "${_def%_record}" ]; then
		_top=$("$SCHEMA_CHECK" "$AE_SCHEMA" - "$@" 2>&1)
		_rc=$?
	else
		_top=""
		_rc=0
	fi
	_own=$("$SCHEMA_CHECK" "$AE_SCHEMA" "$_def" "$@" 2>&1)
	_rc_own=$?
	if [ $_rc = 0 ] && [ $_rc_own = 0 ]; then
		ok "$_desc"
		echo "#   $# documents"
	else
		not_ok "$_desc"
		printf '%s\n%s\n' "$_top" "$_own" | head -n 20 | sed 's/^/#   /'
	fi
}

# ---- the schema answer --------------------------------------------------------------

capture "$AE_BIN" schema
cp "$TMP/.capture.out" "$(mktemp "$ANS/schema.XXXXXX")"
check_eq "schema: exit 0, one line" "$RC $OUT_LINES" "0 1"
case $OUT in
'{"schema_version":"0.1","ok":true,"type":"schema","schema_format":"json-schema-draft-07","schema":{'*)
	ok "schema: envelope and schema_format" ;;
*) not_ok "schema: envelope and schema_format"; echo "#   $(printf '%s' "$OUT" | head -c 300)" ;;
esac
comment=$(json_str '\$comment' "$(cat "$AE_SCHEMA")")
check_match "the schema file has a \$comment timestamp" "$comment" "$TS_RE"
check_eq "schema: generated_at is the schema's \$comment" \
	"$(printf '%s\n' "$OUT" | grep -o '"generated_at":"[^"]*"}$' | cut -d'"' -f4)" \
	"$comment"
check_eq "schema: the embedded \$comment is the file's" \
	"$(json_str '\$comment' "$OUT")" "$comment"
# the embedded schema, cut out of the answer
printf '%s\n' "$OUT" |
	sed 's/^.*"schema_format":"json-schema-draft-07","schema"://; s/,"generated_at":"[^"]*"}$//' \
		>"$TMP/embedded.json"
defs() {
	sed -n '/^  "definitions": {/,$ s/^    "\([a-z_]*\)": .*/\1/p' "$AE_SCHEMA"
}
missing=""
for def in $(defs); do
	grep -q "\"$def\":{" "$TMP/embedded.json" || missing="$missing $def"
done
check_eq "the embedded schema has every definition of the file" "$missing" ""
check_between "... and the file has the definitions we check" \
	"$(defs | wc -l | tr -d ' ')" 20 100
grep -o '"[^"]*"' "$AE_SCHEMA" | sort >"$TMP/strings.file"
grep -o '"[^"]*"' "$TMP/embedded.json" | sort >"$TMP/strings.embedded"
check "the embedded schema has the same keys and strings as the file" \
	cmp -s "$TMP/strings.file" "$TMP/strings.embedded"
check "the embedded schema is an object the checker accepts as a schema" \
	"$SCHEMA_CHECK" "$TMP/embedded.json" schema "$ANS"/schema.*
out=$(cd "$TMP" && "$AE_BIN" schema)
check_eq "schema does not depend on the current directory" "$out" "$OUT"

# ---- run ------------------------------------------------------------------------------

running=$(job_id "$(keep run ae run --snapshot-after 0 --tag a.b -- sleep 30)")
snap_record "$running"
keep run ae run --snapshot-after 1000 -- sh -c 'echo out; echo err >&2; sleep 30' >/dev/null
keep run ae run --snapshot-after 3000 --tail-lines 1 --max-bytes 3 -- seq 1 100 >/dev/null
exited=$(job_id "$(keep run ae run --wait -- sh -c 'echo "q\"uote é"; exit 3')")
keep run ae run --wait --env A=1 --env S=secret --mask S --tag t -- true >/dev/null
timed=$(job_id "$(keep run ae run --wait --timeout 1000 -- sleep 30)")
failed=$(job_id "$(keep run ae run --wait -- nosuchcommand-xyz --flag)")
keep run ae run --snapshot-after 0 --cwd "$TMP/none" -- true >/dev/null
keep run ae run --snapshot-after 0 --env-file "$TMP/none.env" -- true >/dev/null
keep run ae run --wait --meta k=v --callback-session s --callback-agent a \
	--shell-wrapper "sh -c" --progress-every 100 --log "$TMP/x.log" 'echo hi' >/dev/null
keep run ae run --wait -- sh -c 'kill -KILL $$' >/dev/null

# ---- create and start -------------------------------------------------------------------

created=$(job_id "$(keep create ae create -- true)")
snap_record "$created"
c_env=$(job_id "$(keep create ae create --env K=v --env M=hidden --mask M --tag x \
	--meta k=v --timeout 5000 -- sh -c 'echo "$K"')")
snap_record "$c_env"
c_keep=$(job_id "$(keep create ae create --env K=v --mask K -- true)")
id=$(job_id "$(keep create ae create -- sleep 30)")
keep start ae start --snapshot-after 0 "$id" >/dev/null
snap_record "$id"
keep_error invalid_state ae start "$id" >/dev/null
keep_error invalid_state ae delete "$id" >/dev/null
keep kill ae kill "$id" >/dev/null
keep start ae start --wait "$c_env" >/dev/null
id=$(job_id "$(keep create ae create -- seq 1 5)")
keep start ae start --snapshot-after 3000 --tail-lines 2 "$id" >/dev/null
id=$(job_id "$(keep create ae create --env-file "$TMP/none.env" -- true)")
keep start ae start --wait "$id" >/dev/null
id=$(job_id "$(keep create ae create --timeout 1000 -- sleep 30)")
keep start ae start --snapshot-after 10 "$id" >/dev/null
keep_error invalid_state ae kill "$created" >/dev/null

# ---- status, tail, wait, kill in every state ---------------------------------------------

lost=$(start_job -- sleep 30)
lost_pid=$(record_num "$lost" pid)
sup=$(record_num "$lost" supervisor_pid)
kill -KILL "${sup:-none}" 2>/dev/null
until_true 3 proc_gone "${sup:-0}"
killed=$(start_job -- sleep 30)
keep kill ae kill --signal INT "$killed" >/dev/null
keep kill ae kill --signal KILL "$killed" >/dev/null
keep kill ae kill "$exited" >/dev/null
keep kill ae kill "$failed" >/dev/null
for id in "$created" "$running" "$exited" "$timed" "$failed" "$lost" "$killed" \
	"$c_env"; do
	keep status ae status "$id" >/dev/null
	keep tail ae tail "$id" >/dev/null
	keep tail ae tail --tail-lines 1 --max-bytes 2 "$id" >/dev/null
done
keep wait ae wait --timeout-ms 1000 "$created" >/dev/null
keep wait ae wait --timeout-ms 1000 "$running" >/dev/null
for id in "$exited" "$timed" "$failed" "$lost" "$killed"; do
	keep wait ae wait "$id" >/dev/null
done

# ---- list --------------------------------------------------------------------------------

keep list ae list --all >/dev/null
keep list ae list >/dev/null
keep list ae list --all --limit 1 >/dev/null
keep list ae list --all --tag 'a.*' --state running >/dev/null
keep list "$AE_BIN" --root "$TMP/missing-root" list --all >/dev/null
# a root with an unknown entry (meta, no state) and a corrupt one
mkdir -p "$ROOT2/01AAAAAAAAAAAAAAAAAAAAAAAA" "$ROOT2/01BBBBBBBBBBBBBBBBBBBBBBBB" \
	"$ROOT2/01CCCCCCCCCCCCCCCCCCCCCCCC"
sed "s/$exited/01AAAAAAAAAAAAAAAAAAAAAAAA/" "$ROOT/$exited/meta.json" \
	>"$ROOT2/01AAAAAAAAAAAAAAAAAAAAAAAA/meta.json"
echo '{"job": {' >"$ROOT2/01BBBBBBBBBBBBBBBBBBBBBBBB/meta.json"
sed "s/$exited/01CCCCCCCCCCCCCCCCCCCCCCCC/" "$ROOT/$exited/meta.json" \
	>"$ROOT2/01CCCCCCCCCCCCCCCCCCCCCCCC/meta.json"
echo 'garbage' >"$ROOT2/01CCCCCCCCCCCCCCCCCCCCCCCC/state.json"
# an old finished job for gc
mkdir -p "$ROOT2/01DDDDDDDDDDDDDDDDDDDDDDDD"
printf '{"job": {"id": "01DDDDDDDDDDDDDDDDDDDDDDDD", "status": "exited"}, "result": {"exit_code": 0, "signal": null, "duration_ms": 1}, "finished_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z"}\n' \
	>"$ROOT2/01DDDDDDDDDDDDDDDDDDDDDDDD/state.json"
out=$(keep list "$AE_BIN" --root "$ROOT2" list --all)
check_contains "the hand-made root lists an unknown entry" "$out" \
	'"state":"unknown"'
keep_error corrupt_record "$AE_BIN" --root "$ROOT2" status 01CCCCCCCCCCCCCCCCCCCCCCCC >/dev/null

# ---- tag set, gc, delete -------------------------------------------------------------------

keep tag_set ae tag set "$exited" --tag x --tag y.z >/dev/null
keep tag_set ae tag set "$exited" >/dev/null
keep gc "$AE_BIN" --root "$ROOT2" gc --dry-run >/dev/null
keep gc "$AE_BIN" --root "$ROOT2" gc --older-than 1d >/dev/null
keep gc "$AE_BIN" --root "$TMP/missing-root" gc >/dev/null
keep gc ae gc --dry-run --older-than 0s >/dev/null
keep gc ae gc >/dev/null
id=$(job_id "$(ae run --wait -- true)")
keep delete ae delete "$id" >/dev/null
id=$(job_id "$(ae create -- true)")
keep delete ae delete "$id" >/dev/null
id=$(start_job -- sleep 30)
keep delete ae delete --force "$id" >/dev/null

# ---- install-skills ------------------------------------------------------------------------

printf -- '---\nname: mine\n---\nmine\n' >"$TMP/skills/mine/SKILL.md"
keep install_skills sh -c 'cd "$1/skills" && "$2" install-skills' sh "$TMP" "$AE_BIN" >/dev/null
keep install_skills sh -c 'cd "$1/skills" && "$2" install-skills --source local:mine' \
	sh "$TMP" "$AE_BIN" >/dev/null
keep install_skills sh -c 'cd "$1/skills" && "$2" install-skills --global' \
	sh "$TMP" "$AE_BIN" >/dev/null

# ---- errors ---------------------------------------------------------------------------------

keep_error job_not_found ae status 01ZZZZZZZZZZZZZZZZZZZZZZZZ >/dev/null
keep_error job_not_found ae tail 01ZZZZZZZZZZZZZZZZZZZZZZZZ >/dev/null
keep_error job_not_found ae wait 01ZZZZZZZZZZZZZZZZZZZZZZZZ >/dev/null
keep_error job_not_found ae kill 01ZZZZZZZZZZZZZZZZZZZZZZZZ >/dev/null
keep_error job_not_found ae start 01ZZZZZZZZZZZZZZZZZZZZZZZZ >/dev/null
keep_error job_not_found ae tag set 01ZZZZZZZZZZZZZZZZZZZZZZZZ >/dev/null
keep_error job_not_found ae delete 01ZZZZZZZZZZZZZZZZZZZZZZZZ >/dev/null
keep_error ambiguous_job_id ae status 0 >/dev/null
keep_error invalid_job_id ae status 'a/../b' >/dev/null
keep_error invalid_job_id ae kill .. >/dev/null
keep_error invalid_signal ae kill --signal FOO "$running" >/dev/null
keep_error invalid_duration ae gc --older-than 1.5h >/dev/null
keep_error invalid_config ae run --config /nonexistent 'echo' >/dev/null
keep_error invalid_config ae run --shell-wrapper '' 'echo' >/dev/null
printf '[shell\n' >"$TMP/bad.toml"
keep_error invalid_config ae create --config "$TMP/bad.toml" 'echo' >/dev/null
keep_error unknown_source_scheme "$AE_BIN" install-skills --source git:x >/dev/null
keep error "$AE_BIN" install-skills --source local:/nonexistent >/dev/null
printf 'a file' >"$TMP/root-file"
keep error "$AE_BIN" --root "$TMP/root-file" list --all >/dev/null
keep error "$AE_BIN" --root "$TMP/root-file" run -- true >/dev/null

# ---- validate every answer -------------------------------------------------------------------

for kind in run create start status tail wait kill list tag_set gc delete \
	schema install_skills error; do
	check_valid "every $kind answer matches the schema" "$kind" "$ANS/$kind".*
done
for code in job_not_found ambiguous_job_id invalid_job_id invalid_state \
	invalid_signal invalid_duration invalid_config unknown_source_scheme \
	corrupt_record; do
	check "the answers include a $code error" test -e "$TMP/seen.$code"
done

# ---- validate every record --------------------------------------------------------------------

for dir in "$ROOT"/*/; do
	dir=${dir%/}
	snap_record "${dir##*/}"
done
check_valid "every meta.json is a meta_record" meta_record "$REC"/meta.*
check_valid "every state.json is a state_record" state_record "$REC"/state.*
check "a created job with --env has env.json" test -f "$ROOT/$c_keep/env.json"
check_valid "every env.json is an env_record" env_record "$REC"/env.*

[ -n "$lost_pid" ] && kill -KILL "-$lost_pid" 2>/dev/null
ae kill --signal KILL "$running" >/dev/null
