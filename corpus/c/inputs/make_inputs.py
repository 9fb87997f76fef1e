#!/usr/bin/env python3
"""Writes the binary run inputs of the corpus programs that need more than a --packet line:

    python3 corpus/c/inputs/make_inputs.py [output directory]   # default: beside this script

Standard library only, fixed timestamps: the files are the same on every run.
  - lb.pcap (xdp_lb.bpf.c): static and dynamic VIPs, VLAN and QinQ tags, IPv6 extension
    headers and fragments, ICMP echo to a VIP, a truncated frame;
  - acl.pcap (xdp_acl.bpf.c): one frame per branch of the protocol switch and per ACL rule;
  - *.tp: tracepoint records (the common header, then the fields of
    /sys/kernel/tracing/events/syscalls/<event>/format);
  - *.pt_regs: x86-64 struct pt_regs (21 u64 registers) for kprobes: PARM1 is rdi, PARM2 rsi,
    PARM3 rdx, the return value rax.
The JSON map inputs beside them are written by hand, except lb_rings.json (written here).
Checksums (IPv4 header, TCP/UDP with the pseudo-header, ICMP) of complete packets are correct.
"""

import ipaddress
import json
import os
import struct
import sys

# --- packets ---------------------------------------------------------------------------------


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(proto, dst="020000000002", src="020000000001"):
    return bytes.fromhex(dst) + bytes.fromhex(src) + struct.pack("!H", proto)


def vlan(tci, proto):
    return struct.pack("!HH", tci, proto)


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ip6(a):
    return ipaddress.IPv6Address(a).packed


def ipv4(proto, src, dst, payload, ttl=64, options=b"", frag=0):
    ihl = 5 + len(options) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(options) + len(payload), 1, frag, ttl, proto, 0,
                    ip4(src), ip4(dst)) + options
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def ipv6(nxt, src, dst, payload, hlim=64):
    return struct.pack("!IHBB", 0x60000000, len(payload), nxt, hlim) + ip6(src) + ip6(dst) + payload


def l4sum(proto, src, dst, seg, v6):
    if v6:
        pseudo = ip6(src) + ip6(dst) + struct.pack("!IxxxB", len(seg), proto)
    else:
        pseudo = ip4(src) + ip4(dst) + struct.pack("!xBH", proto, len(seg))
    return csum(pseudo + seg)


def tcp(sport, dport, flags=0x02, src=None, dst=None, v6=False):
    seg = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, flags, 64240, 0, 0)
    if src is not None:
        seg = seg[:16] + struct.pack("!H", l4sum(6, src, dst, seg, v6)) + seg[18:]
    return seg


def udp(sport, dport, payload=b"", src=None, dst=None, v6=False):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if src is not None:
        seg = seg[:6] + struct.pack("!H", l4sum(17, src, dst, seg, v6) or 0xFFFF) + seg[8:]
    return seg


def icmp4(kind, body):
    m = bytes([kind, 0, 0, 0]) + b"\x00\x01\x00\x01" + body
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1_700_000_000 + i, 0, len(frame), len(frame)))
            f.write(frame)


