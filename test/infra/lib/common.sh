# shellcheck shell=bash
# Shared functions for test/infra/up and test/infra/down. Sourced, not executed.

# shellcheck disable=SC2034 # variables used by the scripts that source this file
INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(cd "$INFRA_DIR/../.." && pwd)
RUN_DIR="$INFRA_DIR/.run"
LOG_DIR="$RUN_DIR/logs"
PID_DIR="$RUN_DIR/pids"
ENV_FILE="$INFRA_DIR/.env"
# Built binaries live outside the repo, keyed by version, so a fresh clone reuses them.
CACHE_DIR="${TRESOR_INFRA_CACHE:-/var/cache/tresor-infra}"
WAIT_TIMEOUT="${TRESOR_INFRA_WAIT_TIMEOUT:-60}"

log() { printf '[infra %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

# is_ours NAME: true if the process recorded in pids/NAME.pid is alive and is still the
# process we started (its command line contains the signature recorded next to the PID),
# so a recycled PID is never mistaken for our server.
is_ours() {
  local f="$PID_DIR/$1.pid" pid sig
  [[ -r "$f" ]] || return 1
  { read -r pid; read -r sig; } <"$f" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -F -- "$sig" >/dev/null
}
pid_of() { head -n1 "$PID_DIR/$1.pid"; }
# alive PID: the process exists and is not a zombie waiting for init to reap it.
alive() {
  local st
  kill -0 "$1" 2>/dev/null || return 1
  st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ "$st" != Z ]]
}

# start_bg NAME SIGNATURE CMD...: start CMD detached from this shell (new session, stdin from
# /dev/null, stdout/stderr appended to logs/NAME.log) so it survives `up` and never holds the
# caller's stdout open. SIGNATURE is a string that must appear in the process's command line.
start_bg() {
  local name=$1 sig=$2
  shift 2
  local logf="$LOG_DIR/$name.log"
  printf -- '---- %s starting: %s\n' "$(date -Is)" "$*" >>"$logf"
  setsid "$@" >>"$logf" 2>&1 </dev/null 9>&- &
  local pid=$!
  printf '%s\n%s\n' "$pid" "$sig" >"$PID_DIR/$name.pid"
}

# stop_ours NAME: SIGTERM the recorded process, wait up to 15 s, then SIGKILL. Only by PID.
stop_ours() {
  local name=$1 pid i
  if ! is_ours "$name"; then
    rm -f "$PID_DIR/$name.pid"
    return 1
  fi
  pid=$(pid_of "$name")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    log "$name (pid $pid) ignored SIGTERM for 15 s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$PID_DIR/$name.pid"
  return 0
}

# wait_for NAME LOGFILE TIMEOUT CMD...: run CMD until it succeeds; on timeout fail naming the
# server and its log, and show the log's tail and CMD's last output.
wait_for() {
  local name=$1 logf=$2 timeout=$3
  shift 3
  local deadline=$((SECONDS + timeout)) out
  while :; do
    if out=$("$@" 2>&1); then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      printf '[infra] ERROR: %s did not answer within %ss (check: %s)\n' "$name" "$timeout" "$*" >&2
      printf '[infra] last check output: %s\n' "$(printf '%s' "$out" | tail -n 5)" >&2
      if [[ -n "$logf" && -r "$logf" ]]; then
        printf '[infra] see %s; its last lines:\n' "$logf" >&2
        tail -n 20 "$logf" | sed 's/^/    /' >&2
      fi
      return 1
    fi
    sleep 0.3
  done
}

# port_owner PORT: prints "pid=N,cmd" of the process listening on 127.0.0.1:PORT (or any), empty if free.
port_owner() {
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n1
}
port_in_use() { [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]; }

# ensure_port_free NAME PORT ENVVAR: before starting our server, make sure nobody else has the port.
ensure_port_free() {
  local name=$1 port=$2 var=$3
  if port_in_use "$port"; then
    die "$name: port $port is already taken by $(port_owner "$port" || echo 'another process') which is not a server started by test/infra/up. Stop it, or choose another port with $var=PORT."
  fi
}

