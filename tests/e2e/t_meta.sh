#!/bin/sh
# Caller metadata: --meta KEY=VALUE, --callback-session, --callback-agent on
# run and create, kept in meta.json "meta" and shown by status and list;
# values survive exactly; invalid --meta is a usage error.
. "$(dirname "$0")/lib.sh"

# meta_of JSON: the "meta" object of an answer (values without braces).
meta_of() { printf '%s\n' "$1" | grep -o '"meta":{[^}]*}' | head -n 1; }
# meta_record ID: the "meta" object of the job's meta.json, on one line.
meta_record() {
	json_flat "$ROOT/$1/meta.json" | grep -o '"meta": *{[^}]*}' | head -n 1
}
# entry ID JSON: the list entry of job ID (its meta has no nested object).
entry() { printf '%s\n' "$2" | grep -o "{\"job_id\":\"$1\"[^{]*{[^}]*}[^{}]*}"; }

# ---- run --------------------------------------------------------------------------

id=$(job_id "$(ae run --wait --meta ticket=T-1 --meta owner=ci \
	--callback-session sess-42 --callback-agent agent-7 -- true)")
want='"meta":{"ticket":"T-1","owner":"ci","callback_session":"sess-42","callback_agent":"agent-7"}'
check_eq "run: meta.json has meta with the callback keys" "$(meta_record "$id")" \
	'"meta": {"ticket": "T-1","owner": "ci","callback_session": "sess-42","callback_agent": "agent-7"}'
st=$(ae status "$id")
check_eq "status shows meta" "$(meta_of "$st")" "$want"
check_eq "list shows meta" "$(meta_of "$(entry "$id" "$(ae list --all)")")" \
	"$want"
check "meta.json stays a valid meta record" \
	"$SCHEMA_CHECK" "$AE_SCHEMA" meta_record "$ROOT/$id/meta.json"

id=$(job_id "$(ae run --wait --meta k=1 --meta k=2 -- true)")
check_eq "a later --meta of the same key wins" "$(meta_of "$(ae status "$id")")" \
	'"meta":{"k":"2"}'
id=$(job_id "$(ae run --wait --meta a=1 --meta b=2 --meta a=3 -- true)")
m=$(meta_of "$(ae status "$id")")
case $m in
'"meta":{"a":"3","b":"2"}' | '"meta":{"b":"2","a":"3"}') ok "a key given twice appears once, last value" ;;
*) not_ok "a key given twice appears once, last value"; echo "#   $m" ;;
esac

id=$(job_id "$(ae run --wait --callback-session only-s -- true)")
check_eq "--callback-session alone" "$(meta_of "$(ae status "$id")")" \
	'"meta":{"callback_session":"only-s"}'
id=$(job_id "$(ae run --wait --callback-agent only-a -- true)")
check_eq "--callback-agent alone" "$(meta_of "$(ae status "$id")")" \
	'"meta":{"callback_agent":"only-a"}'

# ---- values survive exactly ----------------------------------------------------------

nl='line1
line2'
id=$(job_id "$(ae run --wait --meta 'sp=a b  c' --meta 'q=say "hi"' \
	--meta 'u=héllo wörld ✓' --meta 'bs=a\b' --meta 'eq=x=y' --meta 'e=' \
	--meta "nl=$nl" --callback-session 'session with spaces "q"' -- true)")
st=$(ae status "$id")
check_contains "a value with spaces" "$st" '"sp":"a b  c"'
check_contains "a value with quotes" "$st" '"q":"say \"hi\""'
check_contains "a UTF-8 value" "$st" '"u":"héllo wörld ✓"'
check_contains "a value with a backslash" "$st" '"bs":"a\\b"'
check_contains "a value with =" "$st" '"eq":"x=y"'
check_contains "an empty value" "$st" '"e":""'
check_contains "a value with a newline" "$st" '"nl":"line1\nline2"'
check_contains "a callback session with spaces and quotes" "$st" \
	'"callback_session":"session with spaces \"q\""'
check_contains "meta.json keeps the UTF-8 value" \
	"$(cat "$ROOT/$id/meta.json")" '"u": "héllo wörld ✓"'
check_contains "list keeps the values too" "$(ae list --all)" \
	'"q":"say \"hi\""'
check "meta.json with odd values is a valid meta record" \
	"$SCHEMA_CHECK" "$AE_SCHEMA" meta_record "$ROOT/$id/meta.json"

# ---- create ----------------------------------------------------------------------------

out=$(ae create --meta stage=build --callback-session s1 --callback-agent a1 -- true)
id=$(job_id "$out")
want='"meta":{"stage":"build","callback_session":"s1","callback_agent":"a1"}'
check_eq "create: meta.json has meta" "$(meta_record "$id")" \
	'"meta": {"stage": "build","callback_session": "s1","callback_agent": "a1"}'
check_eq "create: status of the created job shows meta" \
	"$(meta_of "$(ae status "$id")")" "$want"
check_eq "create: list shows meta" \
	"$(meta_of "$(entry "$id" "$(ae list --all)")")" "$want"
ae start --wait "$id" >/dev/null
check_eq "start keeps meta" "$(meta_of "$(ae status "$id")")" "$want"
ae tag set "$id" --tag later >/dev/null
check_eq "tag set keeps meta" "$(meta_of "$(ae status "$id")")" "$want"

# ---- no meta ------------------------------------------------------------------------------

id=$(job_id "$(ae run --wait -- true)")
check_eq "a job without metadata: status meta {}" \
	"$(meta_of "$(ae status "$id")")" '"meta":{}'
check_eq "... list entry meta {}" \
	"$(meta_of "$(entry "$id" "$(ae list --all)")")" '"meta":{}'
all=$(ae list --all)
check_eq "every list entry has meta" \
	"$(printf '%s\n' "$all" | grep -o '"meta":' | wc -l | tr -d ' ')" \
	"$(printf '%s\n' "$all" | grep -o '"job_id":' | wc -l | tr -d ' ')"

# ---- invalid --meta -------------------------------------------------------------------------

for bad in noeq "=v" "a b=c" " k=v"; do
	check_usage_error "run --meta '$bad': usage error" ae run --meta "$bad" -- true
	check_usage_error "create --meta '$bad': usage error" \
		ae create --meta "$bad" -- true
done
check_usage_error "run --meta without a value: usage error" ae run --meta
check_usage_error "run --callback-session without a value: usage error" \
	ae run --callback-session
check_eq "no job was created by invalid --meta" \
	"$(ae list --all | grep -o '"job_id":' | wc -l | tr -d ' ')" 8
