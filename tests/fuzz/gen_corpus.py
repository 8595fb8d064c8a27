#!/usr/bin/env python3
"""Generate the seed corpus for the latticed fuzz harnesses.

Shapes follow what wasmCloud hosts really publish (crates/host/src/wasmbus/
event.rs and the inventory types at v0.82.0, v1.0.0-alpha.1, v1.9.2, plus the
OTP host), not only the documentation page.  Run from anywhere:

    python3 tests/fuzz/gen_corpus.py

It rewrites tests/fuzz/corpus/{ce,fold}/ (deterministic output).

fold inputs: byte 0 is the selector (see fuzz_fold.c), then one CloudEvent
per line.
"""
import json
import os
import shutil
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PFX = "com.wasmcloud.lattice."
H1 = "NCQDNJWGAISVBPU4VF45AKDTOTU6NI74WZFNW73ZR7K7NJ72AV7PUDHP"
H2 = "NBJA6SRRAF5RDCQPGH4GH5ZSEAFLFTFZVSWDIZ6NJ6WHBBRJXMUZMHQU"
ACTOR = "MBCFOPM6JW2APJLXJD3Z5O4CN7CPYJ2B4FTKLJUR5YR5MITIU7HD3WD5"
PROV = "VAG3QITQQ2ODAOWB5TTQSDJ53XK3SHBEIFNK4AYJ5RKAX2UNSCAPHA5M"
ISSUER = "ACOJJN6WUP4ODD75XEBKKTCCUJJCY5ZKQ56XVKYK4BEJWGVAOOQHZMCW"

_n = [0]


def eid():
    _n[0] += 1
    return str(uuid.UUID(int=0x0190_0000_0000_7000_8000_0000_0000_0000 + _n[0]))


def ce(name, data, source=H1, time="2024-06-13T18:00:53.856590123Z",
       prefix=PFX, id_=None):
    ev = {
        "specversion": "1.0",
        "id": id_ or eid(),
        "type": prefix + name,
        "source": source,
        "datacontenttype": "application/json",
        "time": time,
        "data": data,
    }
    if time is None:
        del ev["time"]
    return ev


def t(sec):
    """An RFC 3339 time, sec seconds after 2024-06-13T18:00:00Z."""
    m, s = divmod(sec, 60)
    return "2024-06-13T18:%02d:%02d.%06dZ" % (m % 60, s, 856590)


ANN = {"wasmcloud.dev/appspec": "echo", "wasmcloud.dev/scaler": "x"}
LABELS = {"hostcore.os": "linux", "hostcore.arch": "x86_64",
          "zone": "eu-1"}
CCLAIMS = {"call_alias": None, "issuer": ISSUER,
           "tags": ["wasmcloud.com/experimental"], "name": "echo",
           "version": "0.1.0", "revision": 0,
           "not_before_human": "never", "expires_human": "never"}
PCLAIMS = {"issuer": ISSUER, "tags": None, "name": "httpserver",
           "version": "0.19.1", "not_before_human": "never",
           "expires_human": "never"}

# ---------------------------------------------------------------- 1.x
v1 = {}
v1["host_started"] = ce("host_started", {
    "friendly_name": "wild-field-1234", "labels": LABELS,
    "uptime_seconds": 0, "version": "1.9.2"}, time=t(0))
v1["host_heartbeat"] = ce("host_heartbeat", {
    "components": [
        {"id": "echo", "image_ref": "ghcr.io/wasmcloud/components/"
         "http-hello-world-rust:0.1.0", "name": "echo",
         "annotations": ANN, "revision": 0, "max_instances": 100},
        {"id": "kv-counter", "image_ref": "file:///tmp/kv.wasm",
         "revision": 3, "max_instances": 1, "limits": None}],
    "providers": [
        {"id": "http-server", "image_ref": "ghcr.io/wasmcloud/http-server:"
         "0.22.0", "name": "http-server-provider", "revision": 0,
         "annotations": ANN},
        {"id": "nats-messaging", "revision": 0}],
    "host_id": H1, "friendly_name": "wild-field-1234", "labels": LABELS,
    "version": "1.9.2", "uptime_human": "1m 30s",
    "uptime_seconds": 90}, time=t(30))
v1["host_heartbeat_empty"] = ce("host_heartbeat", {
    "components": [], "providers": [], "host_id": H1,
    "friendly_name": "wild-field-1234", "labels": {}, "version": "1.9.2",
    "uptime_human": "0s", "uptime_seconds": 0}, time=t(31))
v1["host_heartbeat_bare"] = ce("host_heartbeat", {
    "host_id": H1, "uptime_seconds": 1000},
    time="2023-06-13T00:00:00+00:00")
