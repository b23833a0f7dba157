#!/usr/bin/env python3
"""Tests of the bundled lab captures and the lab's checkers (no root needed; tshark and
capinfos required, skipped with a message when absent).

    python3 -m unittest lab/test_lab.py -v
"""

import copy
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CAPS = os.path.join(HERE, "captures")
sys.path.insert(0, HERE)

import check  # noqa: E402
import plant  # noqa: E402

HAVE_TSHARK = shutil.which("tshark") is not None and shutil.which("capinfos") is not None
CATEGORIES = {"new_device", "new_connection", "scan", "unusual_operation", "plc_control", "value_anomaly",
              "timing_anomaly", "volume_anomaly", "external_connection", "dns_external", "it_ot_crossing",
              "beaconing", "exfiltration", "lateral_movement", "remote_access", "file_transfer", "protocol_anomaly"}


def capinfos(path, flag):
    out = subprocess.run(["capinfos", "-M", flag, path], capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-1].split(":", 1)[1].strip()


def topo(name):
    with open(os.path.join(CAPS, f"{name}.topology.json")) as f:
        return json.load(f)


class Topology(unittest.TestCase):
    def test_bundled_topologies_match_the_plant(self):
        # The committed host tables are what plant.py builds today.
        live = plant.topology()
        for name in ("smoke", "normal", "incidents", "airgap", "smb"):
            t = topo(name)
            self.assertEqual([(h["name"], h["ip"], h["mac"], h["role"]) for h in t["hosts"]],
                             [(h["name"], h["ip"], h["mac"], h["role"]) for h in live["hosts"]], name)
            self.assertEqual(t["router_legs"], live["router_legs"], name)

    def test_addresses_unique_and_in_zone(self):
        t = plant.topology()
        macs = [h["mac"] for h in t["hosts"]] + [r["mac"] for r in t["router_legs"]]
        ips = [h["ip"] for h in t["hosts"]] + [r["ip"] for r in t["router_legs"]]
        self.assertEqual(len(macs), len(set(macs)))
        self.assertEqual(len(ips), len(set(ips)))
        nets = {z["zone"]: z["subnet"].rsplit(".", 1)[0] for z in t["zones"]}
        for h in t["hosts"]:
            self.assertTrue(h["ip"].startswith(nets[h["zone"]] + "."), h)
        self.assertEqual(len(t["hosts"]), 16)


