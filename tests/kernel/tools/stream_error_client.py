#!/usr/bin/env python3
"""For the data path's kernel tests (datapath_test.cpp): reads from each BAD_PORT (servers that
send a broken compressed stream) and prints how the read ended, then echoes 1 MiB through the
server at GOOD_PORT on the same process and prints whether it came back intact: a broken
stream must end only its own connection.

usage: stream_error_client.py ADDRESS GOOD_PORT BAD_PORT...
"""
import errno
import socket
import sys

address, good_port, bad_ports = sys.argv[1], int(sys.argv[2]), [int(p) for p in sys.argv[3:]]

for port in bad_ports:
    bad = socket.create_connection((address, port))
    received = 0
    try:
        while True:
            data = bad.recv(65536)
            if not data:
                print(f"bad {port}: end of stream after {received} bytes", flush=True)
                break
            received += len(data)
    except OSError as e:
        print(f"bad {port}: {errno.errorcode.get(e.errno, e.errno)} after {received} bytes", flush=True)
    bad.close()

payload = bytes(range(256)) * 4096
good = socket.create_connection((address, good_port))
good.sendall(payload)
good.shutdown(socket.SHUT_WR)
echoed = bytearray()
while True:
    data = good.recv(65536)
    if not data:
        break
    echoed += data
print(f"good: {'intact' if echoed == payload else 'DIFFERENT'} ({len(echoed)} bytes)", flush=True)