def lb_frames():
    a6, b6 = "2001:db8::1", "2001:db8::2"
    v4tcp = eth(0x800) + ipv4(6, "10.0.0.1", "10.0.0.2", tcp(40000, 80, src="10.0.0.1", dst="10.0.0.2"))
    v4udp53 = eth(0x800) + ipv4(17, "10.0.0.2", "10.0.0.1",
                                udp(5353, 53, b"\x5a" * 29, src="10.0.0.2", dst="10.0.0.1"))
    v6tcp = eth(0x86DD) + ipv6(6, a6, b6, tcp(40002, 443, src=a6, dst=b6, v6=True))
    echo = bytes([8, 0, 0, 0, 0x12, 0x34, 0, 1]) + b"a" * 32
    echo = echo[:2] + struct.pack("!H", csum(echo)) + echo[4:]
    icmp = eth(0x800) + ipv4(1, "10.0.0.1", "10.0.0.2", echo)
    vlan100 = eth(0x8100) + vlan(100, 0x800) + ipv4(6, "10.0.0.7", "10.0.0.2",
                                                      tcp(40001, 80, src="10.0.0.7", dst="10.0.0.2"))
    qinq = eth(0x88A8) + vlan(10, 0x8100) + vlan(100, 0x86DD) + ipv6(
        6, a6, b6, tcp(40003, 443, src=a6, dst=b6, v6=True))
    t = tcp(40004, 443, src=a6, dst=b6, v6=True)
    hop_by_hop = bytes([60, 0, 1, 4, 0, 0, 0, 0])  # next: destination options; PadN
    dest_opts = bytes([6, 1, 1, 12] + [0] * 12)  # next: TCP; 16 bytes; PadN
    v6ext = eth(0x86DD) + ipv6(0, a6, b6, hop_by_hop + dest_opts + t)
    v6frag = eth(0x86DD) + ipv6(44, a6, b6, bytes([6, 0, 0, 1, 0, 0, 0, 1]) + t)
    dyn = eth(0x800) + ipv4(6, "10.1.2.3", "10.0.0.9", tcp(51000, 8080, src="10.1.2.3", dst="10.0.0.9"))
    dynany = eth(0x800) + ipv4(6, "10.1.2.3", "10.0.0.9", tcp(51001, 22, src="10.1.2.3", dst="10.0.0.9"))
    notvip = eth(0x800) + ipv4(6, "10.0.0.1", "10.0.0.3", tcp(40000, 80, src="10.0.0.1", dst="10.0.0.3"))
    v4opts = eth(0x800) + ipv4(17, "10.0.0.2", "10.0.0.1", udp(5353, 53, b"q" * 8, src="10.0.0.2", dst="10.0.0.1"),
                               options=bytes([1, 1, 1, 0]))
    v4frag = eth(0x800) + ipv4(17, "10.0.0.2", "10.0.0.1", udp(5353, 53, b"q" * 8), frag=0x2000)
    trunc = (eth(0x800) + ipv4(6, "10.0.0.1", "10.0.0.2", tcp(40000, 80)))[:44]
    return [v4tcp, v4tcp, v4udp53, v6tcp, icmp, vlan100, qinq, v6ext, v6frag, dyn, dyn, dynany, notvip, v4opts,
            v4frag, trunc]


def acl_frames():
    a6, b6 = "2001:db8::1", "2001:db8::2"
    ndp = bytes([135, 0, 0, 0]) + bytes(20)
    frames = [eth(0x800) + ipv4(1, "10.0.0.1", "10.0.0.2", icmp4(8, b"abcdefgh")) for _ in range(3)]
    frames += [
        eth(0x800) + ipv4(1, "10.0.0.1", "10.0.0.2", icmp4(5, b"abcdefgh")),  # redirect
        eth(0x800) + ipv4(6, "10.0.0.1", "10.0.0.2", tcp(40000, 80, 0x29, "10.0.0.1", "10.0.0.2")),  # XMAS
        eth(0x800) + ipv4(6, "10.0.0.1", "10.0.0.2", tcp(40000, 80, 0x03, "10.0.0.1", "10.0.0.2")),  # SYN+FIN
        eth(0x800) + ipv4(6, "10.0.0.1", "10.0.0.2", tcp(40000, 80, 0x02, "10.0.0.1", "10.0.0.2")),  # SYN
        eth(0x800) + ipv4(17, "10.0.0.5", "10.0.0.2", udp(123, 40000, bytes(440), "10.0.0.5", "10.0.0.2")),
        eth(0x800) + ipv4(17, "10.0.0.5", "10.0.0.2", udp(123, 123, bytes(48), "10.0.0.5", "10.0.0.2")),
        eth(0x800) + ipv4(17, "10.0.0.6", "10.0.0.2", udp(1900, 5000, b"HTTP/1.1 200 OK\r\n", "10.0.0.6", "10.0.0.2")),
        eth(0x800) + ipv4(47, "10.0.0.7", "10.0.0.2", b"\x00\x00\x08\x00" + bytes(20)),  # GRE
        eth(0x800) + ipv4(253, "10.0.0.7", "10.0.0.2", bytes(8)),  # experimental protocol
        eth(0x800) + ipv4(17, "10.0.0.7", "10.0.0.2", udp(1000, 2000, b"x" * 8), frag=0x2000),
        eth(0x86DD) + ipv6(58, a6, b6, ndp, hlim=64),
        eth(0x86DD) + ipv6(58, a6, b6, ndp, hlim=255),
        eth(0x800) + ipv4(6, "10.9.1.2", "10.0.0.2", tcp(40000, 443, 0x02, "10.9.1.2", "10.0.0.2")),
        eth(0x800) + ipv4(6, "10.9.200.1", "10.0.0.2", tcp(40000, 443, 0x29, "10.9.200.1", "10.0.0.2")),
        eth(0x800) + ipv4(6, "192.168.3.4", "10.0.0.2", tcp(40000, 22, 0x02, "192.168.3.4", "10.0.0.2")),
        eth(0x800) + ipv4(6, "192.168.3.4", "10.0.0.2", tcp(40000, 80, 0x02, "192.168.3.4", "10.0.0.2")),
        eth(0x86DD) + ipv6(6, "2001:db8:bad::7", b6, tcp(40000, 443, 0x02, "2001:db8:bad::7", b6, v6=True)),
        eth(0x806) + b"\x00\x01\x08\x00\x06\x04\x00\x01" + bytes(20),  # ARP
    ]
    return frames


