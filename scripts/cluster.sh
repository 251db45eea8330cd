#!/usr/bin/env bash
# Multi-node services as plain processes, for the cluster tests (make test-cluster): the same
# distribution docker-compose.cluster.yml runs, on private loopback addresses and ports so the
# single-node services of scripts/services.sh (127.0.0.1:6379/27017/9042) are never touched.
#   cassandra  a 3-node ring, one datacenter (dc1), on $CLUSTER_CASSANDRA_ADDRESSES, CQL port
#              $CLUSTER_CASSANDRA_PORT, storage port $CLUSTER_CASSANDRA_STORAGE_PORT, small heaps
#   redis      a primary ($CLUSTER_REDIS_PORT), a replica (+1) and 3 Sentinels ($CLUSTER_SENTINEL_PORT,
#              +1, +2; quorum 2, master name "shopsite") on 127.0.0.1
#
# Usage: scripts/cluster.sh up|down|status [cassandra|redis]
#        scripts/cluster.sh start|stop NODE     (NODE: cassandra-<address>, redis-primary,
#                                                redis-replica, sentinel-<port>; used by the tests)
#        scripts/cluster.sh env                 (the settings that point shopsite at the cluster)
# scripts/services.sh cluster-up|cluster-down|cluster-status delegate here. Builds come from
# services.sh's cache (`services.sh install`); data, logs and pids are in $CLUSTER_STATE.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Reuse services.sh's helpers (install, wait_for, stop_service, Cassandra's JVM options).
# shellcheck source=services.sh
source "$ROOT/scripts/services.sh"

CLUSTER_CASSANDRA_ADDRESSES="${CLUSTER_CASSANDRA_ADDRESSES:-127.0.0.2 127.0.0.3 127.0.0.4}"
CLUSTER_CASSANDRA_PORT="${CLUSTER_CASSANDRA_PORT:-9142}"
CLUSTER_CASSANDRA_STORAGE_PORT="${CLUSTER_CASSANDRA_STORAGE_PORT:-17142}"
CLUSTER_REDIS_PORT="${CLUSTER_REDIS_PORT:-16390}"
CLUSTER_SENTINEL_PORT="${CLUSTER_SENTINEL_PORT:-26390}"
# How long the Sentinels wait before calling the primary down (the failover's main delay).
CLUSTER_SENTINEL_DOWN_MS="${CLUSTER_SENTINEL_DOWN_MS:-1000}"
STATE="${CLUSTER_STATE:-${SHOPSITE_STATE:-$ROOT/.services}/cluster}"
CASSANDRA_HEAP="${CLUSTER_CASSANDRA_HEAP:-384m}"
CASSANDRA_STORAGE_PORT=$CLUSTER_CASSANDRA_STORAGE_PORT # read by cassandra_conf
MASTER_NAME=shopsite
# Murmur3 tokens spaced evenly: each node owns a third of the ring before replication.
TOKENS=(-9223372036854775808 -3074457345618258603 3074457345618258602)
# A joining node gives up when no seed answers its first gossip round within the ring delay;
# on a busy 2-core machine 1 s was too short, so 10 s (it costs nothing when seeds answer).
RING_DELAY_MS="${CLUSTER_CASSANDRA_RING_DELAY_MS:-10000}"

log() { printf '[cluster] %s\n' "$*" >&2; }

addr_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

cassandra_addresses() { read -r -a ADDRS <<<"$CLUSTER_CASSANDRA_ADDRESSES"; }

sentinel_ports() { echo "$CLUSTER_SENTINEL_PORT" $((CLUSTER_SENTINEL_PORT + 1)) $((CLUSTER_SENTINEL_PORT + 2)); }

# ---------------------------------------------------------------------------------------------
# Cassandra ring
# ---------------------------------------------------------------------------------------------
ring_conf() { # address token
  local addr=$1 token=$2 dir="$STATE/cassandra-$1" seeds
  cassandra_addresses
  seeds="${ADDRS[0]}:$CLUSTER_CASSANDRA_STORAGE_PORT,${ADDRS[1]}:$CLUSTER_CASSANDRA_STORAGE_PORT"
  # services.sh's node conf with the ring's values. auto_bootstrap: a new, empty ring has
  # nothing to stream, so every node may join at once.
  cassandra_conf "$dir" "$addr" "$seeds" "$CLUSTER_CASSANDRA_PORT" shopsite-ring \
    GossipingPropertyFileSnitch "initial_token: $token
auto_bootstrap: false
hinted_handoff_enabled: true
max_hint_window: 3h
hints_flush_period: 2s
concurrent_reads: 8
concurrent_writes: 8"
  printf 'dc=dc1\nrack=rack1\n' >"$dir/conf/cassandra-rackdc.properties"
}

