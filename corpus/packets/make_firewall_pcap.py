#!/usr/bin/env python3
"""Writes firewall.pcap: packets that take every branch of corpus/c/xdp_firewall.bpf.c.

Standard library only. A classic microsecond pcap (Ethernet link type) is written by hand,
with correct IPv4 header checksums and TCP/UDP/ICMP checksums (IPv6 pseudo-header for the
IPv6 datagram). Timestamps are fixed, so the file is the same on every run:

    python3 corpus/packets/make_firewall_pcap.py [output]   # default: beside this script

corpus/packets/README.md lists the packets and the verdicts the program gives them.
"""

import os
import struct
import sys

SRC_MAC = bytes.fromhex("020000000001")
DST_MAC = bytes.fromhex("020000000002")
SRC_IP = bytes([192, 0, 2, 1])  # TEST-NET-1 (RFC 5737)
DST_IP = bytes([198, 51, 100, 7])  # TEST-NET-2
SRC_IP6 = bytes.fromhex("20010db8000000000000000000000001")  # documentation prefix (RFC 3849)
DST_IP6 = bytes.fromhex("20010db8000000000000000000000002")

ETH_P_IP, ETH_P_ARP, ETH_P_IPV6 = 0x0800, 0x0806, 0x86DD
PROTO_ICMP, PROTO_TCP, PROTO_UDP = 1, 6, 17

BASE_SECONDS = 1_700_000_000  # 2023-11-14T22:13:20Z
STEP_MICROS = 250_000


def checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ethernet(ethertype: int, payload: bytes) -> bytes:
    return DST_MAC + SRC_MAC + struct.pack("!H", ethertype) + payload


def ipv4(protocol: int, payload: bytes, options: bytes = b"", ihl: int = 0, ident: int = 1) -> bytes:
    """IPv4 header (+ options) and payload. `ihl` overrides the header length field."""
    assert len(options) % 4 == 0
    header_ihl = ihl or 5 + len(options) // 4
    total_length = 20 + len(options) + len(payload)
    header = struct.pack("!BBHHHBBH4s4s", 4 << 4 | header_ihl, 0, total_length, ident, 0x4000,
                         64, protocol, 0, SRC_IP, DST_IP) + options
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def l4_checksum(protocol: int, segment: bytes, v6: bool = False) -> int:
    if v6:
        pseudo = SRC_IP6 + DST_IP6 + struct.pack("!I3xB", len(segment), protocol)
    else:
        pseudo = SRC_IP + DST_IP + struct.pack("!xBH", protocol, len(segment))
    value = checksum(pseudo + segment)
    # UDP sends a computed 0 as 0xffff (0 means "no checksum"); TCP never gets 0 here either way.
    return value or 0xFFFF


def tcp(sport: int, dport: int, payload: bytes = b"", flags: int = 0x02, v6: bool = False) -> bytes:
    segment = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, flags, 64240, 0, 0) + payload
    value = l4_checksum(PROTO_TCP, segment, v6)
    return segment[:16] + struct.pack("!H", value) + segment[18:]


def udp(sport: int, dport: int, payload: bytes, v6: bool = False) -> bytes:
    datagram = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    value = l4_checksum(PROTO_UDP, datagram, v6)
    return datagram[:6] + struct.pack("!H", value) + datagram[8:]


def icmp_echo(ident: int, seq: int, payload: bytes) -> bytes:
    message = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    return message[:2] + struct.pack("!H", checksum(message)) + message[4:]


def arp_request() -> bytes:
    return struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, 1, SRC_MAC, SRC_IP, bytes(6), DST_IP)


def ipv6(next_header: int, payload: bytes) -> bytes:
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), next_header, 64, SRC_IP6, DST_IP6) + payload


# DNS query: id 0x1234, recursion desired, one question "example.org" type A class IN.
DNS_QUERY = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x07example\x03org\x00" + struct.pack("!HH", 1, 1)
HTTP_GET = b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n"
ROUTER_ALERT = bytes([0x94, 0x04, 0x00, 0x00])  # one 4-byte IPv4 option: ihl = 6

