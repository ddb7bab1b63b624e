#!/bin/sh
# Stand-in for kubectl on a simulated node. Copied into a directory as `kubectl`, it answers
# `kubectl get pods -A --field-selector spec.nodeName=NODE -o json` from kubectl-pods.json next to
# it and records its arguments in kubectl-calls. kubectl-mode "fail" makes it answer as kubectl
# does without a reachable API server; "hang" never answers (its pid goes to kubectl-hang-pids);
# "hostile" fails with terminal escapes and a C1 control in its message.
dir=$(dirname "$0")
echo "$*" >>"$dir/kubectl-calls"
mode=$(cat "$dir/kubectl-mode" 2>/dev/null)
if [ "$mode" = hang ]; then
  echo $$ >>"$dir/kubectl-hang-pids"
  sleep 600
  exit 0
fi
if [ "$mode" = hostile ]; then
  printf 'error: \033]0;pwned\007\033[2J\033[8mhidden\302\233\n' >&2
  exit 1
fi
if [ "$mode" = fail ]; then
  echo 'E1127 10:00:00.000000    4242 memcache.go:265] "Unhandled Error" err="couldn'"'"'t get current server API group list: Get \"http://localhost:8080/api?timeout=32s\": dial tcp 127.0.0.1:8080: connect: connection refused"' >&2
  echo 'The connection to the server localhost:8080 was refused - did you specify the right host or port?' >&2
  exit 1
fi
exec cat "$dir/kubectl-pods.json"
