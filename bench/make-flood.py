#!/usr/bin/env python3
"""Writes a flood capture: N TCP SYNs from random addresses and ports to random servers,
1 microsecond apart, so every one opens a new flow and all are open at once.

    usage: make-flood.py OUT.pcap [N]      (default 1,000,000 packets, about 78 MB)

Used to measure memory with a full flow table (`/usr/bin/time -v gapwatch analyze`).
Deterministic: the same N gives the same file.
"""
import random
import struct
import sys


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main() -> None:
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    rng = random.Random(1)
    src_mac = bytes.fromhex("001b1b000001")
    dst_mac = bytes.fromhex("0080f4000002")
    t0 = 1_764_300_000
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            src = struct.pack("!I", 0x0A000000 | rng.getrandbits(24))
            dst = struct.pack("!I", 0xAC100000 | rng.getrandbits(16))
            sport, dport = rng.randrange(1024, 65536), rng.choice((502, 102, 44818, 20000, 2404))
            tcp = struct.pack("!HHIIBBHHH", sport, dport, rng.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xFFFF, 0, 64, 6, 0, src, dst)
            ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
            frame = dst_mac + src_mac + b"\x08\x00" + ip + tcp
            ts = t0 * 1_000_000 + i
            f.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(frame), len(frame)))
            f.write(frame)


if __name__ == "__main__":
    main()
