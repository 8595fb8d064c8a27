/*
 * kinds.h - the event kinds latticed models: one row each.
 *
 * LT_KINDS(X) is the table.  A row is
 *
 *	X(ID, name, fold rule, alert rule, fixture)
 *
 * ID makes enum lt_kind's LT_K_<ID>; name is what docs, tests and the
 * fuzzers call it; the fold rule (fold.c) applies a decoded event of the
 * kind to the model; the alert rule (alert.c) fires and resolves what an
 * applied event implies (alert_none: nothing); fixture is a file under
 * tests/data/events/ that decodes to the kind (check_kinds folds each one):
 * a CloudEvent (.json), or one replay line with its subject (.jsonl) for a
 * kind whose decoder the subject chooses.  The CloudEvent decoders live in
 * ce.c's table of wire types, since several wire types decode to one kind
 * (component_scaled, actor_scaled, actors_started ... are all
 * LT_K_COMPONENT); a message on runtime.operator.heartbeat.<id> goes to
 * v2hb.c instead (lt_fold_decode()).
 *
 * Adding a kind: a row here; its wire type(s) and decoder in ce.c; the
 * fold rule and the alert rule it names; a fixture.  The compiler then
 * insists on the rest: every module takes its column from this table, and
 * the tests and fuzzers iterate it up to LT_K_COUNT.  docs/hacking.md has
 * the recipe.
 */
#ifndef LT_KINDS_H
#define LT_KINDS_H

#define LT_KINDS(X)							\
	/* valid, kept in history, changes nothing: unknown types,	\
	   *_failed, rpc notifications */				\
	X(RECORDED, "recorded", fold_recorded, alert_recorded,		\
	    "v1_unknown_type.json")					\
	X(HOST_STARTED, "host_started", fold_hosted, alert_host,	\
	    "v1_host_started.json")					\
	X(HOST_STOPPED, "host_stopped", fold_hosted, alert_host,	\
	    "v1_host_stopped.json")					\
	X(HOST_HEARTBEAT, "host_heartbeat", fold_hosted, alert_host,	\
	    "v1_host_heartbeat.json")					\
	X(LABELS_CHANGED, "labels_changed", fold_hosted, alert_none,	\
	    "v1_labels_changed.json")					\
	/* see enum lt_comp_op */					\
	X(COMPONENT, "component", fold_hosted, alert_component,	\
	    "v1_component_scaled.json")					\
	X(PROVIDER_STARTED, "provider_started", fold_hosted,		\
	    alert_provider_started, "v1_provider_started.json")		\
	X(PROVIDER_STOPPED, "provider_stopped", fold_hosted,		\
	    alert_provider_stopped, "v1_provider_stopped.json")		\
	/* see enum lt_health */					\
	X(PROVIDER_HEALTH, "provider_health", fold_hosted, alert_health, \
	    "v1_health_check_failed.json")				\
	X(LINK_SET, "link_set", fold_link, alert_link_set,		\
	    "v1_linkdef_set.json")					\
	X(LINK_DELETED, "link_deleted", fold_link, alert_none,		\
	    "v1_linkdef_deleted.json")					\
	X(CONFIG_SET, "config_set", fold_config, alert_none,		\
	    "v1_config_set.json")					\
	X(CONFIG_DELETED, "config_deleted", fold_config, alert_none,	\
	    "v1_config_deleted.json")					\
	/* a wasmCloud 2 HostHeartbeat (v2hb.h: its own decoder, chosen	\
	   by the subject), not a CloudEvent: ev->v2 has its fields */	\
	X(V2_HEARTBEAT, "v2_heartbeat", fold_v2, alert_v2_host,	\
	    "v2_host_heartbeat.jsonl")

enum lt_kind {
#define LT_KIND_ENUM(id, name, fold, alert, fixture)	LT_K_##id,
	LT_KINDS(LT_KIND_ENUM)
#undef LT_KIND_ENUM
	LT_K_COUNT		/* sentinel: the number of kinds */
};

/* The name of a kind ("host_heartbeat"), "unknown" out of range. */
const char *lt_kind_name(int kind);
/* The fixture of a kind (a file name under tests/data/events/). */
const char *lt_kind_fixture(int kind);

#endif
