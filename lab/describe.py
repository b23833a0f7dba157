#!/usr/bin/env python3
"""Prints a Markdown description of a lab capture: capinfos figures, tshark
protocol hierarchy, host table from topology.json and the labelled phases.

    python3 lab/describe.py NAME CAPTURE TOPOLOGY.json [LABELS.json] [--cmd "command"]
"""

import argparse
import datetime
import json
import subprocess


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, check=True).stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("name")
    p.add_argument("capture")
    p.add_argument("topology")
    p.add_argument("labels", nargs="?")
    p.add_argument("--cmd", default="")
    a = p.parse_args()
    info = {}
    for line in run("capinfos", "-M", "-c", "-u", "-a", "-e", "-s", "-d", a.capture).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            info[k.strip()] = v.strip()
    print(f"## {a.name}\n")
    if a.cmd:
        print(f"Command: `{a.cmd}`\n")
    print(f"- packets: {info.get('Number of packets')}")
    print(f"- duration: {info.get('Capture duration')}")
    print(f"- first/last packet: {info.get('First packet time')} / {info.get('Last packet time')} (UTC)")
    print(f"- file size: {info.get('File size')} (uncompressed pcap: {info.get('Data size')} of packet data)\n")
    topo = json.load(open(a.topology))
    print("| host | zone | IP | MAC | role | software |\n|---|---|---|---|---|---|")
    for h in topo["hosts"]:
        print(f"| {h['name']} | {h['zone']} | {h['ip']} | {h['mac']} | {h['role']} | {h['software']} |")
    legs = ", ".join(f"{r['ip']} {r['mac']}" for r in topo["router_legs"])
    print(f"| rtr | all | | | network | Linux router: {legs} |\n")
    if a.labels:
        phases = json.load(open(a.labels))["phases"]
        print("| phase | category | start (UTC) | length | hosts |\n|---|---|---|---|---|")
        for ph in phases:
            t = datetime.datetime.fromtimestamp(ph["start"], datetime.timezone.utc).strftime("%H:%M:%S")
            print(f"| {ph['name']} | {ph['category']} | {t} | {ph['end'] - ph['start']:.1f} s | "
                  f"{', '.join(ph['hosts'])} |")
        print()
    phs = run("tshark", "-r", a.capture, "-q", "-z", "io,phs")
    body = [l for l in phs.splitlines() if "frames:" in l]
    print("Protocol hierarchy (`tshark -q -z io,phs`):\n\n```")
    print("\n".join(body))
    print("```\n")


if __name__ == "__main__":
    main()
