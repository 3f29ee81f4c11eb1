#!/usr/bin/env bash
# Benchmarks hold thousands of sockets: raise the open-file limit as far as this shell may.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node "$(dirname "$0")/run.ts" "$@"
