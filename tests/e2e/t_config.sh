#!/bin/sh
# The shell wrapper: --shell-wrapper > --config FILE > $XDG_CONFIG_HOME (if
# absolute) or ~/.config agent-exec/config.toml > sh -c; only single-word
# commands use it; bad configs are errors that create nothing; the TOML
# subset; start keeps the wrapper recorded at create time.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/home" "$TMP/xdg" "$TMP/work"
HOME=$TMP/home
XDG_CONFIG_HOME=$TMP/xdg
export HOME XDG_CONFIG_HOME
cd "$TMP/work" || exit 1

# A wrapper that notes its name and arguments, then runs sh with them.
cat >"$TMP/wrapper" <<'EOF'
#!/bin/sh
echo "${0##*/} $*" >>"$TMP/wrap.log"
exec /bin/sh "$@"
EOF
chmod +x "$TMP/wrapper"
for name in w_flag w_cfg w_xdg w_home w_rel w_multi w_later; do
	ln -s "$TMP/wrapper" "$TMP/$name"
done
# config FILE WRAPPER: a config.toml whose [shell] unix is [WRAPPER, "-c"].
config() {
	mkdir -p "$(dirname "$1")"
	printf '[shell]\nunix = ["%s", "-c"]\n' "$2" >"$1"
}
# via: which wrapper ran the last job ("none" if no wrapper script did).
via() {
	if [ -s "$TMP/wrap.log" ]; then tail -n 1 "$TMP/wrap.log"; else echo none; fi
}
# run_one ARGS...: forget the wrapper log, run --wait, keep the answer in OUT.
run_one() {
	rm -f "$TMP/wrap.log"
	OUT=$(ae run --wait "$@")
}
# meta_wrapper: the shell_wrapper of the last job's meta.json.
meta_wrapper() {
	json_flat "$ROOT/$(job_id "$OUT")/meta.json" |
		grep -o '"shell_wrapper": *\[[^]]*\]'
}
# job_count: the jobs in the root.
job_count() { ae list --all | grep -o '"job_id":' | wc -l | tr -d ' '; }
# root_empty: the root is missing or empty.
root_empty() { [ ! -d "$ROOT" ] || [ -z "$(ls -A "$ROOT")" ]; }

# ---- precedence -------------------------------------------------------------------

run_one 'echo hi'
check_eq "no config: the job runs" "$(json_str stdout_tail "$OUT")" hi
check_eq "no config: no wrapper script ran" "$(via)" none
check_eq "no config: meta.json shell_wrapper is sh -c" "$(meta_wrapper)" \
	'"shell_wrapper": ["sh","-c"]'

config "$HOME/.config/agent-exec/config.toml" "$TMP/w_home"
run_one 'echo hi'
check_eq "an absolute XDG_CONFIG_HOME without the file: ~/.config is not read" \
	"$(via)" none
rm -f "$TMP/wrap.log"
OUT=$(unset XDG_CONFIG_HOME; ae run --wait 'echo hi')
check_eq "XDG_CONFIG_HOME unset: ~/.config/agent-exec/config.toml is used" \
	"$(via)" "w_home -c echo hi"
check_eq "... and recorded in meta.json" "$(meta_wrapper)" \
	"\"shell_wrapper\": [\"$TMP/w_home\",\"-c\"]"
check_eq "... the job's output is intact" "$(json_str stdout_tail "$OUT")" hi

config "$XDG_CONFIG_HOME/agent-exec/config.toml" "$TMP/w_xdg"
run_one 'echo hi'
check_eq "\$XDG_CONFIG_HOME/agent-exec/config.toml wins over ~/.config" \
	"$(via)" "w_xdg -c echo hi"

config "$TMP/work/relxdg/agent-exec/config.toml" "$TMP/w_rel"
rm -f "$TMP/wrap.log"
OUT=$(XDG_CONFIG_HOME=relxdg ae run --wait 'echo hi')
check_eq "a relative XDG_CONFIG_HOME is ignored: ~/.config is used" \
	"$(via)" "w_home -c echo hi"
