#!/usr/bin/env python3
"""An echo server on edge-triggered epoll, for the data path's kernel tests (datapath_test.cpp).

It reads in small pieces (997 bytes by default) until EAGAIN, as edge-triggered epoll requires,
so a compressed connection's decoded bytes wait in the preload library between reads. Every
byte a client sends comes back; a connection is closed once the client has shut down its side
and everything is echoed.

usage: et_echo_server.py ADDRESS PORT [PIECE]
"""
import select
import socket
import sys

address, port = sys.argv[1], int(sys.argv[2])
piece = int(sys.argv[3]) if len(sys.argv) > 3 else 997

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((address, port))
listener.listen(16)
listener.setblocking(False)
ep = select.epoll()
ep.register(listener.fileno(), select.EPOLLIN | select.EPOLLET)
connections = {}  # fd -> [socket, bytes to echo, peer has shut down]


def serve(fd, events):
    state = connections[fd]
    conn, pending = state[0], state[1]
    if events & (select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR):
        while True:
            try:
                data = conn.recv(piece)
            except BlockingIOError:
                break
            except OSError as e:
                print(f"recv failed: {e}", flush=True)
                state[2] = True
                pending.clear()
                break
            if not data:
                state[2] = True
                break
            pending += data
    while pending:
        try:
            sent = conn.send(pending[:65536])
        except BlockingIOError:
            break
        except OSError as e:
            print(f"send failed: {e}", flush=True)
            pending.clear()
            break
        del pending[:sent]
    if state[2] and not pending:
        ep.unregister(fd)
        conn.close()
        del connections[fd]


while True:
    for fd, events in ep.poll():
        if fd != listener.fileno():
            if fd in connections:
                serve(fd, events)
            continue
        while True:
            try:
                conn, _ = listener.accept()
            except BlockingIOError:
                break
            conn.setblocking(False)
            connections[conn.fileno()] = [conn, bytearray(), False]
            ep.register(conn.fileno(), select.EPOLLIN | select.EPOLLOUT | select.EPOLLET)
