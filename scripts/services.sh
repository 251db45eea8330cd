#!/usr/bin/env bash
# Installs, builds (cached) and runs shopsite's backing services as plain processes on 127.0.0.1:
#   redis      Redis 7 from Debian                                      port $REDIS_PORT (6379)
#   postgres   PostgreSQL 15 from Debian, FerretDB's storage            port $POSTGRES_PORT (5433)
#   mongodb    FerretDB v1.24.2 on PostgreSQL, built with Go            port $MONGODB_PORT (27017)
#   cassandra  Apache Cassandra 5.0 from its Maven Central jars, JDK 17 port $CASSANDRA_PORT (9042)
# plus the mongodump/mongorestore tools built from MongoDB's Database Tools sources.
#
# Usage: scripts/services.sh install|up|down|status|env [service...]
#        scripts/services.sh start|stop SERVICE     (used by the fault tests)
#        scripts/services.sh cluster-up|cluster-down|cluster-status   (multi-node: scripts/cluster.sh)
# Builds are cached in $SHOPSITE_CACHE; data, logs and pid files live in $SHOPSITE_STATE (as root,
# PostgreSQL's cluster may live under the postgres user's home instead: see pg_dir).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SHOPSITE_CACHE:-/var/tmp/shopsite-cache}"
STATE="${SHOPSITE_STATE:-$ROOT/.services}"
BIN="$CACHE/bin"
REDIS_PORT="${REDIS_PORT:-6379}"
MONGODB_PORT="${MONGODB_PORT:-27017}"
# Not 5432: a system PostgreSQL may own it.
POSTGRES_PORT="${POSTGRES_PORT:-5433}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
CASSANDRA_PORT="${CASSANDRA_PORT:-9042}"
CASSANDRA_STORAGE_PORT="${CASSANDRA_STORAGE_PORT:-17000}" # not 7000: the dashboard's port
CASSANDRA_HEAP="${CASSANDRA_HEAP:-768m}"
CASSANDRA_VERSION=5.0.8
FERRETDB_VERSION=v1.24.2
# FerretDB logs every client's missing endSessions at warn (~2 MB an hour under the tests).
FERRETDB_LOG_LEVEL="${FERRETDB_LOG_LEVEL:-error}"
FERRETDB_LOG_MAX_BYTES="${FERRETDB_LOG_MAX_BYTES:-10485760}"
FERRETDB_LOG_FILES="${FERRETDB_LOG_FILES:-3}"
MONGO_TOOLS_VERSION=100.10.0
# scripts/mongo-tools/go.mod pins the pseudo-version of tag 100.10.0 (the tags lack a "v"), the
# newest the module proxy serves here; it predates bypassEmptyTsReplacement, which suits FerretDB.
# The Dockerfile's ARG MONGO_TOOLS_VERSION says the same (tests/test_mongo_tools_build.py).
JAVA17="${JAVA17:-/usr/lib/jvm/java-17-openjdk-amd64/bin/java}"
# In start order: FerretDB (mongodb) stores its data in postgres.
ALL_SERVICES=(redis postgres mongodb cassandra)

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The servers started here outlive this script: they must not keep a descriptor of its caller
# open (a lock held through `flock`, a pipe a test reads to its end), so everything but stdin,
# stdout and stderr is closed first (255 is bash's own copy of this script, close-on-exec).
close_inherited_fds() {
  local fd
  for fd in /proc/$$/fd/*; do
    fd=${fd##*/}
    if ((fd > 2 && fd != 255)); then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

# What a service's command line must contain: a pid file can outlive its process, and the kernel
# may give that pid to another program (another checkout's FerretDB, say), which `stop` would kill.
pid_marker() {
  case $1 in
    redis) echo "127.0.0.1:$REDIS_PORT" ;;
    mongodb) echo "127.0.0.1:$MONGODB_PORT" ;;
    postgres) echo "$(pg_dir)/" ;;
    cassandra) echo "$STATE/cassandra/" ;;
    *) echo "" ;;
  esac
}

