#!/bin/sh
# Stand-in for crictl on a simulated node. Copied into a directory as `crictl`, it answers
# `crictl pods -o json` and `crictl ps -a -o json` from crictl-pods.json and crictl-ps.json next
# to it. crictl-mode next to it makes it misbehave the ways the real one does:
#   fail     exit 1 with crictl's message for a runtime that is down
#   hang     never answer (a child keeps stdout open, as a wrapper script's would); the
#            script's pid goes to crictl-hang-pids
#   garbage  print truncated JSON
#   hostile  fail with terminal escapes and a C1 control in its message
dir=$(dirname "$0")
echo "$*" >>"$dir/crictl-calls"
case "$(cat "$dir/crictl-mode" 2>/dev/null)" in
  fail)
    echo 'time="2026-11-27T10:00:00Z" level=fatal msg="validate service connection: validate CRI v1 runtime API for endpoint \"unix:///run/containerd/containerd.sock\": rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial unix /run/containerd/containerd.sock: connect: connection refused\""' >&2
    exit 1 ;;
  hang)
    echo $$ >>"$dir/crictl-hang-pids"
    sleep 600
    exit 0 ;;
  hostile)
    printf 'level=fatal msg="\033]0;pwned\007\033[2J\033[8mhidden\302\233"\n' >&2
    exit 1 ;;
  garbage)
    printf '{\n  "items": [\n    {\n      "id": "14120868'
    exit 0 ;;
esac
case "$1" in
  pods) exec cat "$dir/crictl-pods.json" ;;
  ps) exec cat "$dir/crictl-ps.json" ;;
esac
echo "crictl stand-in: not simulated: $*" >&2
exit 2
