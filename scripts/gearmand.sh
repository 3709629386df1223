# Sourced by the shell test, demo and benchmark scripts: job servers on a port the kernel picks
# (`--port=0`; Debian's gearmand accepts it too), found as the server's own listening socket in
# /proc, so no free-port guess can race another process and no other server can answer for ours.

# Prints the IPv4 TCP port that process $1 itself listens on; fails if there is none (yet).
listening_port() {
  local pid=$1 inode hex
  for inode in $(find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n'); do
    hex=$(awk -v i="$inode" '$4 == "0A" && $10 == i { split($2, a, ":"); print a[2]; exit }' "/proc/$pid/net/tcp")
    if [ -n "$hex" ]; then echo $((16#$hex)); return 0; fi
  done
  return 1
}

# Whether the text command `version` answers on 127.0.0.1:$1.
answers_version() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "version\n" >&3 && read -r line <&3 && [ -n "$line" ]' _ "$1" 2>/dev/null
}

# start_gearmand PROGRAM LOG [OPTION...]: runs `PROGRAM --listen=127.0.0.1 --port=0
# --log-file=LOG OPTION...` in the background, waits (10 s at most) until that PID listens and
# answers `version`, and sets gearmand_pid and gearmand_port. Prints the log and fails otherwise.
start_gearmand() {
  local program=$1 log=$2
  shift 2
  "$program" --listen=127.0.0.1 --port=0 --log-file="$log" "$@" &
  gearmand_pid=$!
  gearmand_port=
  local _
  for _ in $(seq 200); do
    kill -0 "$gearmand_pid" 2>/dev/null || break
    if gearmand_port=$(listening_port "$gearmand_pid") && answers_version "$gearmand_port"; then
      return 0
    fi
    sleep 0.05
  done
  echo "$program (pid $gearmand_pid) did not come up on 127.0.0.1; its log:" >&2
  cat "$log" >&2
  return 1
}

# hold_closed_port: starts a process holding a bound socket that never listens (connecting to it
# is refused, and nothing else can take the port) and sets closed_port and closed_port_pid.
hold_closed_port() {
  local fifo
  fifo=$(mktemp -u)
  mkfifo "$fifo"
  python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1], flush=True); time.sleep(86400)' >"$fifo" &
  closed_port_pid=$!
  read -r closed_port <"$fifo"
  rm -f "$fifo"
}