pid_alive() {
  local pidfile="$STATE/$1/pid" pid marker
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile")"
  kill -0 "$pid" 2>/dev/null || return 1
  marker="$(pid_marker "$1")"
  [[ -z $marker || "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"$marker"* ]]
}

# The process we just launched is still there (and not a zombie). No command-line check as in
# pid_alive: until the forked shell has exec'ed the server, its command line is this script's.
launched_alive() {
  local pid
  pid="$(cat "$STATE/$1/pid" 2>/dev/null)" || return 1
  [[ -n $pid ]] && grep -q '^State:[[:space:]]*[^Z[:space:]]' "/proc/$pid/status" 2>/dev/null
}

wait_for() { # name timeout_seconds logfile command...
  local name=$1 timeout=$2 logfile=$3
  shift 3
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "$name did not answer within ${timeout}s; last lines of $logfile:"
      tail -n 20 "$logfile" >&2 || true
      die "$name failed to start (log: $logfile)"
    fi
    if [[ -f "$STATE/$name/pid" ]] && ! launched_alive "$name"; then
      tail -n 20 "$logfile" >&2 || true
      die "$name exited during start-up (log: $logfile)"
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------------------------
# install: everything is idempotent and cached
# ---------------------------------------------------------------------------------------------
APT_PACKAGES=(redis-server redis-tools postgresql-15 cron docker-compose openjdk-17-jre-headless maven golang-go
  chromium)

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1
  apt-get update -qq
  # confold: keep the createcluster.conf written above.
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
}

install_system() {
  local wanted=()
  # Debian's postgresql-15 would create and start a cluster of its own on 5432: ours lives under
  # $STATE. Said before the install, as Debian's postgresql-common documents.
  if ! dpkg-query -W -f='${Status}' postgresql-15 2>/dev/null | grep -q "install ok installed"; then
    mkdir -p /etc/postgresql-common
    grep -qs '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf ||
      echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
  fi
  for pkg in "${APT_PACKAGES[@]}"; do
    case $pkg in
      # The machine may already have these toolchains outside Debian's packages.
      golang-go) command -v go >/dev/null || wanted+=("$pkg") ;;
      maven) command -v mvn >/dev/null || wanted+=("$pkg") ;;
      openjdk-17-jre-headless) [[ -x $JAVA17 ]] || wanted+=("$pkg") ;;
      *) wanted+=("$pkg") ;;
    esac
  done
  apt_install "${wanted[@]}"
  # Debian's postinst may start a redis-server on 6379 from /etc/redis; stop it so ours owns the port.
  if [[ -f /run/redis/redis-server.pid ]] && ! pid_alive redis; then
    kill "$(cat /run/redis/redis-server.pid)" 2>/dev/null || true
  fi
}

install_ferretdb() {
  local out="$BIN/shop-ferretdb" stamp="$BIN/shop-ferretdb.stamp"
  local want
  want="$FERRETDB_VERSION $(cat "$ROOT/scripts/ferretdb/main.go" "$ROOT/scripts/ferretdb/go.sum" | sha256sum | cut -c1-16)"
  [[ -x $out && -f $stamp && "$(cat "$stamp")" == "$want" ]] && return 0
  log "building FerretDB $FERRETDB_VERSION (first time: a few minutes)"
  mkdir -p "$BIN"
  # A temporary name of this process's own: another checkout may be building at the same time.
  (cd "$ROOT/scripts/ferretdb" && CGO_ENABLED=0 go build -trimpath -o "$out.tmp.$$" .) ||
    die "FerretDB build failed"
  mv "$out.tmp.$$" "$out"
  echo "$want" >"$stamp"
}

install_mongo_tools() {
  # Built from scripts/mongo-tools, a module of ours whose go.mod pins the tools (Go 1.24 "tool"
  # directives) and whose go.sum carries their checksums: `go install pkg@version` cannot be used,
  # because the module proxy refuses the version list it asks for.
  local tool
  for tool in mongodump mongorestore; do
    # Not "| grep -q": grep exits at the first match, the tool gets SIGPIPE, and pipefail fails.
    if [[ -x "$BIN/$tool" && "$("$BIN/$tool" --version 2>/dev/null)" == *"$MONGO_TOOLS_VERSION"* ]]; then
      continue
    fi
    log "building $tool $MONGO_TOOLS_VERSION"
    # The same build as the Dockerfile's mongotools stage: static, from scripts/mongo-tools.
    bash "$ROOT/scripts/mongo-tools/build.sh" "$MONGO_TOOLS_VERSION" "$BIN" "$tool" || die "$tool build failed"
  done
}

install_cassandra() {
  local dir="$CACHE/cassandra-$CASSANDRA_VERSION"
  [[ -f "$dir/lib/cassandra-all-$CASSANDRA_VERSION.jar" && -f "$dir/lib/.complete" ]] && return 0
  log "fetching Cassandra $CASSANDRA_VERSION jars with mvn"
  mkdir -p "$dir/lib"
  cat >"$dir/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
 <groupId>local.shopsite</groupId><artifactId>cassandra-runtime</artifactId><version>1</version>
 <packaging>pom</packaging>
 <dependencies><dependency><groupId>org.apache.cassandra</groupId><artifactId>cassandra-all</artifactId>
   <version>$CASSANDRA_VERSION</version></dependency></dependencies></project>
EOF
  mvn -q -B -f "$dir/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DoutputDirectory="$dir/lib" -DincludeScope=runtime || die "fetching Cassandra jars failed"
  touch "$dir/lib/.complete"
}

