#!/usr/bin/env python3
"""Helpers for the latticed integration tests.

evgen.py ev TYPE LATTICE HOST [N] [FORM] [START]
    Print N JSONL lines {"subject", "event"} for ltpub.  FORM is
    suffixed (wasmbus.evt.L.TYPE, default), bare (wasmbus.evt.L) or rpc
    (wasmbus.rpcevt.L).  Ids are unique per call; time is now.
evgen.py notify-listen SOCKET OUT
    Bind a unix datagram socket and append every datagram to OUT, one
    line each (NOTIFY_SOCKET stand-in).
evgen.py port
    Print a free TCP port on 127.0.0.1.
evgen.py refuse-first PORT OUT
    A stand-in NATS server on 127.0.0.1:PORT that asks for auth (INFO
    with a nonce), refuses the first CONNECT with -ERR 'Authorization
    Violation' as nats-server refuses a CONNECT without a signature, and
    serves later connections enough protocol (PING/PONG) to stay up.
    Every CONNECT line is appended to OUT after its number (0, 1, ...).
"""
import datetime
import json
import os
import socket
import sys
import uuid


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def data_for(typ, host, i):
    if typ == "host_heartbeat":
        return {"host_id": host, "friendly_name": "h-" + host[-4:],
                "labels": {"hostcore.os": "linux"}, "version": "1.9.2",
                "uptime_human": "1m", "uptime_seconds": 60 + i,
                "issuer": "CISSUER", "components": [], "providers": []}
    if typ == "host_started":
        return {"host_id": host, "labels": {"hostcore.os": "linux"},
                "friendly_name": "h-" + host[-4:], "version": "1.9.2"}
    if typ == "host_stopped":
        return {"host_id": host, "labels": {}, "reason": "test"}
    if typ == "component_scaled":
        return {"host_id": host, "component_id": "comp-%d" % i,
                "image_ref": "ghcr.io/x/comp:%d" % i, "max_instances": 1,
                "annotations": {}, "public_key": "MPUB", "claims": {}}
    return {"host_id": host, "error": "boom"}


def ev(args):
    typ, lattice, host = args[0], args[1], args[2]
    n = int(args[3]) if len(args) > 3 else 1
    form = args[4] if len(args) > 4 else "suffixed"
    start = int(args[5]) if len(args) > 5 else 0
    if form == "suffixed":
        subject = "wasmbus.evt.%s.%s" % (lattice, typ)
    elif form == "bare":
        subject = "wasmbus.evt.%s" % lattice
    else:
        subject = "wasmbus.rpcevt.%s" % lattice
    for i in range(start, start + n):
        e = {"specversion": "1.0", "id": str(uuid.uuid4()),
             "source": host, "type": "com.wasmcloud.lattice." + typ,
             "datacontenttype": "application/json", "time": now(),
             "data": data_for(typ, host, i)}
        print(json.dumps({"subject": subject, "event": e}))


def notify_listen(path, out):
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    with open(out, "a") as f:
        while True:
            data = s.recv(65536)
            for line in data.decode(errors="replace").splitlines():
                f.write(line + "\n")
            f.flush()


def port():
    # Below the kernel's ephemeral range (32768-60999), so client sockets
    # of tests running beside this one cannot take the port before the
    # server binds it; random, so concurrent tests rarely pick the same.
    import random
    for _ in range(200):
        p = random.randint(20000, 32000)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            s.close()
        print(p)
        return
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def refuse_first(port_, out):
    import socketserver
    import threading
    lock = threading.Lock()
    count = [0]

    class Conn(socketserver.StreamRequestHandler):
        def handle(self):
            info = {"server_id": "NREFUSEFIRST", "server_name": "refuse-first",
                    "version": "2.9.10", "proto": 1, "go": "go1.19",
                    "host": "127.0.0.1", "port": port_, "headers": True,
                    "auth_required": True, "max_payload": 1048576,
                    "nonce": uuid.uuid4().hex}
            self.wfile.write(b"INFO " + json.dumps(info).encode() + b"\r\n")
            for raw in self.rfile:
                line = raw.decode(errors="replace").rstrip("\r\n")
                if line.startswith("CONNECT "):
                    # numbered by CONNECT: a port probe is no connect
                    with lock, open(out, "a") as f:
                        n = count[0]
                        count[0] += 1
                        f.write("%d %s\n" % (n, line))
                    if n == 0:
                        self.wfile.write(
                            b"-ERR 'Authorization Violation'\r\n")
                        return
                elif line == "PING":
                    self.wfile.write(b"PONG\r\n")

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    with Server(("127.0.0.1", port_), Conn) as srv:
        srv.serve_forever()


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "ev":
        ev(sys.argv[2:])
    elif cmd == "notify-listen":
        notify_listen(sys.argv[2], sys.argv[3])
    elif cmd == "port":
        port()
    elif cmd == "refuse-first":
        refuse_first(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)
