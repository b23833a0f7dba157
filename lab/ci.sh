#!/bin/bash
# Live end-to-end test for CI (root, Linux): runs the lab plant for DURATION
# seconds (default 75) with `gapwatch capture --iface span0 --json` inside the
# switch namespace, then checks
#   1. the lab's own SPAN capture against the lab topology (every host sends
#      from its MAC/IP, no stray sources, all plant protocols present), and
#   2. gapwatch's asset and flow records against the same topology (every PLC,
#      RTU, HMI, SCADA server, historian and workstation with the right MAC and
#      IP; the HMI's polling flows present).
# GAPWATCH: the binary (default target/release/gapwatch); OUT: output directory
# (default lab/out/ci); JOIN_RUNNING=1: start gapwatch on the running plant
# instead of before it boots. Runs lab/setup.sh if lab/.venv is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
gapwatch=${GAPWATCH:-$here/../target/release/gapwatch}
duration=${DURATION:-75}
out=${OUT:-$here/out/ci}
join=()
[ "${JOIN_RUNNING:-0}" = 1 ] && join=(--join-running)
[ -x "$gapwatch" ] || { echo "ci.sh: $gapwatch not built (cargo build --release -p gapwatch)" >&2; exit 1; }
[ -x "$here/.venv/bin/python" ] || "$here/setup.sh"
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)
"$here/e2e.sh" --duration "$duration" --out "$out" "${join[@]}" -- \
    "$(readlink -f "$gapwatch")" capture --iface span0 --json --state "$out/state" >"$out/records.jsonl"
echo "ci.sh: e2e run took $(( $(date +%s) - start )) s" >&2
python3 "$here/check.py" capture "$out/capture.pcap" "$out/topology.json"
python3 "$here/check.py" assets "$out/records.jsonl" "$out/topology.json"
echo "ci.sh: lab end-to-end OK" >&2
