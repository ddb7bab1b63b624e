#!/bin/sh
# Stand-in for kubectl as `kubectl inotop` uses it, answering in kubectl's own output formats.
# Copied into a directory as `kubectl`; its state is files next to it:
#   kubectl-calls      every call's arguments, one line each (appended)
#   context-namespace  the current context's namespace (`config view --minify -o jsonpath={..namespace}`
#                      prints it with no newline, nothing when the context has none)
#   pods               the namespace's pods: "NAME INOTOP_RUN" per line (`-` for none); `debug
#                      node/NODE` adds node-debugger-NODE-xxxxx with its --env=INOTOP_RUN value
#   debug-mode         "hang": `debug` makes its pod, prints its output, then never returns
#   daemonset-image    the image inotop's DaemonSet runs (`get daemonset inotop -o jsonpath=...`);
#                      without it, the DaemonSet is not found
dir=$(dirname "$0")
printf '%s\n' "$*" >>"$dir/kubectl-calls"
# Global flags first (--context=X, --kubeconfig=X, -n X), as kubectl inotop passes them.
while :; do
  case $1 in
    --context=* | --kubeconfig=* | --namespace=*) shift ;;
    -n) shift 2 ;;
    *) break ;;
  esac
done
touch "$dir/pods"
case $1 in
  config)
    cat "$dir/context-namespace" 2>/dev/null
    exit 0 ;;
  get)
    if [ "$2" = daemonset ]; then
      [ -f "$dir/daemonset-image" ] || { echo 'Error from server (NotFound): daemonsets.apps "inotop" not found' >&2; exit 1; }
      cat "$dir/daemonset-image"
      exit 0
    fi
    # get pods -o go-template=...(eq .value "RUN")...: the names of the pods with that INOTOP_RUN.
    template=$(printf '%s\n' "$@" | sed -n 's/^-o go-template=//p; s/^go-template=//p')
    run=$(printf '%s' "$template" | sed -n 's/.*(eq \.value "\([^"]*\)").*/\1/p')
    [ -n "$run" ] || { echo 'error: the stand-in answers only go-template lookups by INOTOP_RUN' >&2; exit 1; }
    awk -v run="$run" '$2 == run { print $1 }' "$dir/pods"
    exit 0 ;;
  debug)
    node=${2#node/}
    run=$(printf '%s\n' "$@" | sed -n 's/^--env=INOTOP_RUN=//p')
    suffix=$(LC_ALL=C tr -dc 'a-z0-9' </dev/urandom | head -c 5)
    echo "node-debugger-$node-$suffix ${run:--}" >>"$dir/pods"
    echo "inotop output"
    if [ "$(cat "$dir/debug-mode" 2>/dev/null)" = hang ]; then
      touch "$dir/debug-started"
      exec sleep 600
    fi
    exit 0 ;;
  delete)
    # delete pod NAME --wait=false
    grep -v "^$3 " "$dir/pods" >"$dir/pods.new" || true
    mv "$dir/pods.new" "$dir/pods"
    echo "pod \"$3\" deleted"
    exit 0 ;;
esac
echo "kubectl stand-in: not simulated: $*" >&2
exit 1