v1["component_scaled"] = ce("component_scaled", {
    "annotations": ANN, "host_id": H1,
    "image_ref": "ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0",
    "max_instances": 5, "component_id": "echo"}, time=t(40))
v1["component_scaled_claims"] = ce("component_scaled", {
    "public_key": ACTOR, "claims": CCLAIMS, "annotations": {},
    "host_id": H1, "image_ref": "wasmcloud.azurecr.io/blobby:0.1.0",
    "max_instances": 4294967295, "component_id": "blobby-blobby"},
    time=t(41))
v1["component_scaled_zero"] = ce("component_scaled", {
    "annotations": ANN, "host_id": H1,
    "image_ref": "ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0",
    "max_instances": 0, "component_id": "echo"}, time=t(90))
v1["component_scale_failed"] = ce("component_scale_failed", {
    "annotations": {}, "component_id": "echo", "host_id": H1,
    "image_ref": "ghcr.io/wasmcloud/nope:0.1.0", "max_instances": 5,
    "error": "failed to fetch component: 404 not found"}, time=t(42))
LINK = {"source_id": "http-server", "target": "echo", "name": "default",
        "wit_namespace": "wasi", "wit_package": "http",
        "interfaces": ["incoming-handler"],
        "source_config": ["default-http"], "target_config": []}
v1["linkdef_set"] = ce("linkdef_set", LINK, time=t(50))
v1["linkdef_set_failed"] = ce("linkdef_set_failed",
    dict(LINK, error="link target does not exist"), time=t(51))
v1["linkdef_deleted"] = ce("linkdef_deleted", {
    "source_id": "http-server", "target": "echo", "name": "default",
    "wit_namespace": "wasi", "wit_package": "http",
    "interfaces": ["incoming-handler"]}, time=t(95))
v1["linkdef_deleted_notarget"] = ce("linkdef_deleted", {
    "source_id": "http-server", "name": "default",
    "wit_namespace": "wasi", "wit_package": "http"}, time=t(96))
v1["provider_started"] = ce("provider_started", {
    "host_id": H1, "image_ref": "ghcr.io/wasmcloud/http-server:0.22.0",
    "provider_id": "http-server", "annotations": ANN}, time=t(45))
v1["provider_started_claims"] = ce("provider_started", {
    "host_id": H1, "image_ref": "ghcr.io/wasmcloud/http-server:0.22.0",
    "provider_id": "http-server", "annotations": ANN, "claims": PCLAIMS,
    "instance_id": "http-server", "public_key": "http-server",
    "link_name": "default"}, time=t(46))
v1["provider_start_failed"] = ce("provider_start_failed", {
    "provider_ref": "ghcr.io/wasmcloud/nope:0.1.0",
    "provider_id": "nope", "host_id": H1,
    "error": "failed to fetch provider", "link_name": "default"},
    time=t(47))
v1["provider_stopped"] = ce("provider_stopped", {
    "host_id": H1, "provider_id": "http-server", "annotations": ANN,
    "reason": "stop", "instance_id": "http-server",
    "public_key": "http-server", "link_name": "default"}, time=t(97))
for hc in ("passed", "failed", "status"):
    v1["health_check_" + hc] = ce("health_check_" + hc, {
        "host_id": H1, "provider_id": "http-server"}, time=t(60))
v1["config_set"] = ce("config_set", {"config_name": "default-http"},
                      time=t(48))
v1["config_deleted"] = ce("config_deleted",
                          {"config_name": "default-http"}, time=t(98))
v1["labels_changed"] = ce("labels_changed", {
    "host_id": H1, "labels": dict(LABELS, zone="eu-2")}, time=t(70))
v1["host_stopped"] = ce("host_stopped", {"labels": LABELS}, time=t(120))
v1["host_stopped_spec"] = ce("host_stopped", {
    "host_id": H1, "labels": {"key": "value"}, "reason": "stop"},
    time="2024-06-13T18:00:53.856590Z")
# the spec page's out-of-range time
v1["provider_stopped_badtime"] = ce("provider_stopped", {
    "host_id": H1, "provider_id": "rust_http_kv-kvredis",
    "annotations": {"key": "value"}, "reason": "stop"},
    time="2023-06-13T01:12:88.856590Z")
v1["unknown_type"] = ce("refmap_set", {"whatever": [1, 2, 3]})
v1["no_time"] = ce("config_set", {"config_name": "c"}, time=None)

