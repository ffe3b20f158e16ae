#!/usr/bin/env bash
# A real OpenSearch node (2.19, from Maven Central's jars) on 127.0.0.1, without Docker:
#
#   integration/opensearch-node.sh start --port PORT [--nodes N] [--data DIR] [--heap 256m]
#   integration/opensearch-node.sh stop --port PORT
#
# start builds the launcher once (Maven fetches the jars into its cache the first time), starts
# N nodes (HTTP ports PORT, PORT+1, ...; transport ports PORT+100, ...), waits until the
# cluster is green and prints its URL. stop ends the nodes started with that port. The nodes
# write their logs under DIR/node-K/logs and their pids to DIR/pids.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
project="$here/opensearch-node"
cmd="${1:-}"; shift || true
port=""; nodes=1; data=""; heap="256m"
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --nodes) nodes="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --heap) heap="$2"; shift 2 ;;
    *) echo "opensearch-node.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$port" ] || { echo "opensearch-node.sh: give --port PORT" >&2; exit 2; }
[ -n "$data" ] || data="${TMPDIR:-/tmp}/corpus-search-opensearch-$port"
pids="$data/pids"

case "$cmd" in
  start)
    command -v java >/dev/null || { echo "opensearch-node.sh: no java (Java 17 is needed)" >&2; exit 2; }
    command -v mvn >/dev/null || { echo "opensearch-node.sh: no mvn (Maven is needed)" >&2; exit 2; }
    if [ ! -f "$project/target/classes/corpussearch/Launcher.class" ] \
       || [ ! -s "$project/target/classpath.txt" ] \
       || [ "$project/src/main/java/corpussearch/Launcher.java" -nt "$project/target/classes/corpussearch/Launcher.class" ]; then
      (cd "$project" && mvn -q -B package dependency:build-classpath \
         -Dmdep.outputFile=target/classpath.txt >&2)
    fi
    cp="$project/target/classes:$(cat "$project/target/classpath.txt")"
    mkdir -p "$data"; : > "$pids"
    seeds=""; masters=""
    if [ "$nodes" -gt 1 ]; then
      for k in $(seq 1 "$nodes"); do
        seeds="$seeds${seeds:+,}127.0.0.1:$((port + 99 + k))"
        masters="$masters${masters:+,}node-$k"
      done
    fi
    for k in $(seq 1 "$nodes"); do
      dir="$data/node-$k"; mkdir -p "$dir"
      nohup java "-Xms$heap" "-Xmx$heap" -cp "$cp" corpussearch.Launcher \
        "$((port + k - 1))" "$((port + 99 + k))" "$dir" "corpus-search-test" "node-$k" \
        "$seeds" "$masters" > "$dir/stdout.log" 2>&1 &
      echo $! >> "$pids"
    done
    url="http://127.0.0.1:$port"
    for _ in $(seq 1 180); do  # bounded: 3 minutes at most
      if curl -fsS "$url/_cluster/health?wait_for_status=green&wait_for_nodes=$nodes&timeout=1s" \
           2>/dev/null | grep -q '"status":"green"'; then
        echo "$url"
        exit 0
      fi
      while read -r pid; do
        kill -0 "$pid" 2>/dev/null || { echo "opensearch-node.sh: a node died; see $data/node-*/stdout.log" >&2; "$0" stop --port "$port" --data "$data"; exit 2; }
      done < "$pids"
      sleep 1
    done
    echo "opensearch-node.sh: the cluster at $url did not turn green in 3 minutes" >&2
    "$0" stop --port "$port" --data "$data"
    exit 2
    ;;
  stop)
    [ -f "$pids" ] || exit 0
    while read -r pid; do kill "$pid" 2>/dev/null || true; done < "$pids"
    for _ in $(seq 1 60); do
      alive=0
      while read -r pid; do kill -0 "$pid" 2>/dev/null && alive=1; done < "$pids"
      [ "$alive" = 0 ] && break
      sleep 0.5
    done
    while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done < "$pids"
    rm -f "$pids"
    ;;
  *)
    echo "usage: opensearch-node.sh start|stop --port PORT [--nodes N] [--data DIR] [--heap 256m]" >&2
    exit 2
    ;;
esac
