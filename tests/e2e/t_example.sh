#!/bin/sh
# run --wait reports the exit code and the output of a finished job.
. "$(dirname "$0")/lib.sh"

out=$(ae run --wait -- sh -c 'echo hello; exit 42')
check_eq "run --wait answers ok" "$(json_bool ok "$out")" true
check_eq "the job exited" "$(json_str state "$out")" exited
check_eq "exit code 42 is reported" "$(json_num exit_code "$out")" 42
check_eq "stdout is in the final snapshot" "$(json_str stdout_tail "$out")" hello