# ----------------------------------------------------- 1.0.0-alpha.1
alpha = {}
alpha["actor_scaled"] = ce("actor_scaled", {
    "public_key": ACTOR, "claims": CCLAIMS, "annotations": ANN,
    "host_id": H1, "image_ref": "wasmcloud.azurecr.io/echo:0.3.8",
    "max_instances": 2, "actor_id": "echo"}, time=t(40))
alpha["actor_scaled_noclaims"] = ce("actor_scaled", {
    "annotations": {}, "host_id": H1, "image_ref": "file:///echo.wasm",
    "max_instances": 0, "actor_id": "echo"}, time=t(41))

# --------------------------------------------------------------- 0.82
old = {}
CLAIMS82 = dict(CCLAIMS, caps=["wasmcloud:httpserver"],
                not_before_human="TODO", expires_human="TODO")
old["host_started"] = ce("host_started", {
    "friendly_name": "old-host-42", "labels": LABELS,
    "uptime_seconds": 0, "version": "0.82.0"}, source=H2, time=t(0))
old["actors_started"] = ce("actors_started", {
    "public_key": ACTOR, "image_ref": "wasmcloud.azurecr.io/echo:0.3.8",
    "annotations": ANN, "host_id": H2, "claims": CLAIMS82, "count": 3},
    source=H2, time=t(10))
old["actor_scaled"] = ce("actor_scaled", {
    "public_key": ACTOR, "claims": CLAIMS82, "annotations": ANN,
    "host_id": H2, "image_ref": "wasmcloud.azurecr.io/echo:0.3.8",
    "max_instances": 3}, source=H2, time=t(11))
old["actors_stopped"] = ce("actors_stopped", {
    "public_key": ACTOR, "annotations": ANN, "host_id": H2, "count": 2,
    "remaining": 1, "image_ref": "wasmcloud.azurecr.io/echo:0.3.8"},
    source=H2, time=t(80))
old["actors_stopped_all"] = ce("actors_stopped", {
    "public_key": ACTOR, "annotations": ANN, "host_id": H2, "count": 1,
    "remaining": 0, "image_ref": "wasmcloud.azurecr.io/echo:0.3.8"},
    source=H2, time=t(81))
old["actors_start_failed"] = ce("actors_start_failed", {
    "public_key": ACTOR, "image_ref": "wasmcloud.azurecr.io/echo:0.3.8",
    "annotations": ANN, "host_id": H2, "error": "failed to instantiate"},
    source=H2, time=t(12))
old["actor_scale_failed"] = ce("actor_scale_failed", {
    "public_key": ACTOR, "annotations": ANN, "host_id": H2,
    "image_ref": "wasmcloud.azurecr.io/echo:0.3.8", "max_instances": 9,
    "error": "no"}, source=H2, time=t(13))
LD82 = {"id": "a6ae7d3a-7c65-4fba-8a0f-5a5a4e2e2a11", "actor_id": ACTOR,
        "provider_id": PROV, "link_name": "default",
        "contract_id": "wasmcloud:httpserver",
        "values": {"address": "0.0.0.0:8080"}}
old["linkdef_set"] = ce("linkdef_set", LD82, source=H2, time=t(20))
old["linkdef_deleted"] = ce("linkdef_deleted", LD82, source=H2,
                            time=t(85))
old["provider_started"] = ce("provider_started", {
    "host_id": H2, "public_key": PROV,
    "image_ref": "wasmcloud.azurecr.io/httpserver:0.19.1",
    "link_name": "default", "contract_id": "wasmcloud:httpserver",
    "instance_id": "2f8f3c8a-3f0e-4b7e-9d1e-9d1b9c3f0a22",
    "annotations": ANN, "claims": dict(PCLAIMS, not_before_human="TODO",
                                        expires_human="TODO")},
    source=H2, time=t(15))
old["provider_start_failed"] = ce("provider_start_failed", {
    "provider_ref": "wasmcloud.azurecr.io/nope:0.1.0",
    "link_name": "default", "error": "failed to fetch"},
    source=H2, time=t(16))
old["provider_stopped"] = ce("provider_stopped", {
    "host_id": H2, "public_key": PROV, "link_name": "default",
    "contract_id": "wasmcloud:httpserver",
    "instance_id": "2f8f3c8a-3f0e-4b7e-9d1e-9d1b9c3f0a22",
    "annotations": ANN, "reason": "stop"}, source=H2, time=t(90))
for hc in ("passed", "failed", "status"):
    old["health_check_" + hc] = ce("health_check_" + hc, {
        "public_key": PROV, "link_name": "default",
        "contract_id": "wasmcloud:httpserver"}, source=H2, time=t(30))
old["config_set"] = ce("config_set", {"entity_id": ACTOR,
                                      "key": "greeting"},
                       source=H2, time=t(21))
