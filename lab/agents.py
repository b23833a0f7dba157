#!/usr/bin/env python3
"""Plant roles for the gapwatch lab: one subcommand per device or workstation.

Every role runs inside its own network namespace (started by plant.py with
`ip netns exec`), uses real third-party protocol implementations (pymodbus,
python-snap7, c104, cpppo, asyncua, bacpypes3, dnp3py, pyftpdlib, the Python
standard library HTTP server) and is deterministic for a given --seed: process
values come from a seeded random walk, cycle times are fixed.

Roles read an optional control file (--ctl, JSON) once per cycle so that the
scenario runner can change behaviour while the plant runs (e.g. the HMI's
Modbus polling cycle during the "polling cycle change" incident).
"""

import argparse
import json
import logging
import os
import random
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

log = logging.getLogger("agent")


class Ctl:
    """Reads overrides from a JSON control file, re-read when it changes."""

    def __init__(self, path):
        self.path = path
        self.mtime = None
        self.data = {}

    def get(self, key, default):
        if self.path:
            try:
                m = os.stat(self.path).st_mtime
                if m != self.mtime:
                    with open(self.path) as f:
                        self.data = json.load(f)
                    self.mtime = m
            except (OSError, ValueError):
                pass
        return self.data.get(key, default)


def every(period_fn, fn, stop=None, first_delay=0.0):
    """Call fn at a fixed cycle (drift-free schedule); period re-read each time."""
    nxt = time.monotonic() + first_delay
    while stop is None or not stop.is_set():
        now = time.monotonic()
        if nxt > now:
            time.sleep(nxt - now)
        try:
            fn()
        except Exception as e:  # a failed poll must not end the poller
            log.warning("%s: %s", getattr(fn, "__name__", "task"), e)
        period = period_fn()
        nxt += period
        if nxt < time.monotonic() - period:
            nxt = time.monotonic() + period


def forever():
    while True:
        time.sleep(3600)


# --------------------------------------------------------------------------
# Field devices (servers)
# --------------------------------------------------------------------------


def modbus_server(a):
    """PLC-1: pymodbus TCP server, tank process in holding/input registers."""
    import asyncio

    from pymodbus.datastore import (
        ModbusSequentialDataBlock,
        ModbusServerContext,
        ModbusSlaveContext,
    )
    from pymodbus.device import ModbusDeviceIdentification
    from pymodbus.server import StartAsyncTcpServer

    rnd = random.Random(a.seed)
    store = ModbusSlaveContext(
        di=ModbusSequentialDataBlock(0, [0] * 64),
        co=ModbusSequentialDataBlock(0, [0] * 64),
        hr=ModbusSequentialDataBlock(0, [0] * 128),
        ir=ModbusSequentialDataBlock(0, [0] * 64),
    )
    ctx = ModbusServerContext(slaves=store, single=True)
    ident = ModbusDeviceIdentification(
        info_name={
            "VendorName": "Schneider Electric",
            "ProductCode": "TM221CE16R",
            "VendorUrl": "",
            "ProductName": "Modicon M221 (gapwatch lab, pymodbus)",
            "ModelName": "M221",
            "MajorMinorRevision": "1.6.2",
        }
    )
    store.setValues(6, 10, [500])  # level setpoint, 0.1 % units

    async def process():
        level = 480.0
        while True:
            sp = store.getValues(3, 10, 1)[0]
            level += (sp - level) * 0.05 + rnd.uniform(-3, 3)
            flow = 120 + rnd.randint(-5, 5)
            store.setValues(3, 0, [int(level) & 0xFFFF, flow, 200 + rnd.randint(-2, 2), 1])
            store.setValues(4, 0, [int(level) & 0xFFFF, flow])
            store.setValues(1, 0, [1, 0, 1, 1])
            await asyncio.sleep(0.5)

    async def main():
        asyncio.get_running_loop().create_task(process())
        await StartAsyncTcpServer(context=ctx, identity=ident, address=(a.bind, 502))

    asyncio.run(main())


