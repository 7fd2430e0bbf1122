#!/bin/sh
# --env, --env-file and --mask: env file syntax, precedence, relative env
# files and when they are read, missing env files, and masked values that
# reach the job but never any output, record or command line.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/d1" "$TMP/d2"

# ---- env file syntax -----------------------------------------------------------------

cat >"$TMP/syntax.env" <<'EOF'
# a comment line
   # an indented comment

   PADDED=pv   
QUOTED="x"
SINGLE='y'
EQ=a=b=c
NOVALUE
EMPTY=
#HASH=1
SPACE=a b
EOF
out=$(ae run --wait --env-file "$TMP/syntax.env" -- sh -c '
	printf "%s|" "$PADDED" "$QUOTED" "$SINGLE" "$EQ" "${NOVALUE-unset}" \
		"${NOVALUE+set}" "${EMPTY-unset}" "${HASH-unset}" "$SPACE" >"$1"' \
	sh "$TMP/syntax.out")
check_eq "env file job ran" "$(json_str state "$out")" exited
got=$(cat "$TMP/syntax.out" 2>/dev/null)
check_eq "env file: lines are trimmed" "$(echo "$got" | cut -d'|' -f1)" pv
check_eq "env file: double quotes are kept" "$(echo "$got" | cut -d'|' -f2)" \
	'"x"'
check_eq "env file: single quotes are kept" "$(echo "$got" | cut -d'|' -f3)" \
	"'y'"
check_eq "env file: split at the first =" "$(echo "$got" | cut -d'|' -f4)" \
	a=b=c
check_eq "env file: a line without = gives an empty, set value" \
	"$(echo "$got" | cut -d'|' -f5,6)" "|set"
check_eq "env file: KEY= gives an empty value" \
	"$(echo "$got" | cut -d'|' -f7)" ""
check_eq "env file: # lines are skipped" "$(echo "$got" | cut -d'|' -f8)" unset
check_eq "env file: inner spaces are kept" "$(echo "$got" | cut -d'|' -f9)" \
	"a b"

# ---- --env NAME: the caller's value (as docker run -e NAME) ----------------

out=$(NOEQ=from-caller ae run --wait --no-inherit-env --env NOEQ \
	--env PATH -- sh -c 'printf "[%s][%s]" "${NOEQ-unset}" "${NOEQ+set}"')
check_eq "--env NAME: the caller's value, even with --no-inherit-env" \
	"$(json_str stdout_tail "$out")" "[from-caller][set]"
check_contains "... env_vars shows it as NAME=VALUE" "$out" \
	'"env_vars":["NOEQ=from-caller","PATH='
out=$(NOEQ= ae run --wait --no-inherit-env --env NOEQ --env PATH -- sh -c \
	'printf "[%s][%s]" "${NOEQ-unset}" "${NOEQ+set}"')
check_eq "--env NAME set to empty by the caller: empty, and set" \
	"$(json_str stdout_tail "$out")" "[][set]"
printf 'NOEQ=from-file\n' >"$TMP/noeq.env"
out=$(NOEQ=from-caller ae run --wait --env-file "$TMP/noeq.env" --env NOEQ \
	-- sh -c 'printf %s "$NOEQ"')
check_eq "--env NAME wins over an env file, as any --env" \
	"$(json_str stdout_tail "$out")" from-caller
dirs=$(job_dirs)
unset NOEQ_UNSET
check_usage_error "--env NAME the caller does not have: a usage error" \
	ae run --wait --env NOEQ_UNSET -- true
check_contains "... naming it and what to do" "$ERR" \
	"--env NOEQ_UNSET: agent-exec has no NOEQ_UNSET in its environment to pass on; give --env NOEQ_UNSET=VALUE"
check_usage_error "--env =x (an empty name): a usage error" \
	ae run --wait --env =x -- true
check_contains "... saying the name is empty" "$ERR" "the variable name is empty"
check_usage_error "--env '' (an empty name): a usage error" \
	ae run --wait --env '' -- true
check_usage_error "create --env NAME the caller does not have: a usage error" \
	ae create --env NOEQ_UNSET -- true
check_eq "... none of them made a job" "$(job_dirs)" "$dirs"
# a name that is no shell identifier is passed as given, to programs that
# read it (a shell cannot)
# (not through sh or env(1): dash drops such names from what it passes on)
id=$(job_id "$(ae run --wait --env 'my.dotted-name=v1' -- cat /proc/self/environ)")
check_eq "--env with a name that is not a shell identifier: passed on" \
	"$(tr '\0' '\n' <"$ROOT/$id/stdout.log" | grep -xF 'my.dotted-name=v1')" \
	my.dotted-name=v1
# create takes the value at create time, and keeps it as any --env value
# (env.json, masked in meta.json and answers with --mask)
# (the job compares, as it prints a masked value as ***)
printf 'at-create-%s' "$$" >"$TMP/noeq.want"
capture env NOEQ="at-create-$$" "$AE_BIN" --root "$ROOT" create --env NOEQ \
	--mask NOEQ -- sh -c "[ \"\$NOEQ\" = \"\$(cat '$TMP/noeq.want')\" ] &&
		echo create-value || echo other-value"
id=$(job_id "$OUT")
check_contains "create --env NAME --mask NAME: env_vars masked" "$OUT" \
	'"env_vars":["NOEQ=***"]'
check_lacks "... meta.json lacks the value" "$(cat "$ROOT/$id/meta.json")" \
	"at-create-$$"
check "... env.json holds it" grep -qF "NOEQ=at-create-$$" "$ROOT/$id/env.json"
check_schema "... a valid env.json" env_record "$ROOT/$id/env.json"
out=$(NOEQ=at-start ae start --wait "$id")
check_eq "start: the job sees the value create took, not start's" \
	"$(json_str stdout_tail "$out")" create-value
out=$(ae run --wait --env 'K=a=b' -- sh -c 'printf %s "$K"')
check_eq "--env splits at the first =" "$(json_str stdout_tail "$out")" a=b

# ---- precedence ----------------------------------------------------------------------

printf 'P2=f1\nP3=f1\nP4=f1\n' >"$TMP/one.env"
printf 'P3=f2\nP4=f2\n' >"$TMP/two.env"
show='printf "%s,%s,%s,%s" "${P1-unset}" "${P2-unset}" "${P3-unset}" "${P4-unset}"'
out=$(P1=inh P2=inh P3=inh P4=inh ae run --wait --env-file "$TMP/one.env" \
	--env-file "$TMP/two.env" --env P4=env -- sh -c "$show")
check_eq "inherited < env files in order < --env" \
	"$(json_str stdout_tail "$out")" "inh,f1,f2,env"
out=$(P1=inh P2=inh ae run --wait --env-file "$TMP/two.env" --env P3=e1 \
	--env P3=e2 -- sh -c "$show")
check_eq "a later --env wins; untouched variables are inherited" \
	"$(json_str stdout_tail "$out")" "inh,inh,e2,f2"
out=$(P1=inh ae run --wait --no-inherit-env --env-file "$TMP/one.env" \
	--env PATH=/usr/bin:/bin -- sh -c "$show")
check_eq "--no-inherit-env: only env files and --env" \
	"$(json_str stdout_tail "$out")" "unset,f1,f1,f1"

# ---- relative env files, read at start ----------------------------------------------

printf 'REL=from-d1\n' >"$TMP/d1/rel.env"
printf 'REL=from-d2\n' >"$TMP/d2/rel.env"
id=$(job_id "$(cd "$TMP/d1" && ae create --env-file rel.env -- sh -c 'printf %s "$REL"')")
out=$(cd "$TMP/d2" && ae start --wait "$id")
check_eq "a relative --env-file is resolved where create ran" \
	"$(json_str state "$out") $(json_str stdout_tail "$out")" "exited from-d1"
id=$(job_id "$(cd "$TMP" && ae create --env-file rel.env -- true)")
rm -f "$TMP/rel.env"
out=$(cd "$TMP/d1" && ae start --wait "$id")
check_eq "... even when the start directory has a file of that name" \
	"$(json_str state "$out")" failed

printf 'LATE=old\n' >"$TMP/late.env"
id=$(job_id "$(ae create --env-file "$TMP/late.env" -- sh -c 'printf %s "$LATE"')")
printf 'LATE=new\n' >"$TMP/late.env"
out=$(ae start --wait "$id")
check_eq "the env file is read when the job starts" \
	"$(json_str stdout_tail "$out")" new

# ---- missing env files -----------------------------------------------------------------

out=$(ae run --wait --env-file "$TMP/missing.env" -- true)
id=$(job_id "$out")
check_eq "run --wait with a missing env file: failed" \
	"$(json_str state "$out")" failed
check_contains "... the error names the file" "$(json_text error "$out")" \
	"$TMP/missing.env"
check_hasnt "... no exit_code" exit_code "$out"
st=$(ae status "$id")
check_eq "status agrees: failed" "$(json_str state "$st")" failed
check_contains "status has the error naming the file" \
	"$(json_text error "$st")" "$TMP/missing.env"
out=$(ae run --snapshot-after 0 --env-file "$TMP/missing.env" -- true)
check_eq "run without --wait, missing env file: failed at once" \
	"$(json_str state "$out")" failed
printf 'GONE=1\n' >"$TMP/gone.env"
id=$(job_id "$(ae create --env-file "$TMP/gone.env" -- true)")
rm -f "$TMP/gone.env"
out=$(ae start --snapshot-after 0 "$id")
check_eq "start after the env file vanished: failed" \
	"$(json_str state "$out")" failed
check_contains "... the error names the file" "$(json_text error "$out")" \
	"$TMP/gone.env"
check_eq "status agrees: failed" "$(state_of "$id")" failed

# ---- --mask ----------------------------------------------------------------------------

secret="s3cr3t-$$-value"
plain="visible-$$-value"
# grep for the secret through a file, so grep's own command line lacks it
printf '%s\n' "$secret" >"$TMP/secret.pat"
printf '%s\n' "$plain" >"$TMP/plain.pat"
# leaks TEXT: whether TEXT contains the secret
leaks() { printf '%s\n' "$1" | grep -qF -f "$TMP/secret.pat"; }
check_no_secret() {
	if leaks "$2"; then
		not_ok "$1"
		echo "#   the secret is in: $(printf '%s' "$2" | head -c 400)"
	else
		ok "$1"
	fi
}

capture ae run --snapshot-after 1000 --env "SECRET=$secret" --env "PLAIN=$plain" \
	--mask SECRET -- sh -c 'printf %s "$SECRET" >"$1"; sleep 30' sh \
	"$TMP/job-saw.txt"
run_out=$OUT
id=$(job_id "$run_out")
check_contains "run --mask: env_vars shows KEY=***, plain values as given" \
	"$run_out" "\"env_vars\":[\"SECRET=***\",\"PLAIN=$plain\"]"
check_no_secret "run --mask: the answer lacks the secret" "$run_out"
wait_for "the masked job writes what it saw" 5 test -s "$TMP/job-saw.txt"
check_eq "the job receives the real masked value" \
	"$(cat "$TMP/job-saw.txt" 2>/dev/null)" "$secret"
check_eq "the masked job is running" "$(state_of "$id")" running
# every command line of every process, NUL turned into space
cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ' >"$TMP/cmdlines.txt"
cmdline_check "no command line holds the masked value" \
	sh -c '! grep -qF -f "$1" "$2"' sh "$TMP/secret.pat" "$TMP/cmdlines.txt"
cmdline_check "no command line holds a non-masked --env value either" \
	sh -c '! grep -qF -f "$1" "$2"' sh "$TMP/plain.pat" "$TMP/cmdlines.txt"
check_no_secret "status lacks the secret" "$(ae status "$id")"
check_no_secret "list lacks the secret" "$(ae list --all)"
check_no_secret "tail lacks the secret" "$(ae tail "$id")"
check_no_secret "meta.json lacks the secret" "$(cat "$ROOT/$id/meta.json")"
check_no_secret "state.json lacks the secret" "$(cat "$ROOT/$id/state.json")"
check_contains "meta.json env_vars is masked" \
	"$(json_flat "$ROOT/$id/meta.json")" '"SECRET=***"'
check_no_secret "kill answer lacks the secret" "$(ae kill --signal KILL "$id")"

# create stores the real value in env.json (0600), nowhere else visible
capture ae create --env "SECRET=$secret" --env "PLAIN=$plain" --mask SECRET \
	-- sh -c 'printf %s "$SECRET" >"$1"' sh "$TMP/created-saw.txt"
id=$(job_id "$OUT")
check_contains "create --mask: env_vars masked" "$OUT" \
	"\"env_vars\":[\"SECRET=***\",\"PLAIN=$plain\"]"
check_no_secret "create: the answer lacks the secret" "$OUT"
check_no_secret "created job: meta.json lacks the secret" \
	"$(cat "$ROOT/$id/meta.json")"
check "created job: env.json holds the real value" \
	grep -qF -f "$TMP/secret.pat" "$ROOT/$id/env.json"
check_match "created job: env.json is 0600" \
	"$(ls -l "$ROOT/$id/env.json" 2>/dev/null)" '^-rw-------'
check_no_secret "created job: status lacks the secret" "$(ae status "$id")"
check_no_secret "created job: list lacks the secret" "$(ae list --all)"
capture ae start --wait "$id"
check_no_secret "start: the answer lacks the secret" "$OUT"
check_contains "start: env_vars masked" "$OUT" '"SECRET=***"'
check_eq "the started job receives the real masked value" \
	"$(cat "$TMP/created-saw.txt" 2>/dev/null)" "$secret"
check_no_secret "started job: tail lacks the secret" "$(ae tail "$id")"
check_no_secret "started job: meta.json lacks the secret" \
	"$(cat "$ROOT/$id/meta.json")"

# --mask of a key not given with --env hides nothing and breaks nothing
out=$(ae run --wait --env A=1 --mask B -- sh -c 'printf %s "$A"')
check_eq "--mask of another key: values as given" \
	"$(json_str stdout_tail "$out")" 1
check_contains "... env_vars shows A=1" "$out" '"env_vars":["A=1"]'

# env file values are read by the job, never stored or shown
filesecret="file-$$-secret"
printf 'FS=%s\n' "$filesecret" >"$TMP/fs.env"
capture ae create --env-file "$TMP/fs.env" -- sh -c 'printf %s "$FS"'
id=$(job_id "$OUT")
check_lacks "create: env file values are not in the answer" "$OUT" "$filesecret"
check_lacks "create: env file values are not in meta.json" \
	"$(cat "$ROOT/$id/meta.json")" "$filesecret"
check_lacks "create: env file values are not in env.json" \
	"$(cat "$ROOT/$id/env.json" 2>/dev/null)" "$filesecret"
capture ae start --wait "$id"
check_eq "start: the job sees the env file value" \
	"$(json_str stdout_tail "$OUT")" "$filesecret"
check_lacks "start: the answer has no env file values in env_vars" \
	"$(printf '%s\n' "$OUT" | sed 's/"final_snapshot".*//')" "$filesecret"
check_lacks "status lacks env file values" "$(ae status "$id")" "$filesecret"

# env.json missing or corrupt: start refuses (corrupt_record) and changes
# nothing; the mask never becomes the value
for kind in missing empty notjson nolist numbers; do
	capture ae create --env "SECRET=$secret" --mask SECRET \
		-- sh -c 'printf %s "$SECRET" >"$1"' sh "$TMP/env-$kind.txt"
	id=$(job_id "$OUT")
	case $kind in
	missing) rm -f "$ROOT/$id/env.json" ;;
	empty) : >"$ROOT/$id/env.json" ;;
	notjson) printf '{"env":[' >"$ROOT/$id/env.json" ;;
	nolist) printf '{"other":1}' >"$ROOT/$id/env.json" ;;
	numbers) printf '{"env":[1,2]}' >"$ROOT/$id/env.json" ;;
	esac
	capture ae start --wait "$id"
	check_eq "start with env.json $kind: corrupt_record" \
		"$RC $(json_str code "$OUT")" "1 corrupt_record"
	check_contains "... naming env.json" "$(json_text message "$OUT")" \
		"$ROOT/$id/env.json"
	check_eq "... the job is still created" "$(state_of "$id")" created
	check "... the job never ran with the mask as its value" \
		test ! -e "$TMP/env-$kind.txt"
done