old["config_deleted"] = ce("config_deleted", {"entity_id": ACTOR,
                                              "key": "greeting"},
                           source=H2, time=t(86))
old["host_heartbeat"] = ce("host_heartbeat", {
    "actors": [{"id": ACTOR, "image_ref": "wasmcloud.azurecr.io/echo:0.3.8",
                "name": "echo", "instances": [
                    {"annotations": ANN, "instance_id":
                     "0190a1b2-0000-7000-8000-00000000abcd",
                     "revision": 0, "image_ref":
                     "wasmcloud.azurecr.io/echo:0.3.8", "max_instances": 3},
                    {"annotations": {}, "instance_id":
                     "0190a1b2-0000-7000-8000-00000000abce",
                     "revision": 0, "image_ref":
                     "wasmcloud.azurecr.io/echo:0.3.8",
                     "max_instances": 1}]}],
    "providers": [{"id": PROV, "image_ref":
                   "wasmcloud.azurecr.io/httpserver:0.19.1",
                   "contract_id": "wasmcloud:httpserver",
                   "link_name": "default", "name": "httpserver",
                   "annotations": ANN, "revision": 0}],
    "friendly_name": "old-host-42", "labels": LABELS,
    "uptime_human": "30s", "uptime_seconds": 30, "version": "0.82.0",
    "host_id": H2, "issuer": ISSUER}, source=H2, time=t(30))
old["host_stopped"] = ce("host_stopped", {"labels": LABELS}, source=H2,
                         time=t(100))

# ---------------------------------------------------------------- OTP
H3 = "NDZYGCF3YPQYQ3NBJQ6QTY2OVO7XRWZTRIJLHXXM2DSGZMPTLCNGYEZA"
otp = {}
otp["host_started"] = ce("host_started", {
    "labels": LABELS, "friendly_name": "otp-host"}, source=H3,
    time="2023-03-01T10:00:00.123456Z")
otp["host_heartbeat"] = ce("host_heartbeat", {
    "actors": {ACTOR: 2, "MAKOEFBH3NPWSCB2DTLXVCNNJJ3JG3FBHRTDOSMAKJMHLQ"
               "EYKN5NYBH3": 1},
    "providers": [{"public_key": PROV, "link_name": "default",
                   "contract_id": "wasmcloud:httpserver"}],
    "labels": LABELS, "friendly_name": "otp-host",
    "uptime_human": "1 minute, 2 seconds", "uptime_seconds": 62,
    "version": "0.63.1"}, source=H3, time="2023-03-01T10:01:02.123456Z")
otp["actor_started"] = ce("actor_started", {
    "public_key": ACTOR, "image_ref": "wasmcloud.azurecr.io/echo:0.3.8",
    "instance_id": "c9b1e3a0-8b8e-4c34-a0c8-cd53d3f1e7f2",
    "annotations": ANN, "api_version": 0,
    "claims": {"call_alias": "", "caps": ["wasmcloud:httpserver"],
               "issuer": ISSUER, "tags": [], "name": "echo",
               "version": "0.3.8", "revision": 0,
               "not_before_human": "never", "expires_human": "never"}},
    source=H3, time="2023-03-01T10:00:30.000000Z")
otp["actor_stopped"] = ce("actor_stopped", {
    "public_key": ACTOR,
    "instance_id": "c9b1e3a0-8b8e-4c34-a0c8-cd53d3f1e7f2",
    "annotations": ANN}, source=H3, time="2023-03-01T10:02:00.000000Z")
otp["actor_start_failed"] = ce("actor_start_failed", {
    "actor_ref": "wasmcloud.azurecr.io/nope:0.1.0",
    "error": "not found"}, source=H3, time="2023-03-01T10:00:31Z")
otp["host_stopped"] = ce("host_stopped", {"labels": LABELS,
                                          "reason": "host_stop"},
                         source=H3, time="2023-03-01T10:05:00Z")

# ---------------------------------------------------------------- RPC
rpc = {}
ENT_A = {"public_key": ACTOR, "contract_id": "", "link_name": ""}
ENT_P = {"public_key": PROV, "contract_id": "wasmcloud:httpserver",
         "link_name": "default"}
rpc["invocation_failed"] = ce("invocation_failed", {
    "source": ENT_P, "dest": ENT_A, "operation": "HttpServer.HandleRequest",
    "bytes": 1234, "error": "actor trapped"}, prefix="com.wasmcloud.lattice.")
rpc["invocation_succeeded"] = ce("invocation_succeeded", {
    "source": ENT_P, "dest": ENT_A, "operation": "HttpServer.HandleRequest",
    "bytes": 42})