def s7_server(a):
    """PLC-2: python-snap7 S7 server with DB1 and process image areas."""
    import snap7
    from snap7.server import Server, SrvArea

    rnd = random.Random(a.seed)
    srv = Server(log=False)
    db1 = bytearray(64)
    pe = bytearray(16)
    pa = bytearray(16)
    mk = bytearray(32)
    srv.register_area(SrvArea.DB, 1, db1)
    srv.register_area(SrvArea.PE, 0, pe)
    srv.register_area(SrvArea.PA, 0, pa)
    srv.register_area(SrvArea.MK, 0, mk)
    srv.start(tcp_port=102)
    temp = 65.0
    while True:
        temp += rnd.uniform(-0.4, 0.4) + (65.0 - temp) * 0.05
        struct.pack_into(">f", db1, 0, temp)
        struct.pack_into(">f", db1, 4, 1450.0 + rnd.uniform(-10, 10))
        struct.pack_into(">H", db1, 8, rnd.randint(0, 3))
        pe[0] = rnd.randint(0, 255)
        time.sleep(0.5)
    del snap7


def iec104_server(a):
    """RTU-1: c104 IEC 60870-5-104 server with measured values and a setpoint."""
    import c104

    rnd = random.Random(a.seed)
    srv = c104.Server(ip=a.bind, port=2404)
    st = srv.add_station(common_address=1)
    pts = [
        st.add_point(io_address=1000 + i, type=c104.Type.M_ME_NC_1, report_ms=a.report_ms)
        for i in range(4)
    ]
    sp = st.add_point(io_address=2000, type=c104.Type.M_SP_NA_1)
    st.add_point(io_address=5000, type=c104.Type.C_SE_NC_1)
    srv.start()
    base = [230.0, 50.0, 11.2, 0.95]
    while True:
        for p, b in zip(pts, base):
            p.value = b + rnd.uniform(-0.5, 0.5) * (b / 100)
        sp.value = True
        time.sleep(1.0)


def enip_server(a):
    """PLC-3: cpppo EtherNet/IP (CIP) server with a few tags."""
    os.execv(
        sys.executable,
        [
            sys.executable,
            "-m",
            "cpppo.server.enip",
            "--no-config",
            "--address",
            f"{a.bind}:44818",
            "Pressure=REAL[8]",
            "Speed=INT[8]",
            "Running=BOOL[4]",
        ],
    )


def bacnet_device(a):
    """BMS-1: bacpypes3 BACnet/IP device with analog values."""
    import asyncio

    from bacpypes3.app import Application
    from bacpypes3.argparse import SimpleArgumentParser
    from bacpypes3.local.analog import AnalogValueObject

    rnd = random.Random(a.seed)
    args = SimpleArgumentParser().parse_args(
        ["--name", a.name, "--instance", str(a.instance), "--address", a.address]
    )

    async def main():
        app = Application.from_args(args)
        objs = []
        for i, (nm, v) in enumerate([("supply-air-temp", 18.0), ("return-air-temp", 24.0)]):
            o = AnalogValueObject(
                objectIdentifier=("analog-value", i + 1),
                objectName=nm,
                presentValue=v,
                statusFlags=[0, 0, 0, 0],
                covIncrement=1.0,
                units="degrees-celsius",
            )
            app.add_object(o)
            objs.append(o)
        while True:
            for o in objs:
                o.presentValue = float(o.presentValue) + rnd.uniform(-0.1, 0.1)
            await asyncio.sleep(2)

    asyncio.run(main())


def dnp3_outstation(a):
    """RTU-2: dnp3py DNP3 outstation over TCP 20000."""
    import asyncio

    from dnp3.database.database import Database
    from dnp3.outstation.config import OutstationConfig
    from dnp3.outstation.outstation import Outstation
    from dnp3.outstation.tcp_runner import OutstationTcpRunner

    rnd = random.Random(a.seed)

    async def main():
        db = Database()
        for i in range(4):
            db.add_analog_input(i)
            db.add_binary_input(i)
        db.add_counter(0)
        out = Outstation(config=OutstationConfig(address=a.address), database=db)
        runner = OutstationTcpRunner(outstation=out, host=a.bind, port=20000)
        task = asyncio.create_task(runner.run())
        n = 0
        while True:
            for i in range(4):
                db.update_analog_input(i, 100.0 + i * 10 + rnd.uniform(-1, 1))
            n += 1
            db.update_counter(0, n)
            await asyncio.sleep(1)
        await task

    asyncio.run(main())


