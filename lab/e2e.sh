#!/bin/bash
# Live end-to-end run: start the lab plant, run a capture command inside the
# switch namespace (where the zone bridges br-ctl, br-sup, br-dmz, br-it,
# br-out and the SPAN port span0 live) for DURATION seconds, stop it with
# SIGINT, stop the plant, and leave the lab's own topology in OUT/topology.json
# for a test to compare against.
#
#   sudo GAPWATCH_CMD='gapwatch capture --iface span0 --state /tmp/gw' lab/e2e.sh
#   sudo lab/e2e.sh --duration 60 --out lab/out/e2e -- gapwatch capture --iface span0 --state /tmp/gw
#
# Environment / options:
#   GAPWATCH_CMD   the command (a shell string) if none is given after `--`
#   --duration S   how long the command runs (default 60)
#   --out DIR      lab output directory (default lab/out/e2e)
#   --seed N       plant seed (default 1)
#   --join-running start the command once the plant is running (mid-stream: no
#                  ARP, DHCP or TCP handshakes of the persistent sessions seen);
#                  by default it starts when the network is built, 3 s before
#                  the first plant process, and sees the plant boot.
# Exit status: the command's exit status after SIGINT (130 from a shell that
# died of SIGINT is reported as 0 when the command was interrupted by us), or
# non-zero when the plant failed to come up.
set -u
here=$(cd "$(dirname "$0")" && pwd)
duration=60
out="$here/out/e2e"
seed=1
ready_when=network
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --join-running) ready_when=plant; shift ;;
        --) shift; break ;;
        *) echo "e2e.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
if [ $# -gt 0 ]; then
    cmd=$(printf '%q ' "$@")
else
    cmd=${GAPWATCH_CMD:-}
fi
if [ -z "$cmd" ]; then
    echo "e2e.sh: give a command after -- or in GAPWATCH_CMD" >&2
    exit 2
fi
mkdir -p "$out"
ready="$out/ready"
rm -f "$ready"
plant_pid=""
cmd_pid=""

cleanup() {
    trap - EXIT INT TERM
    if [ -n "$cmd_pid" ] && kill -0 "$cmd_pid" 2>/dev/null; then
        kill -INT "$cmd_pid" 2>/dev/null
        sleep 2
        kill -KILL "$cmd_pid" 2>/dev/null
    fi
    if [ -n "$plant_pid" ] && kill -0 "$plant_pid" 2>/dev/null; then
        kill -INT "$plant_pid" 2>/dev/null
        wait "$plant_pid" 2>/dev/null
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The plant runs longer than the command so that the command sees a steady
# plant from its first to its last second; we stop the plant ourselves.
python3 "$here/plant.py" run --duration $((duration + 600)) --seed "$seed" --out "$out" \
    --ready-file "$ready" --ready-when "$ready_when" --start-delay 3 2>"$out/plant.log" &
plant_pid=$!
for _ in $(seq 1 120); do
    [ -s "$ready" ] && break
    kill -0 "$plant_pid" 2>/dev/null || { echo "e2e.sh: plant failed, see $out/plant.log" >&2; cat "$out/plant.log" >&2; exit 1; }
    sleep 0.5
done
[ -s "$ready" ] || { echo "e2e.sh: plant not ready" >&2; exit 1; }
ns=$(cat "$ready")
echo "e2e.sh: plant up, running in namespace $ns for ${duration}s: $cmd" >&2
# setsid: the command gets its own process group, so SIGINT reaches it alone.
setsid ip netns exec "$ns" sh -c "exec $cmd" &
cmd_pid=$!
end=$(( $(date +%s) + duration ))
while [ "$(date +%s)" -lt "$end" ] && kill -0 "$cmd_pid" 2>/dev/null; do sleep 1; done
early=0
if ! kill -0 "$cmd_pid" 2>/dev/null; then early=1; fi
kill -INT "$cmd_pid" 2>/dev/null
for _ in $(seq 1 30); do kill -0 "$cmd_pid" 2>/dev/null || break; sleep 0.5; done
kill -KILL "$cmd_pid" 2>/dev/null
wait "$cmd_pid"
rc=$?
cmd_pid=""
kill -INT "$plant_pid" 2>/dev/null
wait "$plant_pid"
plant_pid=""
echo "e2e.sh: topology in $out/topology.json, plant capture in $out/capture.pcap" >&2
if [ "$early" = 1 ]; then
    echo "e2e.sh: command exited early with status $rc" >&2
    exit "$rc"
fi
# Interrupted by us: 130 (shell convention for SIGINT) counts as success.
[ "$rc" = 130 ] && rc=0
exit "$rc"
