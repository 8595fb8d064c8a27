#!/usr/bin/env python3
"""Hostile and over-limit events for the hardening integration tests.

gen.py hb LATTICE HOST [key=json ...]
    One heartbeat JSONL line for ltpub; key=json overrides members of
    data (e.g. components='[...]', labels='{"a":"b"}').  ncomp=N makes N
    components, nest=N nests one annotation N objects deep, pad=N adds an
    unknown member of N bytes.  rawfn=HEX sends the payload raw with
    friendly_name set to those bytes, unescaped (invalid UTF-8, raw
    control characters).  raw sends json.dumps's text verbatim (keeps
    \u0000 escapes intact).
gen.py scaled LATTICE HOST COMP MAX
    One component_scaled line.
gen.py raw LATTICE HEXBYTES
    One {"subject", "raw"} line whose payload is the given bytes
    (written as raw bytes, so invalid UTF-8 reaches the wire as is).
gen.py flood N HOSTS LATTICES
    N heartbeats cycling over HOSTS bogus host ids and LATTICES lattices.
"""
import datetime
import json
import sys
import uuid


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def envelope(typ, host, data):
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": host,
            "type": "com.wasmcloud.lattice." + typ,
            "datacontenttype": "application/json", "time": now(),
            "data": data}


def comp(i):
    return {"id": "comp-%d" % i, "image_ref": "ghcr.io/x/c:%d" % i,
            "name": "c%d" % i, "annotations": {}, "max_instances": 1,
            "revision": 0}


def hb_data(host, over):
    d = {"host_id": host, "friendly_name": "fn", "labels": {"a": "1"},
         "version": "1.9.2", "uptime_human": "1m", "uptime_seconds": 100,
         "issuer": "CISSUER", "components": [comp(0), comp(1)],
         "providers": []}
    for kv in over:
        k, v = kv.split("=", 1)
        if k == "ncomp":
            d["components"] = [comp(i) for i in range(int(v))]
        elif k == "nest":
            x = {}
            for _ in range(int(v)):
                x = {"n": x}
            d["components"][0]["annotations"] = {"deep": "x"}
            d["components"][0]["nested"] = x
        elif k == "pad":
            d["pad"] = [0] * (int(v) // 2)
        else:
            d[k] = json.loads(v)
    return d


def line(subject, ev):
    print(json.dumps({"subject": subject, "event": ev}))


def raw_line(lattice, payload):
    """An ltpub "raw" line carrying payload byte for byte."""
    # json.dumps would escape the bytes; build the line by hand (ltpub's
    # cJSON passes bytes >= 0x20 through and unescapes \\ and \")
    head = json.dumps({"subject": "wasmbus.evt.%s.host_heartbeat"
                       % lattice})[:-1].encode()
    body = payload.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    body = b"".join(b"\\u%04x" % c if c < 0x20 else bytes([c])
                    for c in body)
    sys.stdout.buffer.write(head + b', "raw": "' + body + b'"}\n')
    sys.stdout.flush()


def main():
    a = sys.argv[1:]
    if a[0] == "hb":
        rawfn = [x[6:] for x in a[3:] if x.startswith("rawfn=")]
        over = [x for x in a[3:]
                if not x.startswith("rawfn=") and x != "raw"]
        ev = envelope("host_heartbeat", a[2], hb_data(a[2], over))
        if rawfn:
            ev["data"]["friendly_name"] = "@RAWFN@"
            text = json.dumps(ev).encode().replace(
                b"@RAWFN@", bytes.fromhex(rawfn[0]))
            raw_line(a[1], text)
        elif "raw" in a[3:]:
            # exactly json.dumps's text: \u0000 stays an escape (ltpub's
            # cJSON would cut the string at a NUL)
            raw_line(a[1], json.dumps(ev).encode())
        else:
            line("wasmbus.evt.%s.host_heartbeat" % a[1], ev)
    elif a[0] == "scaled":
        d = {"host_id": a[2], "component_id": a[3],
             "image_ref": "ghcr.io/x/c:s", "max_instances": int(a[4]),
             "annotations": {}, "public_key": "MPUB", "claims": {}}
        line("wasmbus.evt.%s.component_scaled" % a[1],
             envelope("component_scaled", a[2], d))
    elif a[0] == "raw":
        raw_line(a[1], bytes.fromhex(a[2]))
    elif a[0] == "flood":
        n, hosts, lats = int(a[1]), int(a[2]), int(a[3])
        out = sys.stdout
        for i in range(n):
            h = "NBOGUS%06d" % (i % hosts)
            lat = "bogus%d" % (i % lats)
            d = {"host_id": h, "labels": {}, "friendly_name": "x",
                 "version": "1", "uptime_seconds": i, "components": [],
                 "providers": []}
            e = {"specversion": "1.0", "id": "f%d" % i, "source": h,
                 "type": "com.wasmcloud.lattice.host_heartbeat",
                 "time": now(), "data": d}
            out.write(json.dumps({"subject": "wasmbus.evt.%s."
                                  "host_heartbeat" % lat, "event": e},
                                 separators=(",", ":")) + "\n")
    else:
        sys.exit("unknown command " + a[0])


if __name__ == "__main__":
    main()