def opcua_server(a):
    """SCADA server: asyncua OPC UA server fed by its own Modbus poll of PLC-1."""
    import asyncio

    from asyncua import Server
    from pymodbus.client import ModbusTcpClient

    async def main():
        srv = Server()
        await srv.init()
        srv.set_endpoint(f"opc.tcp://{a.bind}:4840/gapwatch/")
        srv.set_server_name("gapwatch lab SCADA (asyncua)")
        idx = await srv.register_namespace("urn:gapwatch:lab")
        obj = await srv.nodes.objects.add_object(idx, "Plant")
        level = await obj.add_variable(idx, "TankLevel", 0.0)
        flow = await obj.add_variable(idx, "Flow", 0.0)
        mb = ModbusTcpClient(a.plc, port=502, timeout=2)
        async with srv:
            while True:
                try:
                    if not mb.connected:
                        mb.connect()
                    r = mb.read_holding_registers(0, count=4, slave=1)
                    if not r.isError():
                        await level.write_value(r.registers[0] / 10.0)
                        await flow.write_value(float(r.registers[1]))
                except Exception as e:
                    log.warning("scada modbus: %s", e)
                    mb.close()
                await asyncio.sleep(a.cycle)

    asyncio.run(main())


# --------------------------------------------------------------------------
# Supervisory clients
# --------------------------------------------------------------------------


class ModbusPoller:
    def __init__(self, host, unit=1):
        from pymodbus.client import ModbusTcpClient

        self.c = ModbusTcpClient(host, port=502, timeout=2, retries=0)
        self.unit = unit

    def ensure(self):
        if not self.c.connected:
            self.c.connect()

    def read(self, addr=0, count=4):
        self.ensure()
        r = self.c.read_holding_registers(addr, count=count, slave=self.unit)
        if r.isError():
            raise RuntimeError(str(r))
        return r.registers

    def write(self, addr, value):
        self.ensure()
        return self.c.write_register(addr, value, slave=self.unit)


class S7Poller:
    def __init__(self, host):
        import snap7

        self.host = host
        self.c = snap7.client.Client()

    def ensure(self):
        if not self.c.get_connected():
            self.c.connect(self.host, 0, 1)

    def read(self):
        try:
            self.ensure()
            return self.c.db_read(1, 0, 10)
        except Exception:
            try:
                self.c.disconnect()
            except Exception:
                pass
            raise


def hmi(a):
    """HMI: polls every field device at fixed cycles; operator writes a setpoint."""
    ctl = Ctl(a.ctl)
    rnd = random.Random(a.seed)
    threads = []

    def spawn(fn, period_key, default, delay):
        t = threading.Thread(
            target=every, args=(lambda: float(ctl.get(period_key, default)), fn), kwargs={"first_delay": delay}, daemon=True
        )
        t.start()
        threads.append(t)

    mb = ModbusPoller(a.plc1)
    # One thread owns the Modbus connection: it polls every cycle and writes the
    # operator setpoint when due, or at once when the control file asks for it.
    sp = {"next": time.monotonic() + 5.0, "token": None}

    def poll_modbus():
        mb.read(0, 4)
        token = ctl.get("setpoint_token", None)
        now = time.monotonic()
        if token != sp["token"] or now >= sp["next"]:
            v = int(ctl.get("setpoint_value", 0)) or rnd.randint(480, 520)
            mb.write(10, v)
            sp["token"] = token
            sp["next"] = now + float(ctl.get("setpoint_cycle", a.setpoint_cycle))

    spawn(poll_modbus, "modbus_cycle", a.cycle, 0.1)

    s7 = S7Poller(a.plc2)
    spawn(lambda: s7.read(), "s7_cycle", a.cycle, 0.3)

    if a.plc3:
        from cpppo.server.enip import client as enip_client

        state = {"conn": None}

        def poll_enip():
            if state["conn"] is None:
                state["conn"] = enip_client.connector(host=a.plc3, port=44818, timeout=3)
            ops = enip_client.parse_operations(["Pressure[0-3]", "Speed[0-1]"])
            try:
                with state["conn"]:
                    for _ in state["conn"].pipeline(operations=ops, depth=1):
                        pass
            except Exception:
                try:
                    state["conn"].close_gateway()
                except Exception:
                    pass
                state["conn"] = None
                raise

        spawn(poll_enip, "enip_cycle", a.cycle * 2, 0.5)

    if a.rtu1:
        import c104

        cl = c104.Client()
        conn = cl.add_connection(ip=a.rtu1, port=2404, init=c104.Init.ALL)
        conn.add_station(common_address=1)
        cl.start()

        def gi():
            if conn.is_connected:
                conn.interrogation(common_address=1)

        spawn(gi, "iec104_gi_cycle", a.gi_cycle, 7.0)

    if a.rtu2:
        import asyncio

        def dnp3_thread():
            from dnp3.master.master import Master
            from dnp3.master.tcp_runner import MasterTcpRunner

            async def run():
                while True:
                    try:
                        runner = MasterTcpRunner(master=Master(), host=a.rtu2, port=20000)
                        await runner.open()
                        try:
                            while True:
                                await runner.integrity_poll()
                                await asyncio.sleep(float(ctl.get("dnp3_cycle", a.cycle * 5)))
                        finally:
                            await runner.close()
                    except Exception as e:
                        log.warning("dnp3: %s", e)
                        await asyncio.sleep(5)

            asyncio.run(run())

        threading.Thread(target=dnp3_thread, daemon=True).start()

    if a.bms:
        bacnet_client_thread(a, ctl)

    forever()