cmd_install() {
  install_system
  install_cassandra
  install_ferretdb
  install_mongo_tools
}

# ---------------------------------------------------------------------------------------------
# start / stop
# ---------------------------------------------------------------------------------------------
start_redis() {
  local dir="$STATE/redis"
  mkdir -p "$dir"
  if port_open "$REDIS_PORT"; then
    pid_alive redis || log "redis: port $REDIS_PORT already answers (not started by this script); reusing it"
    return 0
  fi
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" \
    --save "" --appendonly yes --appendfsync everysec --dir "$dir" \
    --logfile "$dir/redis.log" --pidfile "$dir/pid" >/dev/null
  wait_for redis 15 "$dir/redis.log" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping
}

# initdb and postgres refuse to run as root: as root, run them as Debian's postgres user.
as_postgres() {
  # From /: the current folder may be one the postgres user cannot enter (every path is absolute).
  if ((EUID == 0)); then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Where the cluster lives. As root, initdb and postgres run as the postgres user, who must reach
# the folder: a clone under a folder closed to other users (root's home is 0700) keeps its cluster
# under that user's home instead, one per state folder; as anyone else, in the state folder.
pg_dir() {
  ((EUID == 0)) || { echo "$STATE/postgres"; return 0; }
  local home alt
  home="$(getent passwd postgres | cut -d: -f6)"
  alt="${home:-/var/lib/postgresql}/shopsite/$(basename "$ROOT")-$(printf %s "$STATE" | sha256sum | cut -c1-12)"
  mkdir -p "$STATE"
  if [[ -f $alt/data/PG_VERSION ]] || ! runuser -u postgres -- test -x "$STATE" 2>/dev/null; then
    echo "$alt"
  else
    echo "$STATE/postgres"
  fi
}

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT" -d postgres; }

pg_sql() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres "$@"; }