rm -f "$TMP/wrap.log"
OUT=$(XDG_CONFIG_HOME='' ae run --wait 'echo hi')
check_eq "an empty XDG_CONFIG_HOME is ignored: ~/.config is used" \
	"$(via)" "w_home -c echo hi"

config "$TMP/cfg.toml" "$TMP/w_cfg"
run_one --config "$TMP/cfg.toml" 'echo hi'
check_eq "--config FILE wins over the XDG file" "$(via)" "w_cfg -c echo hi"
run_one --config=cfg-rel.toml 'echo hi' 2>/dev/null
check_eq "... a relative --config that does not exist: invalid_config" \
	"$(json_str code "$OUT")" invalid_config
cp "$TMP/cfg.toml" "$TMP/work/cfg-rel.toml"
run_one --config cfg-rel.toml 'echo hi'
check_eq "a relative --config is relative to the current directory" \
	"$(via)" "w_cfg -c echo hi"

run_one --config "$TMP/cfg.toml" --shell-wrapper "$TMP/w_flag -c" 'echo hi'
check_eq "--shell-wrapper wins over --config" "$(via)" "w_flag -c echo hi"
check_eq "... recorded in meta.json" "$(meta_wrapper)" \
	"\"shell_wrapper\": [\"$TMP/w_flag\",\"-c\"]"
run_one --shell-wrapper "  $TMP/w_flag   -e   -c " 'echo hi'
check_eq "--shell-wrapper is split on whitespace" "$(via)" \
	"w_flag -e -c echo hi"

run_one --shell-wrapper "$TMP/w_flag -c" -- printf '%s|' a 'b c'
check_eq "several words run directly: no wrapper" "$(via)" none
check_eq "... and verbatim" "$(json_str stdout_tail "$OUT")" "a|b c|"
run_one -- sh -c 'echo direct'
check_eq "several words with the XDG config: no wrapper" "$(via)" none

run_one --shell-wrapper "$TMP/no-such-wrapper -c" 'echo hi'
check_eq "a missing wrapper program: failed" "$(json_str state "$OUT")" failed
check_contains "... the error names it" "$(json_text error "$OUT")" \
	no-such-wrapper

# ---- bad configs ------------------------------------------------------------------------

rm -rf "$ROOT"
printf '# comment\n[shell]\nunix = ["sh", "-c"\n' >"$TMP/syntax.toml"
check_error "a config with a syntax error: invalid_config" invalid_config \
	ae run --config "$TMP/syntax.toml" 'echo hi'
check_match "... the message says which line" "$(json_text message "$OUT")" \
	'line [0-9]+'
check_contains "... and names the file" "$(json_text message "$OUT")" \
	"$TMP/syntax.toml"
printf '[shell]\nunix = ["sh", "-c"]\nbroken line here\n' >"$TMP/line3.toml"
check_error "garbage on line 3: invalid_config" invalid_config \
	ae run --config "$TMP/line3.toml" 'echo hi'
check_contains "... the message says line 3" "$(json_text message "$OUT")" \
	"line 3"
check_error "create with a broken config: invalid_config" invalid_config \
	ae create --config "$TMP/syntax.toml" 'echo hi'
printf '[shell]\nunix = []\n' >"$TMP/empty.toml"
check_error "unix = []: invalid_config" invalid_config \
	ae run --config "$TMP/empty.toml" 'echo hi'
printf '[shell]\nunix = "sh -c"\n' >"$TMP/type.toml"
check_error "unix as a string, not an array: invalid_config" invalid_config \
	ae run --config "$TMP/type.toml" 'echo hi'
printf '[shell]\nunix = ["sh", 1]\n' >"$TMP/elem.toml"
check_error "unix with a non-string element: invalid_config" invalid_config \
	ae run --config "$TMP/elem.toml" 'echo hi'
printf '[shell]\nunix = [\n  "sh",\n  "-c"\n' >"$TMP/open.toml"
check_error "an unterminated multi-line array: invalid_config" invalid_config \
	ae run --config "$TMP/open.toml" 'echo hi'