def bacnet_client_thread(a, ctl):
    import asyncio

    def run_thread():
        from bacpypes3.app import Application
        from bacpypes3.argparse import SimpleArgumentParser
        from bacpypes3.pdu import Address
        from bacpypes3.primitivedata import ObjectIdentifier

        args = SimpleArgumentParser().parse_args(
            ["--name", "hmi1", "--instance", "2010", "--address", a.bacnet_address]
        )

        async def run():
            app = Application.from_args(args)
            await asyncio.sleep(3)
            try:
                await app.who_is(low_limit=a.bms_instance, high_limit=a.bms_instance, timeout=3)
            except Exception as e:
                log.warning("bacnet whois: %s", e)
            while True:
                for i in (1, 2):
                    try:
                        await app.read_property(
                            Address(a.bms), ObjectIdentifier(f"analog-value,{i}"), "present-value"
                        )
                    except Exception as e:
                        log.warning("bacnet read: %s", e)
                await asyncio.sleep(float(ctl.get("bacnet_cycle", a.cycle * 5)))

        asyncio.run(run())

    threading.Thread(target=run_thread, daemon=True).start()


def historian(a):
    """Historian: pulls OPC UA from the SCADA server and Modbus from PLC-1,
    replicates a batch to the DMZ web server over HTTP."""
    import urllib.request

    ctl = Ctl(a.ctl)
    mb = ModbusPoller(a.plc1)
    rows = []

    def pull():
        from asyncua.sync import Client

        with Client(f"opc.tcp://{a.scada}:4840/gapwatch/", timeout=4) as c:
            idx = c.get_namespace_index("urn:gapwatch:lab")
            lvl = c.nodes.objects.get_child([f"{idx}:Plant", f"{idx}:TankLevel"]).read_value()
        regs = mb.read(0, 4)
        rows.append(f"{time.time():.3f},{lvl},{regs[0]},{regs[1]}")

    def replicate():
        body = ("ts,level,raw_level,flow\n" + "\n".join(rows[-50:])).encode()
        rows.clear()
        req = urllib.request.Request(f"http://{a.dmz}/ingest", data=body, method="POST")
        urllib.request.urlopen(req, timeout=5).read()

    threading.Thread(
        target=every, args=(lambda: float(ctl.get("replicate_cycle", a.replicate_cycle)), replicate),
        kwargs={"first_delay": 15}, daemon=True,
    ).start()
    every(lambda: float(ctl.get("pull_cycle", a.cycle)), pull, first_delay=2)


