/*
 * v2hb.h - decode one wasmCloud 2 host heartbeat into struct lt_ce.
 *
 * A wasmCloud 2 host (the washlet of v2.x) sends no lattice CloudEvents.
 * Every 15 s it publishes its HostHeartbeat (proto3 message
 * wasmcloud.runtime.v2.HostHeartbeat, serialised as JSON by pbjson) on
 * runtime.operator.heartbeat.<host_id>, and answers a request on
 * runtime.host.<host_id>.heartbeat with the same message.
 *
 * lt_v2hb_parse() turns the bytes into the struct lt_ce the fold consumes
 * (kind LT_K_V2_HEARTBEAT; host_id, friendly_name, version, labels as for
 * a v1 heartbeat; ev->v2 holds the rest), so one pipeline folds both
 * generations.  It accepts what a pbjson producer may send: lowerCamelCase
 * names or the proto's own snake_case names, 64-bit integers as JSON
 * strings or numbers, the float as a number or a string ("NaN",
 * "Infinity"), members at their default value left out (absent = the
 * proto default: "", 0, empty list or map).  Unknown members are ignored
 * (newer hosts may add fields).  JSON null is the default too.
 *
 * Identity: a heartbeat has no id and no time of its own.  The event gets
 *   source = "runtime.operator.heartbeat.<host_id>"
 *   id     = "<16 hex digits: FNV-1a of the payload bytes>-<received_ms>"
 *   type   = LT_V2HB_TYPE, time absent (the fold uses the received time),
 * so the same message folded twice with the same received time (a replay
 * line replayed again) is a duplicate, and every heartbeat the host sends
 * is distinct even when its bytes repeat.  docs/schema.md explains why
 * v2 heartbeats never come through JetStream.
 *
 * Ownership: *out is freed with lt_ce_free(); every string in it and in
 * *out->v2 is borrowed until then.  imports/exports are compact JSON text
 * rebuilt in one canonical form (all six WitInterface members, defaults
 * included), whatever the producer's spelling.
 *
 * Errors: LT_EPARSE (not strict JSON, bad UTF-8), LT_EINVAL (a member of
 * the wrong type, a negative or fractional count, a bad startedAt, an id
 * other than the subject's), LT_ELIMIT (struct lt_limits: payload size,
 * depth, string length, imports/exports items, map pairs; integers over
 * INT64_MAX).  err->field names the member as the proto spells it
 * ("system_memory_total", "imports[2].config").
 */
#ifndef LT_V2HB_H
#define LT_V2HB_H

#include <stddef.h>
#include <stdint.h>

#include "ce.h"
#include "err.h"

#define LT_V2HB_SUBJECT_PREFIX	"runtime.operator.heartbeat."
/* events.type of a v2 heartbeat, and of one that reports a new startedAt
   (the fold records it so: the host restarted, like a v1 host_started). */
#define LT_V2HB_TYPE		"com.wasmcloud.runtime.v2.host_heartbeat"
#define LT_V2HB_TYPE_STARTED	"com.wasmcloud.runtime.v2.host_started"

struct lt_v2hb {
	const char	*hostname;	/* "" when absent */
	const char	*environment;	/* "" when absent */
	int64_t		 started_ms;	/* valid when has_started */
	int		 has_started;
	const char	*os_arch;
	const char	*os_name;
	const char	*os_kernel;
	double		 cpu_usage;	/* when has_cpu (finite) */
	int		 has_cpu;
	int64_t		 memory_total;
	int64_t		 memory_free;
	int64_t		 component_count;
	int64_t		 workload_count;
	int64_t		 http_port;	/* 0..UINT32_MAX */
	const char	*imports;	/* JSON array, "[]" when absent */
	const char	*exports;
};

/*
 * The host id of a heartbeat subject, runtime.operator.heartbeat.<id>
 * (one non-empty token, no wildcard), or NULL when subject is not one.
 * Borrowed from subject.
 */
const char *lt_v2hb_subject_host(const char *subject);

/*
 * Decode buf[0..len) (need not be NUL-terminated), received on the
 * subject of host subj_host (NULL: take the payload's id), at received_ms
 * (latticed's clock: part of the synthetic id).  On LT_OK *out is a new
 * event; on error *out is NULL and err says why.
 */
int	lt_v2hb_parse(const char *buf, size_t len, const char *subj_host,
	    int64_t received_ms, const struct lt_limits *lim,
	    struct lt_ce **out, struct lt_err *err);

#endif