start_postgres() {
  local dir
  dir="$(pg_dir)"
  mkdir -p "$STATE/postgres"
  if port_open "$POSTGRES_PORT"; then
    pid_alive postgres || log "postgres: port $POSTGRES_PORT already answers (not started by this script); reusing it"
  else
    mkdir -p "$dir"
    # The state dir may belong to root; the cluster's folder must belong to the server's user.
    ((EUID == 0)) && chown postgres: "$dir" && chmod 700 "$dir"
    as_postgres test -w "$dir" || die "postgres: the postgres user cannot write $dir"
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
      log "postgres: creating a cluster in $dir/data"
      rm -rf "$dir/data"
      as_postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || die "postgres: initdb failed (log: $dir/initdb.log)"
    fi
    # Settings on the command line, so a changed POSTGRES_PORT applies at the next start.
    as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -s -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -c port=$POSTGRES_PORT -c unix_socket_directories='$dir'" ||
      { tail -n 20 "$dir/postgres.log" >&2; die "postgres failed to start (log: $dir/postgres.log)"; }
    head -n 1 "$dir/data/postmaster.pid" >"$STATE/postgres/pid"
  fi
  wait_for postgres 60 "$dir/postgres.log" pg_ready
  if [[ "$(pg_sql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'ferretdb'")" != 1 ]]; then
    pg_sql -d postgres -c "CREATE DATABASE ferretdb"
  fi
  # FerretDB sends one SQL text for equality on any field (_jsonb->$1 @> $2): a generic plan
  # cached for one field would seq-scan for all of them and never use the GIN indexes
  # (shopsite/ferretdb_pg.py). Applies to new sessions: set before FerretDB connects.
  pg_sql -d postgres -c "ALTER DATABASE ferretdb SET plan_cache_mode = force_custom_plan"
}

stop_postgres() {
  local dir
  dir="$(pg_dir)"
  if ! pid_alive postgres; then
    rm -f "$STATE/postgres/pid"
    return 0
  fi
  # Fast shutdown: the default (smart) waits for FerretDB's pooled connections to go away.
  as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -s -w -t 60 -m fast stop ||
    as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -s -w -t 30 -m immediate stop
  rm -f "$STATE/postgres/pid"
  log "postgres stopped"
}

start_mongodb() {
  local dir="$STATE/mongodb"
  mkdir -p "$dir"
  if port_open "$MONGODB_PORT"; then
    pid_alive mongodb || log "mongodb: port $MONGODB_PORT already answers (not started by this script); reusing it"
    return 0
  fi
  # Its own session (setsid): a terminal's Ctrl-C or hang-up meant for `make run` does not reach it.
  # Its log rotates by size; stdout/stderr only get what the logger cannot say (a Go panic).
  nohup setsid "$BIN/shop-ferretdb" --listen-addr="127.0.0.1:$MONGODB_PORT" --handler=postgresql \
    --postgresql-url="postgres://postgres@127.0.0.1:$POSTGRES_PORT/ferretdb" \
    --log-level="$FERRETDB_LOG_LEVEL" --log-file="$dir/ferretdb.log" \
    --log-max-bytes="$FERRETDB_LOG_MAX_BYTES" --log-files="$FERRETDB_LOG_FILES" >>"$dir/ferretdb.out" 2>&1 &
  echo $! >"$dir/pid"
  wait_for mongodb 30 "$dir/ferretdb.log" port_open "$MONGODB_PORT"
}

# One Cassandra node's conf in DIR: cassandra.yaml, logback, JVM options. The single node's values
# are the defaults; a ring's node (scripts/cluster.sh) passes its own, and yaml lines to add.
cassandra_conf() { # DIR [ADDRESS SEEDS CQL_PORT CLUSTER_NAME SNITCH EXTRA_YAML]
  local dir=$1 addr=${2:-127.0.0.1} seeds=${3:-127.0.0.1} port=${4:-$CASSANDRA_PORT}
  local name=${5:-shopsite} snitch=${6:-SimpleSnitch} extra=${7:-}
  mkdir -p "$dir/conf" "$dir/data" "$dir/logs"
  cat >"$dir/conf/cassandra.yaml" <<EOF
cluster_name: '$name'
num_tokens: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: $snitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "$seeds"
listen_address: $addr
rpc_address: $addr
storage_port: $CASSANDRA_STORAGE_PORT
native_transport_port: $port
start_native_transport: true
commitlog_sync: periodic
commitlog_sync_period: 10s
auto_snapshot: false
incremental_backups: false
memtable_allocation_type: heap_buffers
disk_access_mode: standard
$extra
EOF
  cat >"$dir/conf/logback.xml" <<'EOF'
<configuration><appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
 <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder></appender>
 <root level="INFO"><appender-ref ref="STDOUT"/></root></configuration>
EOF
  cat >"$dir/conf/jvm17.args" <<EOF
-Xms$CASSANDRA_HEAP -Xmx$CASSANDRA_HEAP -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxGCPauseMillis=300
-Xss512k -XX:ActiveProcessorCount=2
-Djdk.attach.allowAttachSelf=true
--add-exports java.base/jdk.internal.misc=ALL-UNNAMED --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
--add-exports java.management/com.sun.jmx.remote.security=ALL-UNNAMED --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
--add-exports java.rmi/sun.rmi.server=ALL-UNNAMED --add-exports java.sql/java.sql=ALL-UNNAMED
--add-exports java.base/java.lang.ref=ALL-UNNAMED --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
--add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
--add-opens java.base/java.lang.module=ALL-UNNAMED --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
--add-opens java.base/jdk.internal.ref=ALL-UNNAMED --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
--add-opens java.base/jdk.internal.math=ALL-UNNAMED --add-opens java.base/jdk.internal.module=ALL-UNNAMED
--add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
--add-opens java.base/sun.nio.ch=ALL-UNNAMED --add-opens java.base/java.io=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED
--add-opens java.base/java.lang.reflect=ALL-UNNAMED --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
--add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED
-Dio.netty.tryReflectionSetAccessible=true -Dio.netty.allocator.useCacheForAllThreads=true -Dio.netty.allocator.maxOrder=11
EOF
}

cassandra_ready() {
  grep -q "Starting listening for CQL clients" "$STATE/cassandra/logs/stdout.log" && port_open "$CASSANDRA_PORT"
}

launch_cassandra() {
  local dir="$STATE/cassandra" lib="$CACHE/cassandra-$CASSANDRA_VERSION/lib"
  if port_open "$CASSANDRA_PORT"; then
    pid_alive cassandra || log "cassandra: port $CASSANDRA_PORT already answers (not started by this script); reusing it"
    return 0
  fi
  [[ -x $JAVA17 ]] || die "cassandra needs JDK 17 at $JAVA17"
  cassandra_conf "$dir"
  local jamm
  jamm="$(ls "$lib"/jamm-*.jar | head -n 1)"
  mkdir -p "$dir/tmp"
  : >"$dir/logs/stdout.log"
  # setsid: as for FerretDB, the terminal's signals are for `make run`, not for the services.
  nohup setsid "$JAVA17" @"$dir/conf/jvm17.args" -javaagent:"$jamm" \
    -Dcassandra-foreground=yes -Dcassandra.config="file://$dir/conf/cassandra.yaml" \
    -Dcassandra.storagedir="$dir/data" -Dcassandra.logdir="$dir/logs" \
    -Dlogback.configurationFile="$dir/conf/logback.xml" -Djava.io.tmpdir="$dir/tmp" \
    -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.initial_token=0 \
    -Dcassandra.ring_delay_ms=1000 -Dcassandra.unsafesystem=true \
    -cp "$dir/conf:$lib/*" org.apache.cassandra.service.CassandraDaemon \
    >>"$dir/logs/stdout.log" 2>&1 &
  echo $! >"$dir/pid"
}

wait_cassandra() {
  port_open "$CASSANDRA_PORT" && ! pid_alive cassandra && return 0
  wait_for cassandra "${CASSANDRA_START_TIMEOUT:-240}" "$STATE/cassandra/logs/stdout.log" cassandra_ready
}

start_cassandra() {
  launch_cassandra
  wait_cassandra
}

stop_service() {
  local name=$1 pidfile="$STATE/$1/pid"
  [[ $name == postgres ]] && { stop_postgres; return 0; }
  if ! pid_alive "$name"; then
    rm -f "$pidfile"
    return 0
  fi
  local pid
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  log "$name stopped"
}

# Resident memory of a process and its children, shared pages counted once (sum of Pss):
# PostgreSQL runs a dozen processes over one shared memory segment.
pss_kib() {
  local pid total=0 kib
  for pid in "$1" $(pgrep -P "$1" || true); do
    kib="$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || true)"
    total=$((total + ${kib:-0}))
  done
  echo "$total"
}

status_line() {
  local name=$1 port=$2 owner="not running"
  if pid_alive "$name"; then
    local pid rss
    pid="$(cat "$STATE/$name/pid")"
    rss="$(ps -o rss= -p "$pid" | tr -d ' ')"
    owner="running, pid $pid, rss $((rss / 1024)) MiB"
    if [[ $name == postgres ]]; then
      owner="running, pid $pid, rss (Pss of its $(($(pgrep -c -P "$pid" || true) + 1)) processes) $(($(pss_kib "$pid") / 1024)) MiB"
    fi
  elif port_open "$port"; then
    owner="answering (not started by this script)"
  fi
  printf '%-10s 127.0.0.1:%-6s %s\n' "$name" "$port" "$owner"
}

services_from_args() {
  if (($# == 0)); then printf '%s\n' "${ALL_SERVICES[@]}"; else printf '%s\n' "$@"; fi
}

main() {
  close_inherited_fds
  local cmd=${1:-}
  shift || true
  case $cmd in
    install) cmd_install ;;
    up)
      cmd_install
      local svc wanted
      wanted="$(services_from_args "$@")"
      # Cassandra is the slowest to start: launch it first, start the others, then wait for it.
      if grep -qx cassandra <<<"$wanted"; then launch_cassandra; fi
      for svc in $(grep -vx cassandra <<<"$wanted"); do "start_$svc"; done
      if grep -qx cassandra <<<"$wanted"; then wait_cassandra; fi
      log "up: $(services_from_args "$@" | tr '\n' ' ')"
      ;;
    start) for svc in "$@"; do "start_$svc"; done ;;
    stop | down)
      # Reverse start order: FerretDB before the PostgreSQL it uses.
      for svc in $(services_from_args "$@" | tac); do stop_service "$svc"; done
      ;;
    status)
      status_line redis "$REDIS_PORT"
      status_line postgres "$POSTGRES_PORT"
      status_line mongodb "$MONGODB_PORT"
      status_line cassandra "$CASSANDRA_PORT"
      ;;
    env)
      echo "MONGODUMP_BIN=$BIN/mongodump"
      echo "MONGORESTORE_BIN=$BIN/mongorestore"
      ;;
    # Multi-node stores for the cluster tests: scripts/cluster.sh.
    cluster-up | cluster-down | cluster-status) exec bash "$ROOT/scripts/cluster.sh" "${cmd#cluster-}" "$@" ;;
    *) die "usage: $0 install|up|down|status|env [redis|postgres|mongodb|cassandra...] | start|stop SERVICE | cluster-up|cluster-down|cluster-status" ;;
  esac
}

# scripts/cluster.sh sources this file for its helpers.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