# --- packages -------------------------------------------------------------------------------
APT_UPDATED=0
pkg_installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]; }

# apt_ensure PKG...: install the missing Debian packages. Daemons are not started by the
# packages' maintainer scripts (policy-rc.d), so nothing listens on a default port afterwards.
apt_ensure() {
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  [[ $EUID -eq 0 ]] || die "packages missing (${missing[*]}) and not root: install them with apt-get, or run test/infra/up as root"
  log "installing Debian packages: ${missing[*]}"
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# written by tresor test/infra/up during apt-get install\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    own_policy=1
  fi
  local rc=0
  if ! apt_candidates "${missing[@]}"; then apt_update; fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >>"$LOG_DIR/apt.log" 2>&1; then
    # A stale package list gives 404s: refresh it once and retry.
    if ((APT_UPDATED == 0)); then
      apt_update
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >>"$LOG_DIR/apt.log" 2>&1 || rc=$?
    else
      rc=1
    fi
  fi
  ((own_policy)) && rm -f "$policy"
  ((rc == 0)) || die "apt-get install ${missing[*]} failed; see $LOG_DIR/apt.log"
}
apt_candidates() {
  local p
  for p in "$@"; do
    # (no `grep -q` on pipes here: with pipefail an early exit of grep fails the writer)
    [[ "$(apt-cache policy "$p" 2>/dev/null)" == *"Candidate: "[0-9]* ]] || return 1
  done
}
apt_update() {
  ((APT_UPDATED)) && return 0
  log "apt-get update"
  apt-get update >>"$LOG_DIR/apt.log" 2>&1 || die "apt-get update failed; see $LOG_DIR/apt.log"
  APT_UPDATED=1
}

# --- Go binaries ----------------------------------------------------------------------------
# find_go: sets GO to the go command (PATH, else /usr/local/go/bin).
find_go() {
  # Without HOME (some CI shells) the go command has no default cache locations.
  if [[ -z "${HOME:-}" ]]; then
    export GOCACHE="${GOCACHE:-$CACHE_DIR/go-build}" GOMODCACHE="${GOMODCACHE:-$CACHE_DIR/go-mod}" GOPATH="${GOPATH:-$CACHE_DIR/go}"
  fi
  if command -v go >/dev/null 2>&1; then GO=$(command -v go)
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  else die "Go is needed to build MinIO, fake-gcs-server and FerretDB but was not found (looked in PATH and /usr/local/go/bin)"
  fi
}

# go_install_cached NAME MODULE@VERSION BINARY: `go install` once into CACHE_DIR/bin/NAME@VERSION.
# Prints the binary's path.
go_install_cached() {
  local name=$1 modver=$2 bin=$3
  local dir="$CACHE_DIR/bin/$name@${modver##*@}"
  if [[ ! -x "$dir/$bin" ]]; then
    local tmp
    find_go
    mkdir -p "$CACHE_DIR/bin"
    tmp=$(mktemp -d "$CACHE_DIR/bin/.build-$name.XXXXXX")
    log "building $modver with $("$GO" version | cut -d' ' -f3) (first run only; cached in $dir)"
    if ! GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local \
      "$GO" install -trimpath "$modver" >>"$LOG_DIR/build-$name.log" 2>&1; then
      rm -rf "$tmp"
      die "go install $modver failed; see $LOG_DIR/build-$name.log"
    fi
    rm -rf "$dir"
    mv "$tmp" "$dir"
  fi
  echo "$dir/$bin"
}

# write_if_changed FILE [MODE]: write stdin to FILE only if the content differs (keeps re-runs
# from touching anything). Returns 0 if FILE was (re)written, 1 if it was already identical.
write_if_changed() {
  local f=$1 mode=${2:-0644} tmp
  tmp=$(mktemp "$f.XXXXXX")
  cat >"$tmp"
  if [[ -e "$f" ]] && cmp -s "$tmp" "$f"; then
    rm -f "$tmp"
    return 1
  fi
  chmod "$mode" "$tmp"
  mv "$tmp" "$f"
}
