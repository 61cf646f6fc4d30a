#!/usr/bin/env python3
"""For the data path's kernel tests (datapath_test.cpp): moves a connection to another
descriptor number the way daemons and shells do (dup2, then close the original), lets a new
socket take the old number, and echoes 2 MiB through the moved descriptor with os.write/os.read.
Prints "intact" if the echo is byte-exact.

usage: dup_client.py ADDRESS PORT
"""
import os
import socket
import sys

address, port = sys.argv[1], int(sys.argv[2])
conn = socket.create_connection((address, port))
original = conn.detach()
moved = 50
os.dup2(original, moved)
os.close(original)
newcomer = socket.socket()  # takes the freed number: must not be taken for the connection
print(f"moved {original} -> {moved}; new socket at {newcomer.fileno()}", flush=True)

payload = bytes(range(256)) * 2048 + b"log line with words " * 78643
sent = 0
while sent < len(payload):
    sent += os.write(moved, payload[sent:sent + 100000])
half = socket.socket(fileno=os.dup(moved))  # a third descriptor, only to shut down writing
half.shutdown(socket.SHUT_WR)
half.close()
echoed = bytearray()
while True:
    data = os.read(moved, 65536)
    if not data:
        break
    echoed += data
print("intact" if echoed == payload else f"DIFFERENT ({len(echoed)} of {len(payload)} bytes)", flush=True)
