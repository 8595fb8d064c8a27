/*
 * ce.h - decode one wasmCloud CloudEvent (structured JSON) into plain C.
 *
 * lt_ce_parse() validates the CloudEvents 1.0 envelope (id, source,
 * specversion "1.0" and type are required; time is optional) and, for every
 * type latticed models, the shape of data as real hosts send it: 1.x
 * component_* events, 0.82 actor_* and actors_* events, the OTP host's
 * actor_started/actor_stopped, both heartbeat inventories, both linkdef
 * shapes and both config shapes.  Each shape is normalised into struct
 * lt_ce, so the fold never sees host generations or JSON.
 *
 * Ownership: *out is owned by the caller and freed with lt_ce_free().  Every
 * string and array inside it is borrowed from *out: valid until
 * lt_ce_free().  Strings are NUL-terminated, valid UTF-8 and contain no NUL.
 * JSON-valued fields (labels, annotations, interfaces, ...) are compact JSON
 * text.  A NULL string means "absent in the event".
 *
 * Errors: LT_EPARSE (not strict RFC 8259 JSON, invalid UTF-8, NUL), LT_EINVAL
 * (envelope or data of the wrong shape or type), LT_ELIMIT (over a
 * struct lt_limits bound).  err->field names the offending member
 * ("data.max_instances", "specversion", ...).  A valid CloudEvent of a type
 * latticed does not model decodes fine as LT_K_RECORDED.
 */
#ifndef LT_CE_H
#define LT_CE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kinds.h"

struct lt_limits {
	size_t	max_payload;	/* bytes in one message (default 16 MiB) */
	int	max_depth;	/* JSON nesting (default 32) */
	size_t	max_string;	/* bytes in one string value (default 64 KiB) */
	size_t	max_items;	/* components/providers in one heartbeat
				   (default 100000) */
	size_t	max_pairs;	/* entries in a labels/annotations object
				   (default 1024) */
	int64_t	max_instances;	/* largest max_instances/count (default
				   UINT32_MAX, what hosts can send) */
	int64_t	max_uptime;	/* largest uptime_seconds (default 100 years) */
};

/* Fill lim with the documented defaults. */
void	lt_limits_default(struct lt_limits *lim);


enum lt_comp_op {
	LT_COMP_SET,		/* max_instances := count; 0 removes
				   (component_scaled, 1.0-alpha actor_scaled,
				   0.82 actors_stopped with count=remaining) */
	LT_COMP_ADD,		/* max_instances += count (may be negative);
				   <= 0 removes; a missing row starts at 0
				   (0.82 actors_started, OTP actor_started
				   +1 / actor_stopped -1) */
	LT_COMP_META,		/* update image_ref/annotations of an existing
				   row only (0.82 actor_scaled, whose count is
				   unreliable) */
};

enum lt_health {
	LT_HEALTH_PASSING,
	LT_HEALTH_FAILING,
	LT_HEALTH_STATUS,	/* health_check_status: refresh time only */
};

/* What a *_failed event reports; kept for alerting. */
enum lt_failure {
	LT_FAIL_NONE = 0,
	LT_FAIL_COMPONENT_SCALE,	/* component_scale_failed, actor_scale_failed,
				   actors_start_failed, actor_start_failed */
	LT_FAIL_PROVIDER_START,	/* provider_start_failed */
	LT_FAIL_LINK_SET,	/* linkdef_set_failed */
	LT_FAIL_RPC,		/* invocation_failed on wasmbus.rpcevt */
};

struct lt_ce_component {
	const char	*id;		/* component id; legacy: public key */
	const char	*image_ref;
	const char	*name;
	const char	*annotations;	/* JSON object text, NULL if absent */
	int64_t		 max_instances;	/* >= 0 */
	int64_t		 revision;
	int		 has_revision;
	uint64_t	 hash;		/* a heartbeat's item: over the fields
					   above, equal hashes mean equal
					   items; 0 elsewhere */
};

struct lt_ce_provider {
	const char	*id;		/* provider id; legacy: public key */
	const char	*link_name;	/* "default" when absent */
	const char	*image_ref;
	const char	*name;
	const char	*contract_id;
	const char	*annotations;	/* JSON object text, NULL if absent */
	int64_t		 revision;
	int		 has_revision;
};

struct lt_ce_link {
	const char	*source_id;	/* legacy: actor_id */
	const char	*target;	/* legacy: provider_id; NULL if absent */
	const char	*name;		/* legacy: link_name */
	const char	*wit_namespace;	/* legacy: contract_id before ':' */
	const char	*wit_package;	/* legacy: contract_id after ':' */
	const char	*interfaces;	/* JSON array text, NULL if absent */
	const char	*source_config;	/* JSON array text, NULL if absent */
	const char	*target_config;	/* JSON array text, NULL if absent */
	const char	*legacy_values;	/* 0.82 `values` JSON object, or NULL */
};

struct lt_v2hb;

struct lt_ce {
	/* Envelope. */
	const char	*id;
	const char	*source;
	const char	*type;		/* full type, "com.wasmcloud.lattice.x" */
	const char	*name;		/* type without the prefix: "x" */
	const char	*time_raw;	/* `time` as sent, NULL when absent */
	int64_t		 time_ms;	/* valid only when time_ok */
	int		 time_ok;	/* 0: missing or unparseable */
	const char	*data;		/* the `data` member exactly as sent
					   (JSON text), NULL when absent */
	size_t		 data_len;