def ews(a):
    """Engineering workstation: mostly idle; DHCP at start, then occasional
    name look-ups and S7 diagnostics reads of PLC-2."""
    ctl = Ctl(a.ctl)
    if a.dhcp_iface:
        dhcp_once(a.dhcp_iface, a.hostname)

    def occasional():
        socket.getaddrinfo(a.plc2_name, 102, socket.AF_INET)
        s7 = S7Poller(a.plc2)
        s7.ensure()
        s7.c.get_cpu_state()
        s7.c.db_read(1, 0, 16)
        s7.c.disconnect()

    every(lambda: float(ctl.get("ews_cycle", a.cycle)), occasional, first_delay=20)


def dhcp_once(iface, hostname):
    """One DHCP exchange with busybox udhcpc (address is also set statically)."""
    subprocess.run(
        ["busybox", "udhcpc", "-i", iface, "-n", "-q", "-f", "-t", "3", "-x", f"hostname:{hostname}",
         "-s", "/bin/true"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30,
    )


def itws(a):
    """IT workstation: DHCP, DNS, HTTP/HTTPS to the DMZ portal, SSH and FTP
    to the DMZ file server."""
    import ftplib
    import urllib.request

    ctl = Ctl(a.ctl)
    if a.dhcp_iface:
        dhcp_once(a.dhcp_iface, a.hostname)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    n = {"i": 0}

    def tick():
        n["i"] += 1
        i = n["i"]
        socket.getaddrinfo(a.web_name, 80, socket.AF_INET)
        urllib.request.urlopen(f"http://{a.web_name}/", timeout=5).read()
        if i % 2 == 0:
            urllib.request.urlopen(f"https://{a.web_name}/report.html", timeout=5, context=ctx).read()
        if i % 4 == 1:
            subprocess.run(
                ["ssh", "-i", a.ssh_key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                 "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", f"root@{a.files}", "true"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20,
            )
        if i % 6 == 3:
            f = ftplib.FTP(a.files, timeout=5)
            f.login("operator", "operator")
            f.retrlines("LIST", lambda _l: None)
            f.retrbinary("RETR shift-report.csv", lambda _b: None)
            f.quit()

    every(lambda: float(ctl.get("it_cycle", a.cycle)), tick, first_delay=10)


# --------------------------------------------------------------------------
# DMZ / outside services
# --------------------------------------------------------------------------


def web(a):
    """HTTP and HTTPS server (Python standard library), accepts POST uploads."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class H(BaseHTTPRequestHandler):
        server_version = a.banner
        sys_version = ""

        def do_GET(self):
            body = (f"<html><body><h1>{a.title}</h1><p>{self.path}</p></body></html>\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            left = int(self.headers.get("Content-Length", "0"))
            while left > 0:
                chunk = self.rfile.read(min(65536, left))
                if not chunk:
                    break
                left -= len(chunk)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    servers = []
    for port in a.http_ports:
        servers.append(ThreadingHTTPServer((a.bind, port), H))
    if a.cert:
        for port in a.https_ports:
            s = ThreadingHTTPServer((a.bind, port), H)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(a.cert, a.key)
            s.socket = ctx.wrap_socket(s.socket, server_side=True)
            servers.append(s)
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    servers[0].serve_forever()


def ftp(a):
    """FTP share (pyftpdlib) with a user and a few files."""
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import FTPServer

    os.makedirs(a.root, exist_ok=True)
    with open(os.path.join(a.root, "shift-report.csv"), "w") as f:
        r = random.Random(a.seed)
        for i in range(200):
            f.write(f"{i},{r.uniform(40, 60):.2f},{r.uniform(100, 140):.1f}\n")
    auth = DummyAuthorizer()
    auth.add_user("operator", "operator", a.root, perm="elradfmw")
    FTPHandler.authorizer = auth
    FTPHandler.banner = "FTP share ready"
    FTPHandler.passive_ports = range(30000, 30010)
    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    FTPServer((a.bind, 21), FTPHandler).serve_forever()


def smb(a):
    """SMB2 file share (impacket's SimpleSMBServer) with one writable share, UPDATES, for
    the user `operator` with an empty password."""
    from impacket import smbserver

    os.makedirs(a.root, exist_ok=True)
    server = smbserver.SimpleSMBServer(listenAddress=a.bind, listenPort=445)
    server.addShare("UPDATES", a.root, "vendor updates")
    server.setSMB2Support(True)
    # NT hash of the empty password (LM hash unused).
    server.addCredential("operator", 1000, "aad3b435b51404eeaad3b435b51404ee",
                         "31d6cfe0d16ae931b73c59d7e0c089c0")
    server.start()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--ctl")
    sub = p.add_subparsers(dest="role", required=True)

    s = sub.add_parser("modbus-server")
    s.add_argument("--bind", default="0.0.0.0")
    s = sub.add_parser("s7-server")
    s = sub.add_parser("iec104-server")
    s.add_argument("--bind", default="0.0.0.0")
    s.add_argument("--report-ms", type=int, default=5000)
    s = sub.add_parser("enip-server")
    s.add_argument("--bind", default="0.0.0.0")
    s = sub.add_parser("bacnet-device")
    s.add_argument("--name", default="bms1")
    s.add_argument("--instance", type=int, default=1015)
    s.add_argument("--address", required=True)
    s = sub.add_parser("dnp3-outstation")
    s.add_argument("--bind", default="0.0.0.0")
    s.add_argument("--address", type=int, default=10)
    s = sub.add_parser("opcua-server")
    s.add_argument("--bind", default="0.0.0.0")
    s.add_argument("--plc", required=True)
    s.add_argument("--cycle", type=float, default=5.0)
    s = sub.add_parser("hmi")
    s.add_argument("--plc1", required=True)
    s.add_argument("--plc2", required=True)
    s.add_argument("--plc3")
    s.add_argument("--rtu1")
    s.add_argument("--rtu2")
    s.add_argument("--bms")
    s.add_argument("--bms-instance", type=int, default=1015)
    s.add_argument("--bacnet-address")
    s.add_argument("--cycle", type=float, default=1.0)
    s.add_argument("--gi-cycle", type=float, default=60.0)
    s.add_argument("--setpoint-cycle", type=float, default=60.0)
    s = sub.add_parser("historian")
    s.add_argument("--plc1", required=True)
    s.add_argument("--scada", required=True)
    s.add_argument("--dmz", required=True)
    s.add_argument("--cycle", type=float, default=10.0)
    s.add_argument("--replicate-cycle", type=float, default=60.0)
    s = sub.add_parser("ews")
    s.add_argument("--plc2", required=True)
    s.add_argument("--plc2-name", required=True)
    s.add_argument("--dhcp-iface")
    s.add_argument("--hostname", default="ews1")
    s.add_argument("--cycle", type=float, default=300.0)
    s = sub.add_parser("itws")
    s.add_argument("--web-name", required=True)
    s.add_argument("--files", required=True)
    s.add_argument("--ssh-key", required=True)
    s.add_argument("--dhcp-iface")
    s.add_argument("--hostname", default="itws1")
    s.add_argument("--cycle", type=float, default=30.0)
    s = sub.add_parser("web")
    s.add_argument("--bind", default="0.0.0.0")
    s.add_argument("--http-ports", type=int, nargs="*", default=[80])
    s.add_argument("--https-ports", type=int, nargs="*", default=[443])
    s.add_argument("--cert")
    s.add_argument("--key")
    s.add_argument("--banner", default="nginx")
    s.add_argument("--title", default="Plant portal")
    s = sub.add_parser("ftp")
    s.add_argument("--bind", default="0.0.0.0")
    s.add_argument("--root", required=True)
    s = sub.add_parser("smb")
    s.add_argument("--bind", default="0.0.0.0")
    s.add_argument("--root", required=True)

    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING, format=f"%(asctime)s {a.role} %(levelname)s %(message)s")
    fn = {
        "modbus-server": modbus_server,
        "s7-server": s7_server,
        "iec104-server": iec104_server,
        "enip-server": enip_server,
        "bacnet-device": bacnet_device,
        "dnp3-outstation": dnp3_outstation,
        "opcua-server": opcua_server,
        "hmi": hmi,
        "historian": historian,
        "ews": ews,
        "itws": itws,
        "web": web,
        "ftp": ftp,
        "smb": smb,
    }[a.role]
    fn(a)


if __name__ == "__main__":
    main()