# --- contexts --------------------------------------------------------------------------------


def pt_regs(**regs):
    order = ["r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi",
             "orig_rax", "rip", "cs", "flags", "rsp", "ss"]
    return struct.pack("<21Q", *[regs.get(name, 0) for name in order])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))

    def write(name, data):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)

    write_pcap(os.path.join(out, "lb.pcap"), lb_frames())
    write_pcap(os.path.join(out, "acl.pcap"), acl_frames())
    rings = [{"key": 64 + i, "value": 1 + (i & 1)} for i in range(64)] + [{"key": 128 + i, "value": 3}
                                                                         for i in range(64)]
    with open(os.path.join(out, "lb_rings.json"), "w") as f:
        json.dump(rings, f)

    vfs_read = 0xFFFFFFFF816D5370
    write("vfs_read_4096.pt_regs", pt_regs(rdi=0xFFFF888012345600, rsi=0x00007FFD00001000, rdx=4096, rip=vfs_read))
    write("vfs_read_ret_4096.pt_regs", pt_regs(rax=4096, rip=vfs_read))
    # sys_enter_openat: common fields, __syscall_nr (+4 pad), dfd, filename, flags, mode.
    common_openat = struct.pack("<HBBi", 0x2A1, 0, 1, 4242)
    write("openat_rdonly.tp", common_openat + struct.pack("<iIqQQQ", 257, 0, -100, 0x7FFD12345000, 0, 0o644))
    write("openat_wronly_creat.tp",
          common_openat + struct.pack("<iIqQQQ", 257, 0, -100, 0x7FFD12345000, 0o1101, 0o644))
    # sys_enter_read: fd, buf, count; sys_exit_read: ret.
    write("read_enter_fd3.tp", struct.pack("<QiIQQQ", 0x00001092000102A0, 0, 0, 3, 0x7FFD00002000, 8192))
    write("read_exit_8192.tp", struct.pack("<QiIq", 0x00001092000102A1, 0, 0, 8192))
    # sys_enter_execve: filename, argv, envp (user pointers bpfvm cannot read); sys_exit_execve: ret.
    write("execve_enter.tp", struct.pack("<Qq6Q", 0x0000109200010300, 59, 0x55D0C0DE1000, 0x7FFC00001000,
                                         0x7FFC00002000, 0, 0, 0))
    write("execve_exit_0.tp", struct.pack("<Qqq", 0x0000109200010301, 59, 0))
    write("execve_exit_enoent.tp", struct.pack("<Qqq", 0x0000109200010301, 59, -2))


if __name__ == "__main__":
    main()
