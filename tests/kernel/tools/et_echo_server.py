#!/usr/bin/env python3
"""An echo server on one readiness API, for the data path's kernel tests (datapath_test.cpp).

MODE says which (default et):
  et       edge-triggered epoll: reads in small pieces (997 bytes by default) until EAGAIN, as
           edge-triggered epoll requires, so a compressed connection's decoded bytes wait in the
           preload library between reads;
  oneshot  epoll with EPOLLONESHOT, re-armed after each piece;
  poll     poll(2), level-triggered;
  select   select(2), level-triggered.
In the last three it reads one piece per readiness report, so the bytes the library has decoded
but the program not yet read must be reported readable again, with nothing left in the kernel
socket. Every byte a client sends comes back; a connection is closed once the client has shut
down its side and everything is echoed.

usage: et_echo_server.py ADDRESS PORT [PIECE [MODE]]
"""
import select
import socket
import sys

address, port = sys.argv[1], int(sys.argv[2])
piece = int(sys.argv[3]) if len(sys.argv) > 3 else 997
mode = sys.argv[4] if len(sys.argv) > 4 else "et"

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((address, port))
listener.listen(16)
listener.setblocking(False)
connections = {}  # fd -> [socket, bytes to echo, peer has shut down]


def serve(fd, readable):
    """Reads (until EAGAIN in et mode, else one piece), echoes what it can; False once closed."""
    state = connections[fd]
    conn, pending = state[0], state[1]
    while readable:
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
        if mode != "et":
            break
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
        conn.close()
        del connections[fd]
        return False
    return True


def accept_all():
    accepted = []
    while True:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            return accepted
        conn.setblocking(False)
        connections[conn.fileno()] = [conn, bytearray(), False]
        accepted.append(conn.fileno())


if mode in ("et", "oneshot"):
    ep = select.epoll()
    ep.register(listener.fileno(), select.EPOLLIN)
    conn_events = select.EPOLLIN | select.EPOLLOUT | (select.EPOLLET if mode == "et" else select.EPOLLONESHOT)
    while True:
        for fd, events in ep.poll():
            if fd == listener.fileno():
                for new in accept_all():
                    ep.register(new, conn_events)
                continue
            if fd not in connections:
                continue
            if not serve(fd, events & (select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR)):
                continue  # closed: the kernel dropped its registration
            if mode == "oneshot":  # disarmed by the report: arm it again
                ep.modify(fd, select.EPOLLIN | select.EPOLLONESHOT |
                          (select.EPOLLOUT if connections[fd][1] else 0))
elif mode == "poll":
    p = select.poll()
    p.register(listener.fileno(), select.POLLIN)
    while True:
        for fd in connections:
            p.modify(fd, select.POLLIN | (select.POLLOUT if connections[fd][1] else 0))
        for fd, events in p.poll():
            if fd == listener.fileno():
                for new in accept_all():
                    p.register(new, select.POLLIN)
            elif fd in connections and not serve(fd, events & (select.POLLIN | select.POLLHUP | select.POLLERR)):
                p.unregister(fd)
elif mode == "select":
    while True:
        readers = [listener.fileno()] + list(connections)
        writers = [fd for fd, state in connections.items() if state[1]]
        readable, writable, _ = select.select(readers, writers, [])
        for fd in set(readable) | set(writable):
            if fd == listener.fileno():
                accept_all()
            elif fd in connections:
                serve(fd, fd in readable)
else:
    sys.exit(f"unknown mode {mode}")
