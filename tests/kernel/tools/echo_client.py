#!/usr/bin/env python3
"""For the data path's kernel tests (datapath_test.cpp): sends SIZE bytes of log-like text to an
echo server and reads the echo back while sending, without shutting its side down until all of
it has come back: the server's socket never turns readable through an end of stream, so a server
that waits for readiness learns of bytes the preload library decoded only from the library.
Prints "intact" if the echo is byte-exact, "timed out" if it stalls for 20 s.

usage: echo_client.py ADDRESS PORT SIZE
"""
import socket
import sys
import threading

address, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
line = b"GET /api/v1/orders/4711 HTTP/1.1 200 user-agent=curl/7.88.1 bytes=5123 ms=12.5\n"
payload = (line * (size // len(line) + 1))[:size]
conn = socket.create_connection((address, port))
conn.settimeout(20)


def send_all():
    conn.sendall(payload)


writer = threading.Thread(target=send_all)
writer.start()
echoed = bytearray()
try:
    while len(echoed) < size:
        data = conn.recv(65536)
        if not data:
            break
        echoed += data
except socket.timeout:
    print(f"timed out after {len(echoed)} of {size} bytes", flush=True)
    sys.exit(1)
writer.join()
print("intact" if echoed == payload else f"DIFFERENT ({len(echoed)} of {size} bytes)", flush=True)
conn.shutdown(socket.SHUT_WR)
conn.close()
