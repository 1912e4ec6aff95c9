#!/usr/bin/env bash
# finish.sh — the action's last step: exits with bg-gate's exit code (BG_EXIT, the run
# step's exit-code output), so a gate that said no fails the job, after the outputs and
# the job summary were written.
set -euo pipefail
code=${BG_EXIT:-}
case "$code" in
    '' | *[!0-9]*)
        echo "::error title=bg-gate action::the run step recorded no exit code"
        exit 1
        ;;
esac
if [ "$code" -ne 0 ]; then
    echo "bg-gate exited with $code"
fi
exit "$code"
