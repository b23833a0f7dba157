#!/usr/bin/env python3
"""Checks a run of the plant lab against the lab's own topology.

    python3 lab/check.py capture OUT/capture.pcap OUT/topology.json
        The capture (via tshark) shows every lab host sending from its own MAC with
        its own IP, no unknown MAC/IP pair inside the lab zones, and the protocols of
        the plant (Modbus, S7comm, IEC-104, CIP, BACnet, DNP3, OPC UA, DNS, DHCP, ...).

    python3 lab/check.py assets [--roles] RECORDS.jsonl OUT/topology.json
        gapwatch `asset` records (JSON Lines, DESIGN.md format, e.g. from
        `gapwatch capture --iface span0 --json`) contain every PLC, RTU, HMI, SCADA
        server, historian and workstation of the topology with the right MAC and IP,
        and the `flow` records contain the HMI's polling flows. Role disagreement
        is printed as a note, and fails the check with --roles.

Exit status 0 when everything matches; 1 with one line per mismatch otherwise.
"""

import collections
import json
import subprocess
import sys

CHECKED_ROLES = {"plc", "rtu", "hmi", "scada_server", "historian", "engineering_workstation", "it_host", "network"}

# Protocols every normal run of at least ~70 s contains (tshark protocol names).
EXPECTED_PROTOCOLS = ["arp", "dns", "dhcp", "mbtcp", "s7comm", "iec60870_104", "enip", "cip", "bacnet", "dnp3",
                      "opcua", "http", "tls", "ssh"]

# (server host, port) pairs the HMI polls in every run.
# Role agreement is reported; it fails the check only with --roles.
ROLES_STRICT = False

HMI_FLOWS = [("plc1", 502), ("plc2", 102), ("rtu1", 2404), ("plc3", 44818), ("rtu2", 20000)]


def load_topology(path):
    with open(path) as f:
        return json.load(f)


def check_capture(pcap, topo):
    errors = []
    out = subprocess.run(
        ["tshark", "-r", pcap, "-Y", "arp || ip", "-T", "fields", "-E", "separator=,", "-E", "occurrence=f", "-e", "eth.src", "-e",
         "ip.src", "-e", "arp.src.proto_ipv4", "-e", "arp.src.hw_mac"],
        capture_output=True, text=True, check=True).stdout
    pairs = collections.Counter()
    for line in out.splitlines():
        mac, ip, arp_ip, arp_mac = (line.split(",") + ["", "", "", ""])[:4]
        if ip:
            pairs[(mac.lower(), ip)] += 1
        if arp_ip:
            pairs[(arp_mac.lower(), arp_ip)] += 1
    expected = {(h["mac"], h["ip"]) for h in topo["hosts"]}
    expected |= {(r["mac"], r["ip"]) for r in topo["router_legs"]}
    router_macs = {r["mac"] for r in topo["router_legs"]}
    for h in topo["hosts"]:
        # The outside host only answers during incidents.
        if h["zone"] != "out" and (h["mac"], h["ip"]) not in pairs:
            errors.append(f"host {h['name']} ({h['ip']} {h['mac']}) never sends in the capture")
    rogue = (topo["rogue"]["mac"], topo["rogue"]["ip"])
    for (mac, ip), n in sorted(pairs.items()):
        if (mac, ip) in expected or mac in router_macs or (mac, ip) == rogue or ip == "0.0.0.0":
            continue
        errors.append(f"unexpected source {ip} from {mac} ({n} frames)")
    phs = subprocess.run(["tshark", "-r", pcap, "-q", "-z", "io,phs"], capture_output=True, text=True,
                         check=True).stdout
    present = {line.split()[0] for line in phs.splitlines() if "frames:" in line}
    for p in EXPECTED_PROTOCOLS:
        if p not in present:
            errors.append(f"protocol {p} missing from the capture")
    return errors, f"{sum(pairs.values())} frames, {len(pairs)} MAC/IP source pairs, protocols: {sorted(present)}"


def check_assets(records_path, topo):
    errors = []
    assets, flows = [], []
    with open(records_path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                errors.append(f"not JSON: {line[:80]}")
                continue
            if rec.get("kind") == "asset":
                assets.append(rec)
            elif rec.get("kind") == "flow":
                flows.append(rec)
    # The last record for an asset id wins (records may be re-emitted as they change).
    by_id = {}
    for a in assets:
        by_id[a.get("id", id(a))] = a
    by_mac = collections.defaultdict(list)
    for a in by_id.values():
        if a.get("mac"):
            by_mac[str(a["mac"]).lower()].append(a)
    for h in topo["hosts"]:
        if h["role"] not in CHECKED_ROLES or h["zone"] == "out":
            continue
        found = by_mac.get(h["mac"])
        if not found:
            errors.append(f"{h['name']} ({h['role']}): no asset with MAC {h['mac']}")
            continue
        if not any(h["ip"] in (a.get("ips") or []) for a in found):
            errors.append(f"{h['name']}: asset {h['mac']} has IPs {[a.get('ips') for a in found]}, want {h['ip']}")
        roles = {a.get("role") or "unknown" for a in found}
        if h["role"] not in roles:
            msg = f"{h['name']}: role {sorted(roles)}, lab role {h['role']}"
            if ROLES_STRICT:
                errors.append(msg)
            else:
                print(f"note {msg}", file=sys.stderr)
    ip_of = {h["name"]: h["ip"] for h in topo["hosts"]}
    hmi = ip_of.get("hmi1")
    for server, port in HMI_FLOWS:
        if server not in ip_of:
            continue
        if not any(fl.get("src_ip") == hmi and fl.get("dst_ip") == ip_of[server] and fl.get("dst_port") == port
                   for fl in flows):
            errors.append(f"no flow hmi1 -> {server}:{port}")
    return errors, f"{len(by_id)} assets, {len(flows)} flow records"


def main():
    global ROLES_STRICT
    if "--roles" in sys.argv:
        sys.argv.remove("--roles")
        ROLES_STRICT = True
    if len(sys.argv) != 4 or sys.argv[1] not in ("capture", "assets"):
        sys.exit(__doc__)
    mode, data, topo_path = sys.argv[1:]
    topo = load_topology(topo_path)
    errors, summary = (check_capture if mode == "capture" else check_assets)(data, topo)
    print(f"check {mode}: {summary}", file=sys.stderr)
    for e in errors:
        print(f"MISMATCH {e}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