@unittest.skipUnless(HAVE_TSHARK, "tshark/capinfos not installed")
class Captures(unittest.TestCase):
    def test_sizes_within_budget(self):
        total = sum(os.path.getsize(os.path.join(CAPS, f)) for f in os.listdir(CAPS))
        self.assertLess(total, 15 * 1024 * 1024)
        self.assertLess(os.path.getsize(os.path.join(CAPS, "smoke.pcap")), 1024 * 1024)

    def test_packet_counts(self):
        # capinfos -M -c lab/captures/<file>
        self.assertEqual(capinfos(os.path.join(CAPS, "smoke.pcap"), "-c"), "4115")
        self.assertEqual(capinfos(os.path.join(CAPS, "normal.pcap.gz"), "-c"), "83297")
        self.assertEqual(capinfos(os.path.join(CAPS, "incidents.pcap.gz"), "-c"), "72113")
        self.assertEqual(capinfos(os.path.join(CAPS, "airgap.pcap.gz"), "-c"), "34013")
        self.assertEqual(capinfos(os.path.join(CAPS, "smb.pcap.gz"), "-c"), "6297")

    def test_smoke_matches_topology(self):
        errors, _ = check.check_capture(os.path.join(CAPS, "smoke.pcap"), topo("smoke"))
        self.assertEqual(errors, [])

    def test_normal_matches_topology(self):
        errors, _ = check.check_capture(os.path.join(CAPS, "normal.pcap.gz"), topo("normal"))
        self.assertEqual(errors, [])

    def test_check_detects_a_wrong_mac(self):
        t = copy.deepcopy(topo("smoke"))
        t["hosts"][0]["mac"] = "00:80:f4:01:01:99"
        errors, _ = check.check_capture(os.path.join(CAPS, "smoke.pcap"), t)
        self.assertIn("host plc1 (10.10.1.11 00:80:f4:01:01:99) never sends in the capture", errors)
        self.assertTrue(any(e.startswith("unexpected source 10.10.1.11 from 00:80:f4:01:01:0b") for e in errors))

    def test_labels_format_and_times(self):
        with open(os.path.join(CAPS, "incidents.labels.json")) as f:
            phases = json.load(f)["phases"]
        self.assertEqual(len(phases), 11)
        with tempfile.TemporaryDirectory() as d:
            pcap = os.path.join(d, "i.pcap")
            with gzip.open(os.path.join(CAPS, "incidents.pcap.gz")) as src, open(pcap, "wb") as dst:
                shutil.copyfileobj(src, dst)
            out = subprocess.run(["capinfos", "-M", "-a", "-e", "-S", pcap], capture_output=True, text=True,
                                 check=True).stdout
            times = [float(line.split(":", 1)[1].split()[0]) for line in out.splitlines()
                     if line.startswith(("First packet time", "Last packet time"))]
            for ph in phases:
                self.assertIn(ph["category"], CATEGORIES)
                self.assertLessEqual(ph["start"], ph["end"])
                self.assertGreater(ph["start"], times[0] + 590)  # after the 600 s warm-up
                self.assertLess(ph["end"], times[1])
                self.assertTrue(ph["hosts"])
            # Evidence of three phases in the packets themselves.
            rogue = subprocess.run(["tshark", "-r", pcap, "-Y", "eth.src==b8:27:eb:66:66:66"],
                                   capture_output=True, text=True).stdout.count("\n")
            self.assertEqual(rogue, 93)  # tshark -r incidents.pcap -Y 'eth.src==b8:27:eb:66:66:66' | wc -l
            stop = subprocess.run(["tshark", "-r", pcap, "-Y", "ip.src==10.10.2.40 && s7comm.param.func==0x29"],
                                  capture_output=True, text=True).stdout.count("\n")
            self.assertEqual(stop, 1)  # one S7 PLC STOP request from the EWS
            beacons = subprocess.run(["tshark", "-r", pcap, "-Y", "http.request && tcp.dstport==8080"],
                                     capture_output=True, text=True).stdout.count("\n")
            self.assertEqual(beacons, 12)

    def test_airgap_labels_and_evidence(self):
        with open(os.path.join(CAPS, "airgap.labels.json")) as f:
            phases = json.load(f)["phases"]
        self.assertEqual([p["category"] for p in phases],
                         ["external_connection", "dns_external", "it_ot_crossing", "it_ot_crossing",
                          "it_ot_crossing", "remote_access", "file_transfer", "file_transfer"])
        with tempfile.TemporaryDirectory() as d:
            pcap = os.path.join(d, "a.pcap")
            with gzip.open(os.path.join(CAPS, "airgap.pcap.gz")) as src, open(pcap, "wb") as dst:
                shutil.copyfileobj(src, dst)
            out = subprocess.run(["capinfos", "-M", "-a", "-e", "-S", pcap], capture_output=True, text=True,
                                 check=True).stdout
            times = [float(line.split(":", 1)[1].split()[0]) for line in out.splitlines()
                     if line.startswith(("First packet time", "Last packet time"))]
            for ph in phases:
                self.assertGreater(ph["start"], times[0] + 590)  # after the 600 s warm-up
                self.assertLess(ph["end"], times[1])

            def count(flt):
                return subprocess.run(["tshark", "-r", pcap, "-Y", flt], capture_output=True,
                                      text=True).stdout.count("\n")

            # Unanswered SYNs to the empty outside address: 3 attempts x 3 tries x 2 segments.
            self.assertEqual(count("tcp.flags.syn==1 && tcp.flags.ack==0 && ip.dst==203.0.113.77"), 18)
            # The dual-homed laptop's cell-side MAC carrying IT hosts' packets (TTL 63).
            self.assertEqual(count("eth.src==00:1b:21:77:01:4d && ip.src==10.10.4.0/24 && ip.ttl==63"), 18)
            self.assertEqual(count('dhcp.option.vendor_class_id == "ciscopnp"'), 3)
            self.assertEqual(count('ftp.request.command=="STOR"'), 2)
            self.assertEqual(count("vnc"), 39)


class AssetCheck(unittest.TestCase):
    def records(self, t, drop=None, ip_override=None):
        lines = []
        for h in t["hosts"]:
            if h["name"] == drop:
                continue
            ip = ip_override if ip_override and h["name"] == "plc2" else h["ip"]
            lines.append({"kind": "asset", "id": f"mac:{h['mac']}", "mac": h["mac"], "ips": [ip], "role": h["role"]})
        ip = {h["name"]: h["ip"] for h in t["hosts"]}
        for server, port in check.HMI_FLOWS:
            lines.append({"kind": "flow", "src_ip": ip["hmi1"], "dst_ip": ip[server], "dst_port": port})
        return "\n".join(json.dumps(x) for x in lines) + "\n"

    def run_check(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write(text)
        try:
            return check.check_assets(f.name, plant.topology())[0]
        finally:
            os.unlink(f.name)

    def test_complete_records_pass(self):
        self.assertEqual(self.run_check(self.records(plant.topology())), [])

    def test_missing_hmi_fails(self):
        errors = self.run_check(self.records(plant.topology(), drop="hmi1"))
        self.assertIn("hmi1 (hmi): no asset with MAC 00:14:22:01:02:0a", errors)

    def test_wrong_ip_fails(self):
        errors = self.run_check(self.records(plant.topology(), ip_override="10.10.1.99"))
        self.assertEqual(len(errors), 1)
        self.assertTrue(errors[0].startswith("plc2: asset 00:1b:1b:01:01:0c has IPs"))


if __name__ == "__main__":
    unittest.main()