launch_ring_node() { # address token
  local addr=$1 token=$2 name="cassandra-$1" dir="$STATE/cassandra-$1"
  local lib="$CACHE/cassandra-$CASSANDRA_VERSION/lib"
  if pid_alive "$name"; then return 0; fi
  addr_open "$addr" "$CLUSTER_CASSANDRA_PORT" && die "$addr:$CLUSTER_CASSANDRA_PORT is taken by another process"
  [[ -x $JAVA17 ]] || die "cassandra needs JDK 17 at $JAVA17"
  ring_conf "$addr" "$token"
  mkdir -p "$dir/tmp"
  : >"$dir/logs/stdout.log"
  local jamm
  jamm="$(ls "$lib"/jamm-*.jar | head -n 1)"
  nohup "$JAVA17" @"$dir/conf/jvm17.args" -javaagent:"$jamm" \
    -Dcassandra-foreground=yes -Dcassandra.config="file://$dir/conf/cassandra.yaml" \
    -Dcassandra.storagedir="$dir/data" -Dcassandra.logdir="$dir/logs" \
    -Dlogback.configurationFile="$dir/conf/logback.xml" -Djava.io.tmpdir="$dir/tmp" \
    -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.ring_delay_ms="$RING_DELAY_MS" \
    -Dcassandra.superuser_setup_delay_ms=0 \
    -cp "$dir/conf:$lib/*" org.apache.cassandra.service.CassandraDaemon \
    >>"$dir/logs/stdout.log" 2>&1 &
  echo $! >"$dir/pid"
}

ring_node_ready() { # address
  grep -q "Starting listening for CQL clients" "$STATE/cassandra-$1/logs/stdout.log" &&
    addr_open "$1" "$CLUSTER_CASSANDRA_PORT"
}

wait_ring_node() { # address; a node that gave up on gossip (a busy machine) gets a second try
  local logfile="$STATE/cassandra-$1/logs/stdout.log"
  if (wait_for "cassandra-$1" "${CASSANDRA_START_TIMEOUT:-300}" "$logfile" ring_node_ready "$1"); then
    return 0
  fi
  grep -q "Unable to gossip with any peers" "$logfile" || die "cassandra-$1 failed to start (log: $logfile)"
  log "cassandra-$1 found no seed in time; starting it again"
  launch_ring_node "$1" "$(token_of "$1")"
  wait_for "cassandra-$1" "${CASSANDRA_START_TIMEOUT:-300}" "$logfile" ring_node_ready "$1"
}

token_of() { # address
  cassandra_addresses
  local i
  for i in "${!ADDRS[@]}"; do [[ ${ADDRS[$i]} == "$1" ]] && echo "${TOKENS[$i]}" && return 0; done
  die "$1 is not one of the ring's addresses ($CLUSTER_CASSANDRA_ADDRESSES)"
}

up_cassandra() {
  cassandra_addresses
  # The first seed first (it defines the ring), then the others together.
  launch_ring_node "${ADDRS[0]}" "${TOKENS[0]}"
  wait_ring_node "${ADDRS[0]}"
  launch_ring_node "${ADDRS[1]}" "${TOKENS[1]}"
  launch_ring_node "${ADDRS[2]}" "${TOKENS[2]}"
  wait_ring_node "${ADDRS[1]}"
  wait_ring_node "${ADDRS[2]}"
  log "cassandra ring up on ${ADDRS[*]} port $CLUSTER_CASSANDRA_PORT"
}