# (frame, what it is, expected verdict without blocked_ports entries)
PACKETS = [
    (ethernet(ETH_P_IP, ipv4(PROTO_TCP, tcp(40000, 80, HTTP_GET, flags=0x18), ident=1)),
     "IPv4 TCP to port 80 (HTTP request)", "XDP_PASS"),
    (ethernet(ETH_P_IP, ipv4(PROTO_TCP, tcp(40001, 23), ident=2)),
     "IPv4 TCP SYN to port 23 (telnet): the .rodata blocked_port", "XDP_DROP"),
    (ethernet(ETH_P_IP, ipv4(PROTO_UDP, udp(53000, 53, DNS_QUERY), ident=3)),
     "IPv4 UDP to port 53 (DNS query)", "XDP_PASS"),
    (ethernet(ETH_P_IP, ipv4(PROTO_UDP, udp(53001, 9999, b"bpfvm"), ident=4)),
     "IPv4 UDP to port 9999 (dropped once 9999 is in blocked_ports)", "XDP_PASS"),
    (ethernet(ETH_P_ARP, arp_request()), "ARP request (not IPv4)", "XDP_PASS"),
    (ethernet(ETH_P_IPV6, ipv6(PROTO_UDP, udp(53002, 53, DNS_QUERY, v6=True))),
     "IPv6 UDP to port 53 (not IPv4)", "XDP_PASS"),
    (ethernet(ETH_P_IP, ipv4(PROTO_TCP, tcp(40002, 23), options=ROUTER_ALERT, ident=5)),
     "IPv4 with a Router Alert option (ihl 6), TCP to port 23", "XDP_DROP"),
    (ethernet(ETH_P_IP, b"")[:10], "10-byte runt, shorter than an Ethernet header", "XDP_DROP"),
    (ethernet(ETH_P_IP, ipv4(PROTO_TCP, tcp(40003, 80), ident=6))[:14 + 12],
     "IPv4 cut after 12 bytes of its header", "XDP_DROP"),
    (ethernet(ETH_P_IP, ipv4(PROTO_ICMP, icmp_echo(0x42, 1, b"ping" * 8), ident=7)),
     "IPv4 ICMP echo request (neither TCP nor UDP)", "XDP_PASS"),
    (ethernet(ETH_P_IP, ipv4(PROTO_TCP, tcp(40004, 80), ihl=4, ident=8)),
     "IPv4 whose header length field says 4 words (< 5)", "XDP_DROP"),
    (ethernet(ETH_P_IP, ipv4(PROTO_TCP, tcp(40005, 80), ident=9))[:14 + 20 + 10],
     "IPv4 TCP cut after 10 bytes of the TCP header", "XDP_DROP"),
    (ethernet(ETH_P_IP, ipv4(PROTO_UDP, udp(53003, 53, DNS_QUERY), ident=10))[:14 + 20 + 4],
     "IPv4 UDP cut after 4 bytes of the UDP header", "XDP_DROP"),
]


def pcap(frames) -> bytes:
    # Classic pcap, microsecond timestamps, little-endian, snap length 65535, LINKTYPE_ETHERNET.
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for index, frame in enumerate(frames):
        micros = index * STEP_MICROS
        seconds, fraction = BASE_SECONDS + micros // 1_000_000, micros % 1_000_000
        out += struct.pack("<IIII", seconds, fraction, len(frame), len(frame)) + frame
    return out


def main() -> None:
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "firewall.pcap")
    path = sys.argv[1] if len(sys.argv) > 1 else default
    with open(path, "wb") as out:
        out.write(pcap(frame for frame, _, _ in PACKETS))
    passed = sum(verdict == "XDP_PASS" for _, _, verdict in PACKETS)
    print(f"{path}: {len(PACKETS)} packets, expected XDP_PASS {passed}, XDP_DROP {len(PACKETS) - passed}")
    for index, (frame, what, verdict) in enumerate(PACKETS, 1):
        print(f"{index:3} {len(frame):4} bytes  {verdict:9} {what}")


if __name__ == "__main__":
    main()