	enum lt_kind	 kind;
	enum lt_failure	 failure;	/* with LT_K_RECORDED */
	const char	*error;		/* data.error of a failure, or NULL */

	/* data.host_id when present, else source (LT_K_HOST_*, component,
	   provider, labels, health and failure events); NULL otherwise. */
	const char	*host_id;

	/* LT_K_HOST_*, LT_K_LABELS_CHANGED */
	const char	*labels;	/* JSON object text, NULL if absent */
	const char	*friendly_name;
	const char	*version;
	const char	*reason;	/* host_stopped, provider_stopped */
	int64_t		 uptime_seconds;
	int		 has_uptime;

	/* LT_K_HOST_HEARTBEAT: the whole inventory.  has_inventory is 0 for
	   a heartbeat without components/actors and providers (the spec
	   page's bare example): then the inventory is left as it is. */
	int		 has_inventory;
	int		 comp_counts_only; /* OTP map {pk: count}: image_ref etc.
				   are NULL and mean "keep what is known" */
	struct lt_ce_component *components;
	size_t		 ncomponents;
	struct lt_ce_provider *providers;
	size_t		 nproviders;
	uint64_t	 inventory_hash; /* over components and providers, in
				   order: equal hashes mean equal inventory */
	uint64_t	 inventory_raw;	/* over the raw bytes of the inventory
				   members: equal bytes, equal hash */
	int		 has_inventory_raw; /* 0: the members could not be
				   found on their raw keys (escaped or
				   repeated keys); inventory_raw is 0 */
	int		 inventory_deferred; /* LT_CE_DEFER_INVENTORY: the
				   items are not decoded (components and
				   providers empty, inventory_hash 0) until
				   lt_ce_inventory() */

	/* LT_K_COMPONENT: one component and the op. */
	enum lt_comp_op	 comp_op;
	int64_t		 comp_count;	/* SET: new max; ADD: delta */
	struct lt_ce_component component;

	/* LT_K_PROVIDER_*, LT_K_PROVIDER_HEALTH */
	struct lt_ce_provider provider;
	enum lt_health	 health;

	/* LT_K_LINK_SET, LT_K_LINK_DELETED; also filled for
	   linkdef_set_failed */
	struct lt_ce_link link;

	/* LT_K_CONFIG_*: config_name; legacy 0.82 sends {entity_id, key}:
	   config_name is entity_id and config_key the key. */
	const char	*config_name;
	const char	*config_key;

	/* LT_K_V2_HEARTBEAT: the v2-only fields (borrowed, like the rest). */
	const struct lt_v2hb *v2;
	/* Set by a decoder other than lt_ce_parse() (v2hb.h): lt_ce_free()
	   hands the event to it. */
	void		(*release)(struct lt_ce *);
};

/*
 * Decode buf[0..len) (need not be NUL-terminated).  On LT_OK *out is a new
 * event; on error *out is NULL and err says why.
 */
int	lt_ce_parse(const char *buf, size_t len, const struct lt_limits *lim,
	    struct lt_ce **out, struct lt_err *err);

/*
 * lt_ce_parse() with flags.  LT_CE_DEFER_INVENTORY: a heartbeat's
 * inventory items are validated as JSON but not decoded; the caller
 * compares inventory_raw with what it applied last and calls
 * lt_ce_inventory() only when they differ.  Only a heartbeat whose
 * inventory members have plain, unrepeated keys is deferred.
 */
#define LT_CE_DEFER_INVENTORY	0x1
int	lt_ce_parse_flags(const char *buf, size_t len,
	    const struct lt_limits *lim, int flags, struct lt_ce **out,
	    struct lt_err *err);

/*
 * Decode a deferred inventory (a no-op for any other event): fills
 * components, providers and inventory_hash exactly as lt_ce_parse() does,
 * with the same errors (LT_EINVAL, LT_ELIMIT; err names the field).  On
 * error the event must be treated as rejected.
 */
int	lt_ce_inventory(struct lt_ce *ev, const struct lt_limits *lim,
	    struct lt_err *err);

/*
 * Decode a deferred inventory ahead of need, typically on another thread
 * than the one that will call lt_ce_inventory() (the decode stage; the
 * event then passes to the fold through a queue, whose lock orders the
 * two).  The result is kept aside: the event still reads as deferred
 * (components and providers empty, inventory_hash 0) until
 * lt_ce_inventory() adopts it without decoding again and returns what it
 * would have returned, errors included -- so whether and when an
 * inventory was prepared changes nothing a caller can see but the time
 * lt_ce_inventory() takes.  lt_ce_inventory() with other limits than
 * these decodes afresh.  A no-op for an event without a deferred
 * inventory, or one already prepared.  Returns LT_OK, or LT_ENOMEM (then
 * nothing is kept: lt_ce_inventory() decodes).
 */
int	lt_ce_inventory_prepare(struct lt_ce *ev,
	    const struct lt_limits *lim);

/* Free an event from lt_ce_parse().  NULL is fine. */
void	lt_ce_free(struct lt_ce *ev);

#endif