# ---------------------------------------------------------------------------------------------
# Redis primary + replica + Sentinels
# ---------------------------------------------------------------------------------------------
start_redis_node() { # name port [replicaof-port]
  local name=$1 port=$2 dir="$STATE/$1"
  if pid_alive "$name"; then return 0; fi
  addr_open 127.0.0.1 "$port" && die "127.0.0.1:$port is taken by another process"
  mkdir -p "$dir"
  local args=(--daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly yes
    --appendfsync everysec --dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/pid")
  # Whichever node is primary now (after a failover, maybe the former replica): a node that
  # restarts joins it as a replica, as the Sentinels would make it anyway.
  local primary
  primary="$(current_primary_port)"
  if [[ -n $primary && $primary != "$port" ]]; then
    args+=(--replicaof 127.0.0.1 "$primary")
  elif [[ -z $primary && -n ${3:-} ]]; then
    args+=(--replicaof 127.0.0.1 "$3")
  fi
  redis-server "${args[@]}" >/dev/null
  wait_for "$name" 15 "$dir/redis.log" redis-cli -h 127.0.0.1 -p "$port" ping
}

current_primary_port() { # as the Sentinels see it; empty when none answers
  local port out
  for port in $(sentinel_ports); do
    out="$(redis-cli -h 127.0.0.1 -p "$port" sentinel get-master-addr-by-name "$MASTER_NAME" 2>/dev/null)" || continue
    [[ -n $out ]] && sed -n 2p <<<"$out" && return 0
  done
}

start_sentinel() { # port
  local port=$1 name="sentinel-$1" dir="$STATE/sentinel-$1"
  if pid_alive "$name"; then return 0; fi
  addr_open 127.0.0.1 "$port" && die "127.0.0.1:$port is taken by another process"
  mkdir -p "$dir"
  # A Sentinel rewrites its own file (known primary, replicas, other Sentinels): write it once.
  if [[ ! -f $dir/sentinel.conf ]]; then
    cat >"$dir/sentinel.conf" <<EOF
bind 127.0.0.1
port $port
dir $dir
sentinel monitor $MASTER_NAME 127.0.0.1 $CLUSTER_REDIS_PORT 2
sentinel down-after-milliseconds $MASTER_NAME $CLUSTER_SENTINEL_DOWN_MS
sentinel failover-timeout $MASTER_NAME 10000
sentinel parallel-syncs $MASTER_NAME 1
EOF
  fi
  redis-server "$dir/sentinel.conf" --sentinel --daemonize yes --logfile "$dir/sentinel.log" \
    --pidfile "$dir/pid" >/dev/null
  wait_for "$name" 15 "$dir/sentinel.log" redis-cli -h 127.0.0.1 -p "$port" ping
}

sentinels_agree() { # every Sentinel knows the replica and the other two Sentinels
  local port
  for port in $(sentinel_ports); do
    redis-cli -h 127.0.0.1 -p "$port" sentinel master "$MASTER_NAME" 2>/dev/null |
      awk 'prev=="num-slaves"{s=$0} prev=="num-other-sentinels"{o=$0} {prev=$0} END{exit !(s>=1 && o>=2)}' ||
      return 1
  done
}

up_redis() {
  start_redis_node redis-primary "$CLUSTER_REDIS_PORT"
  start_redis_node redis-replica $((CLUSTER_REDIS_PORT + 1)) "$CLUSTER_REDIS_PORT"
  local port
  for port in $(sentinel_ports); do start_sentinel "$port"; done
  wait_for "sentinel-$CLUSTER_SENTINEL_PORT" 60 "$STATE/sentinel-$CLUSTER_SENTINEL_PORT/sentinel.log" \
    sentinels_agree
  log "redis primary 127.0.0.1:$CLUSTER_REDIS_PORT, replica :$((CLUSTER_REDIS_PORT + 1)), sentinels $(sentinel_ports)"
}

# ---------------------------------------------------------------------------------------------
nodes_of() { # [cassandra|redis]...
  local parts=("$@")
  ((${#parts[@]})) || parts=(cassandra redis)
  cassandra_addresses
  local part addr port
  for part in "${parts[@]}"; do
    case $part in
      cassandra) for addr in "${ADDRS[@]}"; do echo "cassandra-$addr"; done ;;
      redis)
        for port in $(sentinel_ports); do echo "sentinel-$port"; done
        echo redis-replica
        echo redis-primary
        ;;
      *) die "unknown part $part (cassandra|redis)" ;;
    esac
  done
}

start_node() {
  case $1 in
    cassandra-*)
      launch_ring_node "${1#cassandra-}" "$(token_of "${1#cassandra-}")"
      wait_ring_node "${1#cassandra-}"
      ;;
    redis-primary) start_redis_node redis-primary "$CLUSTER_REDIS_PORT" ;;
    redis-replica) start_redis_node redis-replica $((CLUSTER_REDIS_PORT + 1)) "$CLUSTER_REDIS_PORT" ;;
    sentinel-*) start_sentinel "${1#sentinel-}" ;;
    *) die "unknown node $1" ;;
  esac
}

cluster_status() {
  local name rss
  for name in $(nodes_of "$@"); do
    if pid_alive "$name"; then
      rss="$(ps -o rss= -p "$(cat "$STATE/$name/pid")" | tr -d ' ')"
      printf '%-22s running, pid %s, rss %s MiB\n' "$name" "$(cat "$STATE/$name/pid")" $((rss / 1024))
    else
      printf '%-22s not running\n' "$name"
    fi
  done
  local primary
  primary="$(current_primary_port)"
  [[ -z $primary ]] || printf 'redis primary (per Sentinels): 127.0.0.1:%s\n' "$primary"
}

cluster_main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    up)
      install_cassandra
      local parts=("$@")
      ((${#parts[@]})) || parts=(cassandra redis)
      local part
      for part in "${parts[@]}"; do "up_$part"; done
      ;;
    down)
      local name
      for name in $(nodes_of "$@"); do
        stop_service "$name"
        # Fresh state next time: a test ring or Sentinel set should not remember the last run.
        rm -rf "${STATE:?}/$name"
      done
      ;;
    start) for name in "$@"; do start_node "$name"; done ;;
    stop) for name in "$@"; do stop_service "$name"; done ;;
    status) cluster_status "$@" ;;
    env)
      cassandra_addresses
      echo "CASSANDRA_HOSTS=$(
        IFS=,
        echo "${ADDRS[*]}"
      )"
      echo "CASSANDRA_PORT=$CLUSTER_CASSANDRA_PORT"
      echo "CASSANDRA_LOCAL_DC=dc1"
      echo "CASSANDRA_REPLICATION={'class': 'NetworkTopologyStrategy', 'dc1': 3}"
      echo "REDIS_SENTINELS=$(sentinel_ports | sed 's/\([0-9]*\)/127.0.0.1:\1/g; s/ /,/g')"
      echo "REDIS_SENTINEL_MASTER=$MASTER_NAME"
      ;;
    *) die "usage: $0 up|down|status [cassandra|redis] | start|stop NODE | env" ;;
  esac
}

close_inherited_fds
cluster_main "$@"