check_error "--config /nonexistent: invalid_config" invalid_config \
	ae run --config /nonexistent 'echo hi'
check_error '--shell-wrapper "": invalid_config' invalid_config \
	ae run --shell-wrapper "" 'echo hi'
check_error '--shell-wrapper "   ": invalid_config' invalid_config \
	ae run --shell-wrapper "   " 'echo hi'
printf '[shell\nunix = ["sh"]\n' >"$XDG_CONFIG_HOME/agent-exec/config.toml"
check_error "a broken XDG config: invalid_config" invalid_config \
	ae run 'echo hi'
check_error "a broken XDG config breaks several-word commands too" \
	invalid_config ae run -- echo hi
check_eq "no job directory was created by any bad config" "$(job_count)" 0
check "... the root holds nothing" root_empty
run_one --config "$TMP/cfg.toml" 'echo hi'
check_eq "--config skips a broken XDG config" "$(via)" "w_cfg -c echo hi"
run_one --shell-wrapper "$TMP/w_flag -c" 'echo hi'
check_eq "--shell-wrapper skips a broken XDG config" "$(via)" \
	"w_flag -c echo hi"

# ---- the TOML subset -----------------------------------------------------------------------

cat >"$TMP/full.toml" <<EOF
# a comment at the top
title = "agent-exec"   # a trailing comment
numbers = [1, 2, 3]

[other]
unix = ["$TMP/w_flag", "-c"]

[shell] # a comment after the header
windows = ["cmd", "/C"]
unix = [
  '$TMP/w_multi',  # a single-quoted string
  "-c",            # a trailing comma follows
]
extra = true

[shell.nested]
unix = ["$TMP/w_flag"]
EOF
run_one --config "$TMP/full.toml" 'echo hi'
check_eq "comments, unknown keys and sections, '...' strings, multi-line arrays" \
	"$(via)" "w_multi -c echo hi"
check_eq "... the job ran" "$(json_str stdout_tail "$OUT")" hi
printf '[shell]\nwindows = ["cmd"]\n' >"$TMP/nounix.toml"
run_one --config "$TMP/nounix.toml" 'echo hi'
check_eq "a [shell] without unix: the default sh -c" "$(meta_wrapper)" \
	'"shell_wrapper": ["sh","-c"]'
printf '' >"$TMP/blank.toml"
run_one --config "$TMP/blank.toml" 'echo hi'
check_eq "an empty config file: the default sh -c" "$(meta_wrapper)" \
	'"shell_wrapper": ["sh","-c"]'

# ---- create keeps its wrapper ---------------------------------------------------------------

config "$TMP/later.toml" "$TMP/w_cfg"
id=$(job_id "$(ae create --config "$TMP/later.toml" 'echo created')")
config "$TMP/later.toml" "$TMP/w_later"
rm -f "$TMP/wrap.log"
out=$(ae start --wait "$id")
check_eq "start uses the wrapper recorded at create time (--config)" \
	"$(via)" "w_cfg -c echo created"
check_eq "... the job ran" "$(json_str stdout_tail "$out")" created

config "$XDG_CONFIG_HOME/agent-exec/config.toml" "$TMP/w_xdg"
id=$(job_id "$(ae create 'echo created')")
config "$XDG_CONFIG_HOME/agent-exec/config.toml" "$TMP/w_later"
rm -f "$TMP/wrap.log"
out=$(ae start --wait "$id")
check_eq "start uses the wrapper recorded at create time (XDG)" \
	"$(via)" "w_xdg -c echo created"
printf '[shell\n' >"$XDG_CONFIG_HOME/agent-exec/config.toml"
id=$(job_id "$(ae create --shell-wrapper "$TMP/w_flag -c" 'echo created')")
rm -f "$TMP/wrap.log"
out=$(ae start --wait "$id")
check_eq "start does not read a config broken since create" \
	"$(json_str state "$out") $(via)" "exited w_flag -c echo created"