def compact(ev):
    return json.dumps(ev, separators=(",", ":"))


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    cdir = os.path.join(HERE, "corpus", "ce")
    fdir = os.path.join(HERE, "corpus", "fold")
    for d in (cdir, fdir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    groups = {"v1": v1, "alpha": alpha, "v082": old, "otp": otp,
              "rpc": rpc}
    for g, evs in groups.items():
        for name, ev in evs.items():
            write(os.path.join(cdir, "%s_%s.json" % (g, name)),
                  compact(ev).encode())
    # A few pretty-printed ones: hosts do not send them, replay files may.
    for name in ("host_heartbeat", "linkdef_set"):
        write(os.path.join(cdir, "pretty_%s.json" % name),
              json.dumps(v1[name], indent=2).encode())
    write(os.path.join(cdir, "pretty_v082_heartbeat.json"),
          json.dumps(old["host_heartbeat"], indent="\t").encode())

    # fold: selector byte, then lines.  0x80 = commit, family 0 (typed
    # subject), lattice 0; see fuzz_fold.c.
    def fold(name, sel, evs):
        body = b"\n".join(compact(e).encode() for e in evs)
        write(os.path.join(fdir, name), bytes([sel]) + body)

    for g, evs in groups.items():
        fam = 2 if g == "rpc" else 0
        for name, ev in evs.items():
            fold("one_%s_%s" % (g, name), 0x80 | fam, [ev])
    life1 = [v1[k] for k in (
        "host_started", "host_heartbeat", "component_scaled",
        "component_scaled_claims", "provider_started", "config_set",
        "linkdef_set", "health_check_passed", "health_check_failed",
        "health_check_status", "labels_changed", "component_scale_failed",
        "provider_start_failed", "linkdef_set_failed",
        "component_scaled_zero", "linkdef_deleted",
        "linkdef_deleted_notarget", "config_deleted", "provider_stopped",
        "host_heartbeat_empty", "host_stopped")]
    fold("life_v1", 0x80, life1)
    fold("life_v1_refold", 0xc0, life1)
    fold("life_v1_rollback", 0x40, life1)
    fold("life_v1_tight", 0xa0, life1)
    life82 = [old[k] for k in (
        "host_started", "actors_started", "actor_scaled", "provider_started",
        "linkdef_set", "config_set", "host_heartbeat", "health_check_passed",
        "health_check_failed", "actors_start_failed", "actor_scale_failed",
        "provider_start_failed", "actors_stopped", "actors_stopped_all",
        "linkdef_deleted", "config_deleted", "provider_stopped",
        "host_stopped")]
    fold("life_v082", 0x80, life82)
    fold("life_v082_general_subject", 0x81 | 0x04, life82)
    lifeotp = [otp[k] for k in ("host_started", "actor_started",
                                "host_heartbeat", "actor_start_failed",
                                "actor_stopped", "host_stopped")]
    fold("life_otp", 0x80 | 0x08, lifeotp)
    fold("life_alpha", 0x80, [v1["host_started"], alpha["actor_scaled"],
                              alpha["actor_scaled_noclaims"]])
    # Duplicates and reordering: same (source, id) twice, an old event
    # after a newer one, a heartbeat before host_started.
    fold("dup_reorder", 0xc0, [
        v1["host_heartbeat"], v1["host_started"], v1["host_heartbeat"],
        v1["component_scaled_zero"], v1["component_scaled"],
        v1["host_stopped"], v1["labels_changed"], v1["host_stopped"]])
    # Mixed generations on one host key, replay lines without a subject.
    fold("mixed_nosubject", 0x83, [
        v1["host_started"], old["actors_started"], otp["host_heartbeat"],
        v1["host_heartbeat"], old["host_heartbeat"], v1["host_stopped"]])
    fold("rpc_family", 0x82, list(rpc.values()))
    # Stale sweeps (a line starting with 0x01; byte 1 x 10 s later).
    body = b"\n".join([compact(v1["host_started"]).encode(),
                       compact(old["host_started"]).encode(),
                       compact(otp["host_started"]).encode(),
                       b"\x01\x08\x00", compact(v1["host_heartbeat"]).encode(),
                       b"\x01\x20\x01"])
    write(os.path.join(fdir, "stale_sweep"), bytes([0xc0]) + body)
    fold("garbage_lines", 0x80, [v1["host_started"]])
    with open(os.path.join(fdir, "garbage_lines"), "ab") as f:
        f.write(b"\n{not json\n\n[]\n{\"specversion\":\"1.0\"}\n\xff\xfe\n")


if __name__ == "__main__":
    main()
