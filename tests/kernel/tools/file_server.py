#!/usr/bin/env python3
"""For the data path's kernel tests (datapath_test.cpp): serves FILE to one client with
socket.sendfile() (sendfile(2)) or through a pipe with os.splice() (splice(2)), then closes.

usage: file_server.py ADDRESS PORT FILE sendfile|splice
"""
import os
import socket
import sys
import threading

address, port, path, how = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((address, port))
listener.listen(1)
conn, _ = listener.accept()
size = os.path.getsize(path)
with open(path, "rb") as f:
    if how == "sendfile":
        sent = conn.sendfile(f)
    else:
        r, w = os.pipe()

        def feed():
            with os.fdopen(w, "wb") as pipe_in:
                pipe_in.write(f.read())

        feeder = threading.Thread(target=feed)
        feeder.start()
        sent = 0
        while sent < size:
            n = os.splice(r, conn.fileno(), size - sent)
            if n == 0:
                break
            sent += n
        feeder.join()
        os.close(r)
print(f"{how}: {sent} of {size} bytes", flush=True)
conn.close()
