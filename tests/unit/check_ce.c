/*
 * check_ce.c - the CloudEvent decoder: every real host shape, every reject
 * class, limits and edge cases.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ce.h"
#include "json.h"
#include "err.h"

#define H1	"NCQDNJWGAISVBPU4VF45AKDTOTU6NI74WZFNW73ZR7K7NJ72AV7PUDHP"
#define H2	"NBJA6SRRAF5RDCQPGH4GH5ZSEAFLFTFZVSWDIZ6NJ6WHBBRJXMUZMHQU"
#define HOTP	"NDZYGCF3YPQYQ3NBJQ6QTY2OVO7XRWZTRIJLHXXM2DSGZMPTLCNGYEZA"
#define ACTOR	"MBCFOPM6JW2APJLXJD3Z5O4CN7CPYJ2B4FTKLJUR5YR5MITIU7HD3WD5"
#define PROV	"VAG3QITQQ2ODAOWB5TTQSDJ53XK3SHBEIFNK4AYJ5RKAX2UNSCAPHA5M"
#define ANN	"{\"wasmcloud.dev/appspec\":\"echo\"," \
		"\"wasmcloud.dev/scaler\":\"x\"}"
#define LABELS	"{\"hostcore.os\":\"linux\"," \
		"\"hostcore.arch\":\"x86_64\"," \
		"\"zone\":\"eu-1\"}"

/* Envelope around a data object for inline cases. */
#define EV(type, data) "{\"specversion\":\"1.0\",\"id\":\"e1\"," \
	"\"source\":\"" H1 "\",\"type\":\"com.wasmcloud.lattice." type \
	"\",\"time\":\"2024-06-13T18:00:00Z\",\"data\":" data "}"

static struct lt_limits lim;

/* Read a fixture from tests/data/events into a malloc'd buffer. */
static char *
slurp(const char *name, size_t *len)
{
	char	 path[512], *buf;
	FILE	*f;
	long	 n;

	snprintf(path, sizeof(path), "%s/events/%s", TEST_DATA_DIR, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Decode a fixture that must be valid. */
static struct lt_ce *
load(const char *name)
{
	struct lt_ce	*ev = NULL;
	struct lt_err	 err;
	size_t		 len;
	char		*buf;
	int		 rc;

	buf = slurp(name, &len);
	/* An exact-size heap buffer: no NUL after the bytes. */
	rc = lt_ce_parse(buf, len, &lim, &ev, &err);
	ck_assert_msg(rc == LT_OK, "%s: %s (%s) %s", name, lt_strerror(rc),
	    err.field, err.msg);
	ck_assert_ptr_nonnull(ev);
	free(buf);
	return ev;
}

/* Decode inline text; return the status, fill err. */
static int
parse_str(const char *s, struct lt_ce **ev, struct lt_err *err)
{
	return lt_ce_parse(s, strlen(s), &lim, ev, err);
}

/*
 * Decode as the fold does: inventory deferred, then decoded.  Must give
 * what lt_ce_parse() gives, errors included.
 */
static int
parse_deferred(const char *s, size_t len, struct lt_ce **ev,
    struct lt_err *err)
{
	int	rc;

	if ((rc = lt_ce_parse_flags(s, len, &lim, LT_CE_DEFER_INVENTORY, ev,
	    err)) != LT_OK)
		return rc;
	if ((*ev)->inventory_deferred) {
		ck_assert_int_eq((*ev)->ncomponents, 0);
		ck_assert_int_eq((*ev)->nproviders, 0);
		ck_assert_int_eq((*ev)->has_inventory, 1);
	}
	if ((rc = lt_ce_inventory(*ev, &lim, err)) != LT_OK) {
		lt_ce_free(*ev);
		*ev = NULL;
		return rc;
	}
	ck_assert_int_eq((*ev)->inventory_deferred, 0);
	return LT_OK;
}

/* a and b decoded the same inventory. */
static void
same_inventory(const struct lt_ce *a, const struct lt_ce *b)
{
	size_t	i;

	ck_assert_int_eq(a->kind, b->kind);
	ck_assert_int_eq(a->has_inventory, b->has_inventory);
	ck_assert_int_eq(a->comp_counts_only, b->comp_counts_only);
	ck_assert(a->inventory_hash == b->inventory_hash);
	ck_assert_int_eq(a->has_inventory_raw, b->has_inventory_raw);
	ck_assert(a->inventory_raw == b->inventory_raw);
	ck_assert_int_eq(a->ncomponents, b->ncomponents);
	ck_assert_int_eq(a->nproviders, b->nproviders);
	for (i = 0; i < a->ncomponents; i++) {
		ck_assert_str_eq(a->components[i].id, b->components[i].id);
		ck_assert_int_eq(a->components[i].max_instances,
		    b->components[i].max_instances);
	}
	for (i = 0; i < a->nproviders; i++)
		ck_assert_str_eq(a->providers[i].id, b->providers[i].id);
}

#define ck_null(p)	ck_assert_ptr_null(p)

static void
setup(void)
{
	lt_limits_default(&lim);
}

START_TEST(v1_component_scaled)
{
	struct lt_ce	*ev = load("v1_component_scaled.json");

	ck_assert_str_eq(ev->id, "01900000-0000-7000-8000-000000000005");
	ck_assert_str_eq(ev->source, H1);
	ck_assert_str_eq(ev->type, "com.wasmcloud.lattice.component_scaled");
	ck_assert_str_eq(ev->name, "component_scaled");
	ck_assert_str_eq(ev->time_raw, "2024-06-13T18:00:40.856590Z");
	ck_assert_int_eq(ev->time_ok, 1);
	ck_assert_int_eq(ev->time_ms, 1718301640856LL);
	ck_assert_int_eq(ev->kind, LT_K_COMPONENT);
	ck_assert_int_eq(ev->failure, LT_FAIL_NONE);
	ck_assert_str_eq(ev->host_id, H1);
	ck_assert_int_eq(ev->comp_op, LT_COMP_SET);
	ck_assert_int_eq(ev->comp_count, 5);
	ck_assert_str_eq(ev->component.id, "echo");
	ck_assert_str_eq(ev->component.image_ref,
	    "ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0");
	ck_assert_str_eq(ev->component.annotations, ANN);
	ck_assert_int_eq(ev->component.max_instances, 5);
	ck_assert_int_eq(ev->component.has_revision, 0);
	ck_null(ev->component.name);
	ck_null(ev->error);
	ck_assert_int_eq(ev->ncomponents, 0);
	lt_ce_free(ev);
}
END_TEST

START_TEST(v1_component_scaled_claims)
{
	struct lt_ce	*ev = load("v1_component_scaled_claims.json");

	ck_assert_int_eq(ev->kind, LT_K_COMPONENT);
	ck_assert_int_eq(ev->comp_op, LT_COMP_SET);
	/* component_id wins over the claims subject. */
	ck_assert_str_eq(ev->component.id, "blobby-blobby");
	ck_assert_int_eq(ev->comp_count, 4294967295LL);
	ck_assert_str_eq(ev->component.name, "echo");
	ck_assert_int_eq(ev->component.has_revision, 1);
	ck_assert_int_eq(ev->component.revision, 0);
	ck_assert_str_eq(ev->component.annotations, "{}");
	lt_ce_free(ev);
}
END_TEST

START_TEST(v1_component_scaled_zero)
{
	struct lt_ce	*ev = load("v1_component_scaled_zero.json");

	ck_assert_int_eq(ev->comp_op, LT_COMP_SET);
	ck_assert_int_eq(ev->comp_count, 0);
	ck_assert_int_eq(ev->component.max_instances, 0);
	lt_ce_free(ev);
}
END_TEST

START_TEST(v1_component_scale_failed)
{
	struct lt_ce	*ev = load("v1_component_scale_failed.json");

	ck_assert_int_eq(ev->kind, LT_K_RECORDED);
	ck_assert_int_eq(ev->failure, LT_FAIL_COMPONENT_SCALE);
	ck_assert_str_eq(ev->error, "failed to fetch component: 404 not found");
	ck_assert_str_eq(ev->host_id, H1);
	ck_assert_str_eq(ev->component.id, "echo");
	ck_assert_str_eq(ev->component.image_ref,
	    "ghcr.io/wasmcloud/nope:0.1.0");
	lt_ce_free(ev);
}
END_TEST

START_TEST(alpha_actor_scaled)
{
	struct lt_ce	*ev = load("alpha_actor_scaled.json");

	ck_assert_int_eq(ev->kind, LT_K_COMPONENT);
	ck_assert_int_eq(ev->comp_op, LT_COMP_SET);
	ck_assert_str_eq(ev->component.id, "echo");
	ck_assert_int_eq(ev->comp_count, 2);
	ck_assert_str_eq(ev->component.image_ref,
	    "wasmcloud.azurecr.io/echo:0.3.8");
	ck_assert_str_eq(ev->component.name, "echo");
	lt_ce_free(ev);
	ev = load("alpha_actor_scaled_noclaims.json");
	ck_assert_int_eq(ev->comp_op, LT_COMP_SET);
	ck_assert_int_eq(ev->comp_count, 0);
	ck_assert_str_eq(ev->component.image_ref, "file:///echo.wasm");
	ck_null(ev->component.name);
	lt_ce_free(ev);
}
END_TEST

START_TEST(v082_actor_scaled)
{
	struct lt_ce	*ev = load("v082_actor_scaled.json");

	ck_assert_int_eq(ev->kind, LT_K_COMPONENT);
	ck_assert_int_eq(ev->comp_op, LT_COMP_META);
	ck_assert_str_eq(ev->component.id, ACTOR);
	ck_assert_str_eq(ev->component.image_ref,
	    "wasmcloud.azurecr.io/echo:0.3.8");
	ck_assert_str_eq(ev->component.annotations, ANN);
	ck_assert_str_eq(ev->host_id, H2);
	lt_ce_free(ev);
}
END_TEST

START_TEST(v082_actors_started)
{
	struct lt_ce	*ev = load("v082_actors_started.json");

	ck_assert_int_eq(ev->kind, LT_K_COMPONENT);
	ck_assert_int_eq(ev->comp_op, LT_COMP_ADD);
	ck_assert_int_eq(ev->comp_count, 3);
	ck_assert_str_eq(ev->component.id, ACTOR);
	ck_assert_str_eq(ev->component.name, "echo");
	ck_assert_str_eq(ev->host_id, H2);
	lt_ce_free(ev);
}
END_TEST

START_TEST(v082_actors_stopped)
{
	struct lt_ce	*ev = load("v082_actors_stopped.json");

	ck_assert_int_eq(ev->kind, LT_K_COMPONENT);
	ck_assert_int_eq(ev->comp_op, LT_COMP_SET);
	ck_assert_int_eq(ev->comp_count, 1);	/* remaining, not count */
	ck_assert_str_eq(ev->component.id, ACTOR);
	lt_ce_free(ev);
	ev = load("v082_actors_stopped_all.json");
	ck_assert_int_eq(ev->comp_op, LT_COMP_SET);
	ck_assert_int_eq(ev->comp_count, 0);
	lt_ce_free(ev);
}
END_TEST

START_TEST(v082_failures)
{
	struct lt_ce	*ev = load("v082_actor_scale_failed.json");

	ck_assert_int_eq(ev->kind, LT_K_RECORDED);
	ck_assert_int_eq(ev->failure, LT_FAIL_COMPONENT_SCALE);
	ck_assert_str_eq(ev->error, "no");
	ck_assert_str_eq(ev->component.id, ACTOR);
	lt_ce_free(ev);
	ev = load("v082_actors_start_failed.json");
	ck_assert_int_eq(ev->kind, LT_K_RECORDED);
	ck_assert_int_eq(ev->failure, LT_FAIL_COMPONENT_SCALE);
	ck_assert_str_eq(ev->error, "failed to instantiate");
	ck_assert_str_eq(ev->host_id, H2);
	lt_ce_free(ev);
	ev = load("otp_actor_start_failed.json");
	ck_assert_int_eq(ev->kind, LT_K_RECORDED);
	ck_assert_int_eq(ev->failure, LT_FAIL_COMPONENT_SCALE);
	ck_assert_str_eq(ev->error, "not found");
	ck_assert_str_eq(ev->host_id, HOTP);
	ck_assert_str_eq(ev->component.image_ref,
	    "wasmcloud.azurecr.io/nope:0.1.0");
	lt_ce_free(ev);
}
END_TEST

START_TEST(otp_actor_started_stopped)
{
	struct lt_ce	*ev = load("otp_actor_started.json");

	ck_assert_int_eq(ev->kind, LT_K_COMPONENT);
	ck_assert_int_eq(ev->comp_op, LT_COMP_ADD);
	ck_assert_int_eq(ev->comp_count, 1);
	ck_assert_str_eq(ev->component.id, ACTOR);
	ck_assert_str_eq(ev->host_id, HOTP);	/* from source */
	ck_assert_str_eq(ev->component.name, "echo");
	ck_assert_int_eq(ev->time_ms, 1677664830000LL);
	lt_ce_free(ev);
	ev = load("otp_actor_stopped.json");
	ck_assert_int_eq(ev->comp_op, LT_COMP_ADD);
	ck_assert_int_eq(ev->comp_count, -1);
	ck_assert_int_eq(ev->component.max_instances, 0);
	ck_assert_str_eq(ev->host_id, HOTP);
	lt_ce_free(ev);
}
END_TEST

START_TEST(providers)
{
	struct lt_ce	*ev = load("v1_provider_started.json");

	ck_assert_int_eq(ev->kind, LT_K_PROVIDER_STARTED);
	ck_assert_str_eq(ev->provider.id, "http-server");
	ck_assert_str_eq(ev->provider.link_name, "default");
	ck_assert_str_eq(ev->provider.image_ref,
	    "ghcr.io/wasmcloud/http-server:0.22.0");
	ck_assert_str_eq(ev->provider.annotations, ANN);
	ck_null(ev->provider.contract_id);
	ck_assert_str_eq(ev->host_id, H1);
	lt_ce_free(ev);

	ev = load("v1_provider_started_claims.json");
	ck_assert_str_eq(ev->provider.id, "http-server");
	ck_assert_str_eq(ev->provider.name, "httpserver");
	ck_assert_int_eq(ev->provider.has_revision, 0);
	lt_ce_free(ev);

	ev = load("v082_provider_started.json");
	ck_assert_int_eq(ev->kind, LT_K_PROVIDER_STARTED);
	ck_assert_str_eq(ev->provider.id, PROV);
	ck_assert_str_eq(ev->provider.link_name, "default");
	ck_assert_str_eq(ev->provider.contract_id, "wasmcloud:httpserver");
	ck_assert_str_eq(ev->provider.image_ref,
	    "wasmcloud.azurecr.io/httpserver:0.19.1");
	ck_assert_str_eq(ev->host_id, H2);
	lt_ce_free(ev);

	ev = load("v1_provider_stopped.json");
	ck_assert_int_eq(ev->kind, LT_K_PROVIDER_STOPPED);
	ck_assert_str_eq(ev->provider.id, "http-server");
	ck_assert_str_eq(ev->reason, "stop");
	lt_ce_free(ev);

	ev = load("v082_provider_stopped.json");
	ck_assert_int_eq(ev->kind, LT_K_PROVIDER_STOPPED);
	ck_assert_str_eq(ev->provider.id, PROV);
	ck_assert_str_eq(ev->provider.contract_id, "wasmcloud:httpserver");
	ck_assert_str_eq(ev->reason, "stop");
	lt_ce_free(ev);

	ev = load("v1_provider_start_failed.json");
	ck_assert_int_eq(ev->kind, LT_K_RECORDED);
	ck_assert_int_eq(ev->failure, LT_FAIL_PROVIDER_START);
	ck_assert_str_eq(ev->error, "failed to fetch provider");
	ck_assert_str_eq(ev->provider.id, "nope");
	ck_assert_str_eq(ev->provider.image_ref,
	    "ghcr.io/wasmcloud/nope:0.1.0");
	ck_assert_str_eq(ev->host_id, H1);
	lt_ce_free(ev);

	ev = load("v082_provider_start_failed.json");
	ck_assert_int_eq(ev->failure, LT_FAIL_PROVIDER_START);
	ck_null(ev->provider.id);
	ck_assert_str_eq(ev->host_id, H2);	/* from source */
	ck_assert_str_eq(ev->error, "failed to fetch");
	lt_ce_free(ev);
}
END_TEST

START_TEST(health)
{
	static const struct {
		const char	*file;
		enum lt_health	 h;
		const char	*id, *host;
	} t[] = {
		{ "v1_health_check_passed.json", LT_HEALTH_PASSING,
		    "http-server", H1 },
		{ "v1_health_check_failed.json", LT_HEALTH_FAILING,
		    "http-server", H1 },
		{ "v1_health_check_status.json", LT_HEALTH_STATUS,
		    "http-server", H1 },
		{ "v082_health_check_passed.json", LT_HEALTH_PASSING, PROV,
		    H2 },
		{ "v082_health_check_failed.json", LT_HEALTH_FAILING, PROV,
		    H2 },
		{ "v082_health_check_status.json", LT_HEALTH_STATUS, PROV,
		    H2 },
	};
	struct lt_ce	*ev;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ev = load(t[i].file);
		ck_assert_int_eq(ev->kind, LT_K_PROVIDER_HEALTH);
		ck_assert_int_eq(ev->health, t[i].h);
		ck_assert_str_eq(ev->provider.id, t[i].id);
		ck_assert_str_eq(ev->provider.link_name, "default");
		ck_assert_str_eq(ev->host_id, t[i].host);
		lt_ce_free(ev);
	}
}
END_TEST

START_TEST(links)
{
	struct lt_ce	*ev = load("v1_linkdef_set.json");

	ck_assert_int_eq(ev->kind, LT_K_LINK_SET);
	ck_assert_str_eq(ev->link.source_id, "http-server");
	ck_assert_str_eq(ev->link.target, "echo");
	ck_assert_str_eq(ev->link.name, "default");
	ck_assert_str_eq(ev->link.wit_namespace, "wasi");
	ck_assert_str_eq(ev->link.wit_package, "http");
	ck_assert_str_eq(ev->link.interfaces, "[\"incoming-handler\"]");
	ck_assert_str_eq(ev->link.source_config, "[\"default-http\"]");
	ck_assert_str_eq(ev->link.target_config, "[]");
	ck_null(ev->link.legacy_values);
	ck_null(ev->host_id);
	lt_ce_free(ev);

	ev = load("pretty_linkdef_set.json");
	ck_assert_int_eq(ev->kind, LT_K_LINK_SET);
	ck_assert_str_eq(ev->link.interfaces, "[\"incoming-handler\"]");
	lt_ce_free(ev);

	ev = load("v1_linkdef_deleted.json");
	ck_assert_int_eq(ev->kind, LT_K_LINK_DELETED);
	ck_assert_str_eq(ev->link.target, "echo");
	ck_assert_str_eq(ev->link.interfaces, "[\"incoming-handler\"]");
	ck_null(ev->link.source_config);
	lt_ce_free(ev);

	ev = load("v1_linkdef_deleted_notarget.json");
	ck_assert_int_eq(ev->kind, LT_K_LINK_DELETED);
	ck_assert_str_eq(ev->link.source_id, "http-server");
	ck_null(ev->link.target);
	ck_null(ev->link.interfaces);
	ck_assert_str_eq(ev->link.wit_package, "http");
	lt_ce_free(ev);

	ev = load("v082_linkdef_set.json");
	ck_assert_int_eq(ev->kind, LT_K_LINK_SET);
	ck_assert_str_eq(ev->link.source_id, ACTOR);
	ck_assert_str_eq(ev->link.target, PROV);
	ck_assert_str_eq(ev->link.name, "default");
	ck_assert_str_eq(ev->link.wit_namespace, "wasmcloud");
	ck_assert_str_eq(ev->link.wit_package, "httpserver");
	ck_assert_str_eq(ev->link.legacy_values,
	    "{\"address\":\"0.0.0.0:8080\"}");
	ck_null(ev->link.interfaces);
	lt_ce_free(ev);

	ev = load("v082_linkdef_deleted.json");
	ck_assert_int_eq(ev->kind, LT_K_LINK_DELETED);
	ck_assert_str_eq(ev->link.source_id, ACTOR);
	ck_assert_str_eq(ev->link.wit_package, "httpserver");
	lt_ce_free(ev);

	ev = load("v1_linkdef_set_failed.json");
	ck_assert_int_eq(ev->kind, LT_K_RECORDED);
	ck_assert_int_eq(ev->failure, LT_FAIL_LINK_SET);
	ck_assert_str_eq(ev->error, "link target does not exist");
	ck_assert_str_eq(ev->link.source_id, "http-server");
	ck_assert_str_eq(ev->link.target, "echo");
	ck_assert_str_eq(ev->host_id, H1);
	lt_ce_free(ev);
}
END_TEST

START_TEST(configs)
{
	struct lt_ce	*ev = load("v1_config_set.json");

	ck_assert_int_eq(ev->kind, LT_K_CONFIG_SET);
	ck_assert_str_eq(ev->config_name, "default-http");
	ck_null(ev->config_key);
	lt_ce_free(ev);
	ev = load("v1_config_deleted.json");
	ck_assert_int_eq(ev->kind, LT_K_CONFIG_DELETED);
	ck_assert_str_eq(ev->config_name, "default-http");
	lt_ce_free(ev);
	ev = load("v082_config_set.json");
	ck_assert_int_eq(ev->kind, LT_K_CONFIG_SET);
	ck_assert_str_eq(ev->config_name, ACTOR);
	ck_assert_str_eq(ev->config_key, "greeting");
	lt_ce_free(ev);
	ev = load("v082_config_deleted.json");
	ck_assert_int_eq(ev->kind, LT_K_CONFIG_DELETED);
	ck_assert_str_eq(ev->config_key, "greeting");
	lt_ce_free(ev);
	ev = load("v1_no_time.json");
	ck_assert_int_eq(ev->kind, LT_K_CONFIG_SET);
	ck_null(ev->time_raw);
	ck_assert_int_eq(ev->time_ok, 0);
	lt_ce_free(ev);
}
END_TEST

START_TEST(hosts)
{
	struct lt_ce	*ev = load("v1_host_started.json");

	ck_assert_int_eq(ev->kind, LT_K_HOST_STARTED);
	ck_assert_str_eq(ev->host_id, H1);
	ck_assert_str_eq(ev->friendly_name, "wild-field-1234");
	ck_assert_str_eq(ev->labels, LABELS);
	ck_assert_str_eq(ev->version, "1.9.2");
	ck_assert_int_eq(ev->has_uptime, 1);
	ck_assert_int_eq(ev->uptime_seconds, 0);
	lt_ce_free(ev);

	ev = load("otp_host_started.json");
	ck_assert_int_eq(ev->kind, LT_K_HOST_STARTED);
	ck_assert_str_eq(ev->host_id, HOTP);
	ck_assert_int_eq(ev->has_uptime, 0);
	ck_null(ev->version);
	lt_ce_free(ev);

	ev = load("v1_host_stopped.json");
	ck_assert_int_eq(ev->kind, LT_K_HOST_STOPPED);
	ck_assert_str_eq(ev->host_id, H1);
	ck_assert_str_eq(ev->labels, LABELS);
	ck_null(ev->reason);
	lt_ce_free(ev);

	ev = load("v1_host_stopped_spec.json");
	ck_assert_int_eq(ev->kind, LT_K_HOST_STOPPED);
	ck_assert_str_eq(ev->labels, "{\"key\":\"value\"}");
	ck_assert_str_eq(ev->reason, "stop");
	lt_ce_free(ev);

	ev = load("v1_labels_changed.json");
	ck_assert_int_eq(ev->kind, LT_K_LABELS_CHANGED);
	ck_assert_str_eq(ev->host_id, H1);
	ck_assert_str_eq(ev->labels, "{\"hostcore.os\":\"linux\","
	    "\"hostcore.arch\":\"x86_64\",\"zone\":\"eu-2\"}");
	lt_ce_free(ev);
}
END_TEST

START_TEST(heartbeat_v1)
{
	struct lt_ce	*ev = load("v1_host_heartbeat.json"), *pretty;

	ck_assert_int_eq(ev->kind, LT_K_HOST_HEARTBEAT);
	ck_assert_str_eq(ev->host_id, H1);
	ck_assert_str_eq(ev->friendly_name, "wild-field-1234");
	ck_assert_str_eq(ev->version, "1.9.2");
	ck_assert_int_eq(ev->uptime_seconds, 90);
	ck_assert_str_eq(ev->labels, LABELS);
	ck_assert_int_eq(ev->has_inventory, 1);
	ck_assert_int_eq(ev->comp_counts_only, 0);
	ck_assert_int_eq(ev->ncomponents, 2);
	ck_assert_str_eq(ev->components[0].id, "echo");
	ck_assert_str_eq(ev->components[0].name, "echo");
	ck_assert_str_eq(ev->components[0].annotations, ANN);
	ck_assert_int_eq(ev->components[0].max_instances, 100);
	ck_assert_int_eq(ev->components[0].has_revision, 1);
	ck_assert_int_eq(ev->components[0].revision, 0);
	ck_assert_str_eq(ev->components[1].id, "kv-counter");
	ck_assert_str_eq(ev->components[1].image_ref, "file:///tmp/kv.wasm");
	ck_null(ev->components[1].annotations);
	ck_assert_int_eq(ev->components[1].revision, 3);
	ck_assert_int_eq(ev->components[1].max_instances, 1);
	ck_assert_int_eq(ev->nproviders, 2);
	ck_assert_str_eq(ev->providers[0].id, "http-server");
	ck_assert_str_eq(ev->providers[0].name, "http-server-provider");
	ck_assert_str_eq(ev->providers[0].link_name, "default");
	ck_assert_str_eq(ev->providers[1].id, "nats-messaging");
	ck_null(ev->providers[1].image_ref);

	/* The pretty-printed copy is the same inventory. */
	pretty = load("pretty_host_heartbeat.json");
	ck_assert_int_eq(pretty->ncomponents, 2);
	ck_assert(pretty->inventory_hash == ev->inventory_hash);
	ck_assert_str_eq(pretty->labels, ev->labels);
	lt_ce_free(pretty);
	lt_ce_free(ev);

	ev = load("v1_host_heartbeat_empty.json");
	ck_assert_int_eq(ev->has_inventory, 1);
	ck_assert_int_eq(ev->ncomponents, 0);
	ck_assert_int_eq(ev->nproviders, 0);
	ck_assert_str_eq(ev->labels, "{}");
	lt_ce_free(ev);

	ev = load("v1_host_heartbeat_bare.json");
	ck_assert_int_eq(ev->kind, LT_K_HOST_HEARTBEAT);
	ck_assert_int_eq(ev->has_inventory, 0);
	ck_assert_int_eq(ev->uptime_seconds, 1000);
	ck_assert_int_eq(ev->time_ok, 1);
	ck_assert_int_eq(ev->time_ms, 1686614400000LL);
	lt_ce_free(ev);
}
END_TEST

START_TEST(heartbeat_v082)
{
	struct lt_ce	*ev = load("v082_host_heartbeat.json"), *pretty;

	ck_assert_int_eq(ev->kind, LT_K_HOST_HEARTBEAT);
	ck_assert_str_eq(ev->host_id, H2);
	ck_assert_int_eq(ev->has_inventory, 1);
	ck_assert_int_eq(ev->comp_counts_only, 0);
	ck_assert_int_eq(ev->ncomponents, 1);
	ck_assert_str_eq(ev->components[0].id, ACTOR);
	ck_assert_str_eq(ev->components[0].name, "echo");
	ck_assert_str_eq(ev->components[0].image_ref,
	    "wasmcloud.azurecr.io/echo:0.3.8");
	ck_assert_int_eq(ev->components[0].max_instances, 4);	/* 3 + 1 */
	ck_assert_str_eq(ev->components[0].annotations, ANN);	/* first */
	ck_assert_int_eq(ev->nproviders, 1);
	ck_assert_str_eq(ev->providers[0].id, PROV);
	ck_assert_str_eq(ev->providers[0].contract_id,
	    "wasmcloud:httpserver");
	ck_assert_str_eq(ev->providers[0].link_name, "default");
	ck_assert_str_eq(ev->providers[0].name, "httpserver");
	ck_assert_str_eq(ev->version, "0.82.0");
	pretty = load("pretty_v082_heartbeat.json");
	ck_assert(pretty->inventory_hash == ev->inventory_hash);
	lt_ce_free(pretty);
	lt_ce_free(ev);
}
END_TEST

START_TEST(heartbeat_otp)
{
	struct lt_ce	*ev = load("otp_host_heartbeat.json");

	ck_assert_int_eq(ev->kind, LT_K_HOST_HEARTBEAT);
	ck_assert_str_eq(ev->host_id, HOTP);
	ck_assert_int_eq(ev->has_inventory, 1);
	ck_assert_int_eq(ev->comp_counts_only, 1);
	ck_assert_int_eq(ev->ncomponents, 2);
	ck_assert_str_eq(ev->components[0].id, ACTOR);
	ck_assert_int_eq(ev->components[0].max_instances, 2);
	ck_null(ev->components[0].image_ref);
	ck_assert_str_eq(ev->components[1].id,
	    "MAKOEFBH3NPWSCB2DTLXVCNNJJ3JG3FBHRTDOSMAKJMHLQEYKN5NYBH3");
	ck_assert_int_eq(ev->components[1].max_instances, 1);
	ck_assert_int_eq(ev->nproviders, 1);
	ck_assert_str_eq(ev->providers[0].id, PROV);
	ck_assert_str_eq(ev->providers[0].contract_id,
	    "wasmcloud:httpserver");
	ck_assert_str_eq(ev->friendly_name, "otp-host");
	ck_assert_str_eq(ev->version, "0.63.1");
	lt_ce_free(ev);
}
END_TEST

START_TEST(recorded)
{
	struct lt_ce	*ev = load("v1_unknown_type.json");

	ck_assert_int_eq(ev->kind, LT_K_RECORDED);
	ck_assert_int_eq(ev->failure, LT_FAIL_NONE);
	ck_assert_str_eq(ev->name, "refmap_set");
	ck_assert_int_eq(ev->time_ms, 1718301653856LL);
	lt_ce_free(ev);
	ev = load("rpc_invocation_failed.json");
	ck_assert_int_eq(ev->kind, LT_K_RECORDED);
	ck_assert_int_eq(ev->failure, LT_FAIL_RPC);
	ck_assert_str_eq(ev->error, "actor trapped");
	lt_ce_free(ev);
	ev = load("rpc_invocation_succeeded.json");
	ck_assert_int_eq(ev->kind, LT_K_RECORDED);
	ck_assert_int_eq(ev->failure, LT_FAIL_NONE);
	lt_ce_free(ev);
	ev = load("v1_provider_stopped_badtime.json");
	ck_assert_int_eq(ev->kind, LT_K_PROVIDER_STOPPED);
	ck_assert_int_eq(ev->time_ok, 0);
	ck_assert_str_eq(ev->time_raw, "2023-06-13T01:12:88.856590Z");
	lt_ce_free(ev);
}
END_TEST

/* Inline events that must be rejected, with the code and field. */
static const struct {
	const char	*json;
	int		 code;
	const char	*field;
} rejects[] = {
	{ "", LT_EPARSE, "" },
	{ "not json", LT_EPARSE, "" },
	{ "{\"specversion\":\"1.0\"", LT_EPARSE, "" },
	{ EV("config_set", "{\"config_name\":\"c\"}") "x", LT_EPARSE, "" },
	{ "[1,2]", LT_EINVAL, "" },
	/* Strict RFC 8259: what cJSON forgives, SQLite's json_valid() does
	   not, and the fold stores the payload there. */
	{ EV("refmap_set", "{\"a\":01}"), LT_EPARSE, "" },
	{ EV("refmap_set", "{\"a\":+1}"), LT_EPARSE, "" },
	{ EV("refmap_set", "{\"a\":.5}"), LT_EPARSE, "" },
	{ EV("refmap_set", "{\"a\":1.}"), LT_EPARSE, "" },
	{ EV("refmap_set", "{\"a\":1e}"), LT_EPARSE, "" },
	{ EV("refmap_set", "{\"a\":-}"), LT_EPARSE, "" },
	{ EV("refmap_set", "{\"a\":tru}"), LT_EPARSE, "" },
	{ EV("refmap_set", "{\"a\":\"\t\"}"), LT_EPARSE, "" },
	{ EV("config_set", "{\"config_name\":\"a\x18" "b\"}"), LT_EPARSE, "" },
	{ EV("refmap_set", "{\"a\":\"\\x\"}"), LT_EPARSE, "" },
	{ EV("refmap_set", "{\"a\":\"\\u12g4\"}"), LT_EPARSE, "" },
	{ EV("refmap_set", "{\"a\":1,}"), LT_EPARSE, "" },
	{ EV("refmap_set", "[1,]"), LT_EPARSE, "" },
	{ EV("refmap_set", "{\"a\" 1}"), LT_EPARSE, "" },
	{ EV("refmap_set", "{1:2}"), LT_EPARSE, "" },
	{ EV("refmap_set", "{\"a\":1]"), LT_EPARSE, "" },
	{ EV("refmap_set", "{\"a\":\x01 1}"), LT_EPARSE, "" },
	{ EV("refmap_set", "{}") "{}", LT_EPARSE, "" },
	{ "{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"s\","
	    "\"type\":\"t\"", LT_EPARSE, "" },
	{ "\"str\"", LT_EINVAL, "" },
	/* UTF-16 surrogate escapes must pair (cJSON refuses them too). */
	{ EV("config_set", "{\"config_name\":\"a\\ud800\"}"), LT_EPARSE, "" },
	{ EV("config_set", "{\"config_name\":\"a\\udc00b\"}"), LT_EPARSE, "" },
	{ EV("config_set", "{\"config_name\":\"\\ud800\\u0041\"}"), LT_EPARSE,
	    "" },
	{ EV("host_heartbeat", "{\"components\":[{\"id\":\"\\ud800\"}]}"),
	    LT_EPARSE, "" },
	{ "{\"specversion\":\"1.0\",\"id\":\"a\\u0000b\",\"source\":\"s\","
	    "\"type\":\"t\"}", LT_EPARSE, "" },
	{ "{\"specversion\":\"1.0\",\"id\":\"\xc3\x28\",\"source\":\"s\","
	    "\"type\":\"t\"}", LT_EPARSE, "" },
	{ "{\"specversion\":\"1.0\",\"id\":\"\xed\xa0\x80\",\"source\":\"s\","
	    "\"type\":\"t\"}", LT_EPARSE, "" },	/* surrogate in UTF-8 */
	{ "{\"specversion\":\"1.0\",\"id\":\"\\ud800\",\"source\":\"s\","
	    "\"type\":\"t\"}", LT_EPARSE, "" },	/* lone surrogate */
	{ "{\"id\":\"a\",\"source\":\"s\",\"type\":\"t\"}", LT_EINVAL,
	    "specversion" },
	{ "{\"specversion\":\"0.3\",\"id\":\"a\",\"source\":\"s\","
	    "\"type\":\"t\"}", LT_EINVAL, "specversion" },
	{ "{\"specversion\":1.0,\"id\":\"a\",\"source\":\"s\","
	    "\"type\":\"t\"}", LT_EINVAL, "specversion" },
	{ "{\"specversion\":\"1.0\",\"source\":\"s\",\"type\":\"t\"}",
	    LT_EINVAL, "id" },
	{ "{\"specversion\":\"1.0\",\"id\":\"\",\"source\":\"s\","
	    "\"type\":\"t\"}", LT_EINVAL, "id" },
	{ "{\"specversion\":\"1.0\",\"id\":7,\"source\":\"s\","
	    "\"type\":\"t\"}", LT_EINVAL, "id" },
	{ "{\"specversion\":\"1.0\",\"id\":\"a\",\"type\":\"t\"}",
	    LT_EINVAL, "source" },
	{ "{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"s\"}",
	    LT_EINVAL, "type" },
	{ "{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"s\","
	    "\"type\":\"t\",\"time\":5}", LT_EINVAL, "time" },
	{ "{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"s\","
	    "\"type\":\"com.wasmcloud.lattice.component_scaled\"}",
	    LT_EINVAL, "data" },
	{ EV("component_scaled", "[]"), LT_EINVAL, "data" },
	{ EV("component_scaled", "{\"component_id\":\"c\","
	    "\"max_instances\":-1}"), LT_EINVAL, "data.max_instances" },
	{ EV("component_scaled", "{\"component_id\":\"c\","
	    "\"max_instances\":1.5}"), LT_EINVAL, "data.max_instances" },
	{ EV("component_scaled", "{\"component_id\":\"c\","
	    "\"max_instances\":\"3\"}"), LT_EINVAL, "data.max_instances" },
	{ EV("component_scaled", "{\"component_id\":\"c\"}"), LT_EINVAL,
	    "data.max_instances" },
	{ EV("component_scaled", "{\"component_id\":\"c\","
	    "\"max_instances\":4294967296}"), LT_ELIMIT,
	    "data.max_instances" },
	{ EV("component_scaled", "{\"component_id\":\"c\","
	    "\"max_instances\":1e300}"), LT_ELIMIT, "data.max_instances" },
	{ EV("component_scaled", "{\"max_instances\":1}"), LT_EINVAL,
	    "data.component_id" },
	{ EV("component_scaled", "{\"component_id\":5,"
	    "\"max_instances\":1}"), LT_EINVAL, "data.component_id" },
	{ EV("component_scaled", "{\"component_id\":\"c\","
	    "\"max_instances\":1,\"annotations\":[]}"), LT_EINVAL,
	    "data.annotations" },
	{ EV("component_scaled", "{\"component_id\":\"c\","
	    "\"max_instances\":1,\"annotations\":{\"a\":1}}"), LT_EINVAL,
	    "data.annotations" },
	{ EV("component_scaled", "{\"component_id\":\"c\","
	    "\"max_instances\":1,\"claims\":\"x\"}"), LT_EINVAL,
	    "data.claims" },
	{ EV("component_scaled", "{\"component_id\":\"c\","
	    "\"max_instances\":1,\"claims\":{\"revision\":\"abc\"}}"),
	    LT_EINVAL, "data.claims.revision" },
	{ EV("component_scaled", "{\"component_id\":\"c\","
	    "\"max_instances\":1,\"claims\":{\"name\":[]}}"),
	    LT_EINVAL, "data.claims.name" },
	{ EV("component_scaled", "{\"component_id\":\"c\","
	    "\"max_instances\":1,\"host_id\":7}"), LT_EINVAL,
	    "data.host_id" },
	{ EV("actors_started", "{\"public_key\":\"" ACTOR "\"}"), LT_EINVAL,
	    "data.count" },
	{ EV("actors_started", "{\"public_key\":\"" ACTOR "\","
	    "\"count\":-2}"), LT_EINVAL, "data.count" },
	{ EV("actors_stopped", "{\"public_key\":\"" ACTOR "\","
	    "\"count\":1}"), LT_EINVAL, "data.remaining" },
	{ EV("actor_started", "{\"image_ref\":\"x\"}"), LT_EINVAL,
	    "data.public_key" },
	{ EV("provider_started", "{\"image_ref\":\"x\"}"), LT_EINVAL,
	    "data.public_key" },
	{ EV("provider_started", "{\"provider_id\":\"\"}"), LT_EINVAL,
	    "data.provider_id" },
	{ EV("health_check_passed", "{\"provider_id\":[\"p\"]}"), LT_EINVAL,
	    "data.provider_id" },
	{ EV("linkdef_set", "{\"source_id\":\"s\",\"name\":\"n\","
	    "\"wit_namespace\":\"w\",\"wit_package\":\"p\","
	    "\"interfaces\":\"i\"}"), LT_EINVAL, "data.interfaces" },
	{ EV("linkdef_set", "{\"source_id\":\"s\",\"name\":\"n\","
	    "\"wit_namespace\":\"w\",\"wit_package\":\"p\","
	    "\"interfaces\":[1]}"), LT_EINVAL, "data.interfaces" },
	{ EV("linkdef_set", "{\"source_id\":\"s\",\"name\":\"n\","
	    "\"wit_package\":\"p\"}"), LT_EINVAL, "data.wit_namespace" },
	{ EV("linkdef_set", "{\"name\":\"n\",\"wit_namespace\":\"w\","
	    "\"wit_package\":\"p\"}"), LT_EINVAL, "data.source_id" },
	{ EV("linkdef_set", "{\"actor_id\":\"a\",\"provider_id\":\"p\","
	    "\"link_name\":\"default\"}"), LT_EINVAL, "data.contract_id" },
	{ EV("linkdef_set", "{\"actor_id\":\"a\",\"provider_id\":\"p\","
	    "\"link_name\":\"default\",\"contract_id\":\"a:b\","
	    "\"values\":{\"k\":1}}"), LT_EINVAL, "data.values" },
	{ EV("config_set", "{}"), LT_EINVAL, "data.config_name" },
	{ EV("config_set", "{\"config_name\":1}"), LT_EINVAL,
	    "data.config_name" },
	{ EV("labels_changed", "{\"host_id\":\"h\"}"), LT_EINVAL,
	    "data.labels" },
	{ EV("labels_changed", "{\"labels\":[\"a\"]}"), LT_EINVAL,
	    "data.labels" },
	{ EV("labels_changed", "{\"labels\":{\"a\":null}}"), LT_EINVAL,
	    "data.labels" },
	{ EV("host_started", "{\"uptime_seconds\":-1}"), LT_EINVAL,
	    "data.uptime_seconds" },
	{ EV("host_started", "{\"friendly_name\":{}}"), LT_EINVAL,
	    "data.friendly_name" },
	{ EV("host_heartbeat", "{\"components\":{}}"), LT_EINVAL,
	    "data.components" },
	{ EV("host_heartbeat", "{\"components\":[{\"image_ref\":\"x\"}]}"),
	    LT_EINVAL, "data.components[0].id" },
	{ EV("host_heartbeat", "{\"components\":[{\"id\":\"a\","
	    "\"max_instances\":1},{\"id\":\"b\",\"max_instances\":-3}]}"),
	    LT_EINVAL, "data.components[1].max_instances" },
	{ EV("host_heartbeat", "{\"components\":[7]}"), LT_EINVAL,
	    "data.components[0]" },
	{ EV("host_heartbeat", "{\"providers\":\"p\"}"), LT_EINVAL,
	    "data.providers" },
	{ EV("host_heartbeat", "{\"providers\":[{\"link_name\":\"d\"}]}"),
	    LT_EINVAL, "data.providers[0].public_key" },
	{ EV("host_heartbeat", "{\"actors\":\"x\"}"), LT_EINVAL,
	    "data.actors" },
	{ EV("host_heartbeat", "{\"actors\":[{\"id\":\"a\","
	    "\"instances\":{}}]}"), LT_EINVAL, "data.actors[0].instances" },
	{ EV("host_heartbeat", "{\"actors\":{\"" ACTOR "\":\"2\"}}"),
	    LT_EINVAL, "data.actors.MBCFOPM6JW2APJLXJD3Z5O4CN7CPYJ2B4FTKLJUR" },
	{ EV("host_heartbeat", "{\"labels\":{\"a\":\"b\",\"c\":false}}"),
	    LT_EINVAL, "data.labels" },
	{ EV("component_scale_failed", "{\"component_id\":\"c\","
	    "\"error\":5}"), LT_EINVAL, "data.error" },
};

START_TEST(reject_table)
{
	/* Non-NULL on purpose: a failed parse must reset it. */
	struct lt_ce	*ev = (struct lt_ce *)&lim;
	struct lt_err	 err;
	int		 rc;

	rc = parse_str(rejects[_i].json, &ev, &err);
	ck_assert_msg(rc == rejects[_i].code,
	    "case %d: got %s (%s: %s), want %s", _i, lt_strerror(rc),
	    err.field, err.msg, lt_strerror(rejects[_i].code));
	ck_assert_ptr_null(ev);
	ck_assert_int_eq(err.code, rc);
	ck_assert_msg(strcmp(err.field, rejects[_i].field) == 0,
	    "case %d: field %s, want %s", _i, err.field, rejects[_i].field);
	ck_assert(strlen(err.msg) > 0);

	/* The fold's deferred decoding rejects it the same way. */
	ev = (struct lt_ce *)&lim;
	rc = parse_deferred(rejects[_i].json, strlen(rejects[_i].json), &ev,
	    &err);
	ck_assert_msg(rc == rejects[_i].code, "case %d deferred: got %s",
	    _i, lt_strerror(rc));
	ck_assert_ptr_null(ev);
	ck_assert_msg(strcmp(err.field, rejects[_i].field) == 0,
	    "case %d deferred: field %s, want %s", _i, err.field,
	    rejects[_i].field);
}
END_TEST

START_TEST(reject_raw_nul)
{
	static const char	 s[] = EV("config_set",
	    "{\"config_name\":\"c\"}");
	char			 buf[sizeof(s)];
	struct lt_ce		*ev;
	struct lt_err		 err;

	memcpy(buf, s, sizeof(s));
	buf[40] = '\0';
	ck_assert_int_eq(lt_ce_parse(buf, sizeof(s) - 1, &lim, &ev, &err),
	    LT_EPARSE);
	ck_assert_ptr_null(ev);
	/* A NUL just past len is not part of the message. */
	ck_assert_int_eq(lt_ce_parse(s, sizeof(s) - 1, &lim, &ev, &err),
	    LT_OK);
	lt_ce_free(ev);
	/* Nor is a NUL inside the counted bytes at the very end. */
	ck_assert_int_eq(lt_ce_parse(s, sizeof(s), &lim, &ev, &err),
	    LT_EPARSE);
}
END_TEST

START_TEST(limits)
{
	const char	*hb = EV("host_heartbeat", "{\"components\":["
	    "{\"id\":\"a\",\"max_instances\":1},"
	    "{\"id\":\"b\",\"max_instances\":1},"
	    "{\"id\":\"c\",\"max_instances\":1}],"
	    "\"labels\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"},"
	    "\"uptime_seconds\":5000}");
	struct lt_limits l;
	struct lt_ce	*ev;
	struct lt_err	 err;

	lt_limits_default(&l);
	ck_assert_int_eq(l.max_payload, 16 * 1024 * 1024);
	ck_assert_int_eq(l.max_depth, 32);
	ck_assert_int_eq(l.max_string, 64 * 1024);
	ck_assert_int_eq(l.max_items, 100000);
	ck_assert_int_eq(l.max_pairs, 1024);
	ck_assert_int_eq(l.max_instances, UINT32_MAX);
	ck_assert_int_eq(lt_ce_parse(hb, strlen(hb), &l, &ev, &err), LT_OK);
	lt_ce_free(ev);

	l.max_payload = strlen(hb) - 1;
	ck_assert_int_eq(lt_ce_parse(hb, strlen(hb), &l, &ev, &err),
	    LT_ELIMIT);
	ck_assert_ptr_null(ev);
	lt_limits_default(&l);
	l.max_depth = 3;
	ck_assert_int_eq(lt_ce_parse(hb, strlen(hb), &l, &ev, &err),
	    LT_ELIMIT);
	l.max_depth = 4;	/* root, data, components, one component */
	ck_assert_int_eq(lt_ce_parse(hb, strlen(hb), &l, &ev, &err), LT_OK);
	lt_ce_free(ev);
	lt_limits_default(&l);
	l.max_items = 2;
	ck_assert_int_eq(lt_ce_parse(hb, strlen(hb), &l, &ev, &err),
	    LT_ELIMIT);
	ck_assert_str_eq(err.field, "data.components");
	lt_limits_default(&l);
	l.max_pairs = 2;
	ck_assert_int_eq(lt_ce_parse(hb, strlen(hb), &l, &ev, &err),
	    LT_ELIMIT);
	ck_assert_str_eq(err.field, "data.labels");
	lt_limits_default(&l);
	l.max_uptime = 4999;
	ck_assert_int_eq(lt_ce_parse(hb, strlen(hb), &l, &ev, &err),
	    LT_ELIMIT);
	ck_assert_str_eq(err.field, "data.uptime_seconds");
	lt_limits_default(&l);
	l.max_string = 20;	/* the host id in source is longer */
	ck_assert_int_eq(lt_ce_parse(hb, strlen(hb), &l, &ev, &err),
	    LT_ELIMIT);
	ck_assert_str_eq(err.field, "source");
	lt_limits_default(&l);
	l.max_instances = 0;
	ck_assert_int_eq(lt_ce_parse(hb, strlen(hb), &l, &ev, &err),
	    LT_ELIMIT);
	ck_assert_str_eq(err.field, "data.components[0].max_instances");
	/* NULL limits mean the defaults. */
	ck_assert_int_eq(lt_ce_parse(hb, strlen(hb), NULL, &ev, &err), LT_OK);
	lt_ce_free(ev);
}
END_TEST

/* Depth counts brackets outside strings only. */
START_TEST(depth_ignores_strings)
{
	const char	*s = EV("config_set",
	    "{\"config_name\":\"[[[[[[[[{{{{{{{{\\\"[[[[\"}");
	struct lt_limits l;
	struct lt_ce	*ev;
	struct lt_err	 err;

	lt_limits_default(&l);
	l.max_depth = 2;
	ck_assert_int_eq(lt_ce_parse(s, strlen(s), &l, &ev, &err), LT_OK);
	ck_assert_str_eq(ev->config_name, "[[[[[[[[{{{{{{{{\"[[[[");
	lt_ce_free(ev);
}
END_TEST

/* A surrogate pair escape is one character. */
START_TEST(surrogate_pair)
{
	const char	*s = EV("config_set",
	    "{\"config_name\":\"\\ud83d\\ude00\\uD83D\\uDE00\"}");
	struct lt_ce	*ev;
	struct lt_err	 err;

	ck_assert_int_eq(parse_str(s, &ev, &err), LT_OK);
	ck_assert_str_eq(ev->config_name, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80");
	lt_ce_free(ev);
}
END_TEST

/* Escaped backslash before u0000 is text, not a NUL escape. */
START_TEST(escaped_backslash_u0000)
{
	const char	*s = EV("config_set",
	    "{\"config_name\":\"a\\\\u0000\"}");
	struct lt_ce	*ev;
	struct lt_err	 err;

	ck_assert_int_eq(parse_str(s, &ev, &err), LT_OK);
	ck_assert_str_eq(ev->config_name, "a\\u0000");
	lt_ce_free(ev);
}
END_TEST

/* Labels render as compact JSON with escapes, UTF-8 kept. */
START_TEST(labels_rendering)
{
	const char	*s = EV("labels_changed", "{\"labels\":{"
	    "\"q\\\"k\" : \"a\\nb\\u0001\", \"z\":\"\xc3\xa9\\u00e9\"}}");
	struct lt_ce	*ev;
	struct lt_err	 err;

	ck_assert_int_eq(parse_str(s, &ev, &err), LT_OK);
	ck_assert_str_eq(ev->labels,
	    "{\"q\\\"k\":\"a\\nb\\u0001\",\"z\":\"\xc3\xa9\xc3\xa9\"}");
	ck_assert_str_eq(ev->host_id, H1);
	lt_ce_free(ev);
}
END_TEST

/* Unknown fields are ignored, nulls mean absent, key order is free. */
START_TEST(extra_and_reordered)
{
	const char	*s = "{\"data\":{\"max_instances\":2,\"new\":[1,{}],"
	    "\"component_id\":\"c\",\"image_ref\":null,\"host_id\":\"\"},"
	    "\"type\":\"com.wasmcloud.lattice.component_scaled\","
	    "\"extension\":{\"x\":1},\"source\":\"src\",\"id\":\"i\","
	    "\"time\":null,\"specversion\":\"1.0\"}";
	struct lt_ce	*ev;
	struct lt_err	 err;

	ck_assert_int_eq(parse_str(s, &ev, &err), LT_OK);
	ck_assert_int_eq(ev->kind, LT_K_COMPONENT);
	ck_assert_str_eq(ev->component.id, "c");
	ck_null(ev->component.image_ref);
	ck_assert_str_eq(ev->host_id, "src");	/* empty host_id */
	ck_null(ev->time_raw);
	ck_assert_int_eq(ev->time_ok, 0);
	lt_ce_free(ev);
}
END_TEST

/* A type outside the wasmCloud prefix is recorded with its full name. */
START_TEST(foreign_type)
{
	const char	*s = "{\"specversion\":\"1.0\",\"id\":\"i\","
	    "\"source\":\"s\",\"type\":\"io.example.thing\",\"data\":5}";
	struct lt_ce	*ev;
	struct lt_err	 err;

	ck_assert_int_eq(parse_str(s, &ev, &err), LT_OK);
	ck_assert_int_eq(ev->kind, LT_K_RECORDED);
	ck_assert_str_eq(ev->name, "io.example.thing");
	ck_null(ev->host_id);
	lt_ce_free(ev);
}
END_TEST

/* The inventory hash sees every normalised field and the order. */
START_TEST(inventory_hash)
{
	static const char *const v[] = {
		EV("host_heartbeat", "{\"components\":[{\"id\":\"a\","
		    "\"max_instances\":1},{\"id\":\"b\",\"max_instances\":2}],"
		    "\"providers\":[]}"),
		EV("host_heartbeat", "{\"components\":[{\"id\":\"b\","
		    "\"max_instances\":2},{\"id\":\"a\",\"max_instances\":1}],"
		    "\"providers\":[]}"),
		EV("host_heartbeat", "{\"components\":[{\"id\":\"a\","
		    "\"max_instances\":1},{\"id\":\"b\",\"max_instances\":3}],"
		    "\"providers\":[]}"),
		EV("host_heartbeat", "{\"components\":[{\"id\":\"a\","
		    "\"max_instances\":1},{\"id\":\"b\",\"max_instances\":2,"
		    "\"image_ref\":\"x\"}],\"providers\":[]}"),
		EV("host_heartbeat", "{\"components\":[{\"id\":\"a\","
		    "\"max_instances\":1},{\"id\":\"b\",\"max_instances\":2}],"
		    "\"providers\":[{\"id\":\"p\"}]}"),
		EV("host_heartbeat", "{\"components\":[{\"id\":\"ab\","
		    "\"max_instances\":1},{\"id\":\"\",\"max_instances\":2}],"
		    "\"providers\":[]}"),
	};
	const char	*same = EV("host_heartbeat", "{\"uptime_seconds\":9,"
	    "\"providers\":[],\"components\":[{\"max_instances\":1,"
	    "\"id\":\"a\",\"limits\":null},{\"id\":\"b\","
	    "\"max_instances\":2}]}");
	struct lt_ce	*ev[6], *s;
	struct lt_err	 err;
	size_t		 i, j;

	for (i = 0; i < 5; i++)
		ck_assert_int_eq(parse_str(v[i], &ev[i], &err), LT_OK);
	/* An empty id is rejected; the ambiguous split never hashes. */
	ck_assert_int_eq(parse_str(v[5], &ev[5], &err), LT_EINVAL);
	for (i = 0; i < 5; i++)
		for (j = i + 1; j < 5; j++)
			ck_assert_msg(ev[i]->inventory_hash !=
			    ev[j]->inventory_hash, "%zu == %zu", i, j);
	ck_assert_int_eq(parse_str(same, &s, &err), LT_OK);
	ck_assert(s->inventory_hash == ev[0]->inventory_hash);
	lt_ce_free(s);
	for (i = 0; i < 5; i++)
		lt_ce_free(ev[i]);
}
END_TEST

/*
 * Two members of one name, escaped or not, at any depth: refused (readers
 * disagree on which counts: cJSON and SQLite the first, Python the last,
 * SQLite compares escaped names raw), with where.
 */
START_TEST(duplicate_keys)
{
#define CS(d)	"{\"specversion\":\"1.0\",\"id\":\"i\",\"source\":\"s\"," \
		"\"type\":\"com.wasmcloud.lattice.config_set\",\"data\":" d "}"
	static const struct {
		const char	*doc;
		size_t		 at;	/* the later name's byte */
	} dups[] = {
		{ "{\"id\":\"first\",\"id\":\"second\"}", 14 },
		{ CS("{\"config_name\":\"a\",\"config_name\":\"b\"}"), 111 },
		{ CS("{\"config_n\\u0061me\":\"a\",\"config_name\":\"b\"}"),
		    116 },
		{ CS("{\"config_name\":\"a\",\"labels\":{\"k\\/\":\"1\","
		    "\"k/\":\"2\"}}"), 0 },
		{ CS("{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}"), 0 },
		{ CS("{\"\\u00e9\":1,\"\xc3\xa9\":2}"), 0 },
		{ CS("{\"a\\n\":1,\"a\\u000a\":2}"), 0 },
		{ CS("{\"config_name\":\"a\"},\"dat\\u0061\":{}"), 0 },
	};
	static const char *const fine[] = {
		CS("{\"config_name\":\"a\",\"x\":{\"config_name\":\"b\"}}"),
		CS("{\"config_name\":\"a\",\"l\":[{\"k\":1},{\"k\":1}]}"),
		CS("{\"config_name\":\"a\",\"\\u00e9\":1,\"\xc3\xa8\":2}"),
		CS("{\"config_name\":\"a\",\"a\\n\":1,\"a\\r\":2,\"a\":3}"),
	};
	struct lt_ce	*ev;
	struct lt_err	 err;
	char		 big[16384], want[64];
	size_t		 i, o;

	for (i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
		ck_assert_msg(parse_str(dups[i].doc, &ev, &err) == LT_EINVAL,
		    "%zu: %s", i, err.msg);
		ck_assert_msg(strncmp(err.msg, "duplicate member name at "
		    "byte ", 28) == 0, "%zu: %s", i, err.msg);
		if (dups[i].at > 0) {
			snprintf(want, sizeof(want), "duplicate member name "
			    "at byte %zu", dups[i].at);
			ck_assert_str_eq(err.msg, want);
		}
	}
	for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		ck_assert_msg(parse_str(fine[i], &ev, &err) == LT_OK,
		    "%zu: %s", i, err.msg);
		ck_assert_str_eq(ev->config_name, "a");
		lt_ce_free(ev);
	}
	/* many names (sorted, not pairwise): unique, then one repeated */
	for (i = 0; i < 2; i++) {
		o = (size_t)snprintf(big, sizeof(big), "{\"config_name\":"
		    "\"a\",\"l\":{");
		for (size_t k = 0; k < 1000; k++)
			o += (size_t)snprintf(big + o, sizeof(big) - o,
			    "%s\"k%zu\":1", k ? "," : "", k);
		o += (size_t)snprintf(big + o, sizeof(big) - o, "%s}}",
		    i ? ",\"k50\\u0030\":2" : "");
		ck_assert_int_lt(o, sizeof(big));
		ck_assert_int_eq(lt_json_scan(big, o, 32, NULL, 0, NULL, &err),
		    i ? LT_EINVAL : LT_OK);
	}
#undef CS
}
END_TEST

/*
 * A deferred heartbeat inventory: raw hash over the bytes, decoded later
 * to exactly what a full parse gives; an escaped inventory key is matched
 * decoded, and null counts as absent.
 */
START_TEST(deferred_inventory)
{
#define COMPS	"[{\"id\":\"a\",\"max_instances\":2}," \
		"{\"id\":\"b\"}]"
#define PROVS	"[{\"id\":\"p\",\"link_name\":\"default\"}]"
	const char *hb = EV("host_heartbeat", "{\"components\":" COMPS
	    ",\"providers\":" PROVS ",\"uptime_seconds\":1}");
	const char *hb2 = EV("host_heartbeat", "{\"uptime_seconds\":2,"
	    "\"providers\":" PROVS ",\"components\":" COMPS "}");
	const char *spaced = EV("host_heartbeat", "{\"components\": [ "
	    "{\"id\":\"a\",\"max_instances\":2}, {\"id\":\"b\"}]"
	    ",\"providers\":" PROVS "}");
	const char *changed = EV("host_heartbeat", "{\"components\":"
	    "[{\"id\":\"a\",\"max_instances\":3},{\"id\":\"b\"}],"
	    "\"providers\":" PROVS "}");
	const char *escaped = EV("host_heartbeat", "{\"comp\\u006fnents\":"
	    COMPS ",\"providers\":" PROVS "}");
	const char *repeated = EV("host_heartbeat", "{\"components\":"
	    COMPS ",\"components\":[],\"providers\":" PROVS "}");
	const char *nullc = EV("host_heartbeat", "{\"components\":null,"
	    "\"actors\":{\"" ACTOR "\":2},\"providers\":null}");
	const char *badlater = EV("host_heartbeat", "{\"components\":"
	    "[{\"id\":\"a\"},{\"id\":7}]}");
	struct lt_ce	*a, *b, *full;
	struct lt_err	 err;

	ck_assert_int_eq(lt_ce_parse_flags(hb, strlen(hb), &lim,
	    LT_CE_DEFER_INVENTORY, &a, &err), LT_OK);
	ck_assert_int_eq(a->inventory_deferred, 1);
	ck_assert_int_eq(a->has_inventory_raw, 1);
	ck_assert_int_eq(a->ncomponents, 0);
	ck_assert_int_eq(a->has_uptime, 1);	/* the rest is decoded */
	/* Other members and their order do not count; the bytes do. */
	ck_assert_int_eq(lt_ce_parse_flags(hb2, strlen(hb2), &lim,
	    LT_CE_DEFER_INVENTORY, &b, &err), LT_OK);
	ck_assert(a->inventory_raw == b->inventory_raw);
	lt_ce_free(b);
	ck_assert_int_eq(parse_deferred(spaced, strlen(spaced), &b, &err),
	    LT_OK);
	ck_assert(a->inventory_raw != b->inventory_raw);
	ck_assert_int_eq(lt_ce_inventory(a, &lim, &err), LT_OK);
	ck_assert(a->inventory_hash == b->inventory_hash);
	ck_assert_int_eq(a->ncomponents, 2);
	ck_assert_int_eq(a->components[0].max_instances, 2);
	ck_assert_int_eq(a->nproviders, 1);
	/* A second call is a no-op. */
	ck_assert_int_eq(lt_ce_inventory(a, &lim, &err), LT_OK);
	ck_assert_int_eq(a->ncomponents, 2);
	lt_ce_free(b);
	ck_assert_int_eq(parse_deferred(changed, strlen(changed), &b, &err),
	    LT_OK);
	ck_assert(a->inventory_raw != b->inventory_raw);
	ck_assert(a->inventory_hash != b->inventory_hash);
	lt_ce_free(b);

	/* an escaped key is matched decoded, as cJSON does: deferred, the
	   same raw bytes and the same inventory */
	ck_assert_int_eq(lt_ce_parse_flags(escaped, strlen(escaped), &lim,
	    LT_CE_DEFER_INVENTORY, &b, &err), LT_OK);
	ck_assert_int_eq(b->inventory_deferred, 1);
	ck_assert_int_eq(b->has_inventory_raw, 1);
	ck_assert(b->inventory_raw == a->inventory_raw);
	ck_assert_int_eq(lt_ce_inventory(b, &lim, &err), LT_OK);
	ck_assert_int_eq(b->ncomponents, 2);
	ck_assert(b->inventory_hash == a->inventory_hash);
	lt_ce_free(b);
	ck_assert_int_eq(parse_str(escaped, &full, &err), LT_OK);
	ck_assert_int_eq(full->ncomponents, 2);
	ck_assert(full->inventory_hash == a->inventory_hash);
	lt_ce_free(full);
	/* a repeated key is refused (json.c), deferred or not */
	ck_assert_int_eq(lt_ce_parse_flags(repeated, strlen(repeated), &lim,
	    LT_CE_DEFER_INVENTORY, &b, &err), LT_EINVAL);
	ck_assert_int_eq(parse_str(repeated, &b, &err), LT_EINVAL);
	lt_ce_free(a);

	/* null is absent: components null falls back to actors (OTP). */
	ck_assert_int_eq(parse_str(nullc, &full, &err), LT_OK);
	ck_assert_int_eq(lt_ce_parse_flags(nullc, strlen(nullc), &lim,
	    LT_CE_DEFER_INVENTORY, &b, &err), LT_OK);
	ck_assert_int_eq(b->inventory_deferred, 1);
	ck_assert_int_eq(lt_ce_inventory(b, &lim, &err), LT_OK);
	ck_assert_int_eq(b->comp_counts_only, 1);
	ck_assert_int_eq(b->components[0].max_instances, 2);
	same_inventory(full, b);
	lt_ce_free(full);
	lt_ce_free(b);

	/* A bad item surfaces from lt_ce_inventory() with its field. */
	ck_assert_int_eq(lt_ce_parse_flags(badlater, strlen(badlater), &lim,
	    LT_CE_DEFER_INVENTORY, &b, &err), LT_OK);
	ck_assert_int_eq(lt_ce_inventory(b, &lim, &err), LT_EINVAL);
	ck_assert_str_eq(err.field, "data.components[1].id");
	lt_ce_free(b);
#undef COMPS
#undef PROVS
}
END_TEST

/* data is kept as the raw text sent; a nested "data" is not it. */
START_TEST(raw_data)
{
	const char	*s = "{\"data\" :\t{ \"config_name\" : \"c\" } ,"
	    "\"specversion\":\"1.0\",\"id\":\"i\",\"source\":\"s\","
	    "\"type\":\"com.wasmcloud.lattice.config_set\","
	    "\"x\":{\"data\":1}}";
	const char	*nodata = "{\"specversion\":\"1.0\",\"id\":\"i\","
	    "\"source\":\"s\",\"type\":\"x.y\",\"x\":{\"data\":1}}";
	const char	*scalar = "{\"specversion\":\"1.0\",\"id\":\"i\","
	    "\"source\":\"s\",\"type\":\"x.y\",\"data\":-1.5e3 }";
	struct lt_ce	*ev;
	struct lt_err	 err;

	ck_assert_int_eq(parse_str(s, &ev, &err), LT_OK);
	ck_assert_int_eq(ev->data_len, strlen("{ \"config_name\" : \"c\" }"));
	ck_assert_str_eq(ev->data, "{ \"config_name\" : \"c\" }");
	ck_assert_str_eq(ev->config_name, "c");
	lt_ce_free(ev);
	ck_assert_int_eq(parse_str(nodata, &ev, &err), LT_OK);
	ck_null(ev->data);
	ck_assert_int_eq(ev->data_len, 0);
	lt_ce_free(ev);
	ck_assert_int_eq(parse_str(scalar, &ev, &err), LT_OK);
	ck_assert_str_eq(ev->data, "-1.5e3");
	lt_ce_free(ev);
	ev = load("v1_linkdef_set.json");
	ck_assert_str_eq(ev->data, "{\"source_id\":\"http-server\","
	    "\"target\":\"echo\",\"name\":\"default\",\"wit_namespace\":"
	    "\"wasi\",\"wit_package\":\"http\",\"interfaces\":"
	    "[\"incoming-handler\"],\"source_config\":[\"default-http\"],"
	    "\"target_config\":[]}");
	lt_ce_free(ev);
}
END_TEST

/* Every valid RFC 8259 number form is accepted. */
START_TEST(json_numbers)
{
	static const char *const nums[] = { "0", "-0", "1", "-12", "0.5",
	    "-0.5e10", "1E+2", "1e-2", "123456789012345678901234567890" };
	char		 buf[256];
	struct lt_ce	*ev;
	struct lt_err	 err;
	size_t		 i;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		snprintf(buf, sizeof(buf), EV("refmap_set", "{\"n\":[%s]}"),
		    nums[i]);
		ck_assert_msg(parse_str(buf, &ev, &err) == LT_OK, "%s: %s",
		    nums[i], err.msg);
		lt_ce_free(ev);
	}
}
END_TEST

/* Every fixture decodes, twice the same, and keeps its data text. */
START_TEST(all_fixtures)
{
	char		 dir[512];
	DIR		*d;
	struct dirent	*de;
	struct lt_ce	*a, *b;
	int		 n = 0;

	snprintf(dir, sizeof(dir), "%s/events", TEST_DATA_DIR);
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		/* CloudEvents only: a .jsonl fixture is a replay line whose
		   subject picks another decoder (check_kinds) */
		if (strlen(de->d_name) < 5 || strcmp(de->d_name +
		    strlen(de->d_name) - 5, ".json") != 0)
			continue;
		a = load(de->d_name);
		b = load(de->d_name);
		ck_assert_int_eq(a->kind, b->kind);
		ck_assert_str_eq(a->id, b->id);
		ck_assert(a->inventory_hash == b->inventory_hash);
		ck_assert_ptr_nonnull(a->data);
		ck_assert_int_eq(strlen(a->data), a->data_len);
		ck_assert(a->data[0] == '{');
		lt_ce_free(b);
		/* Deferred then decoded: the same event. */
		{
			struct lt_err	 err;
			size_t		 len;
			char		*buf = slurp(de->d_name, &len);

			ck_assert_int_eq(parse_deferred(buf, len, &b, &err),
			    LT_OK);
			same_inventory(a, b);
			if (a->kind == LT_K_HOST_HEARTBEAT &&
			    a->has_inventory)
				ck_assert_int_eq(a->has_inventory_raw, 1);
			free(buf);
		}
		lt_ce_free(a);
		lt_ce_free(b);
		n++;
	}
	closedir(d);
	ck_assert_int_ge(n, 50);
}
END_TEST

/* The spec page's "+00:00Z" time keeps the event, not the instant. */
START_TEST(spec_bad_time)
{
	const char	*s = "{\"specversion\":\"1.0\",\"id\":\"i\","
	    "\"source\":\"" H1 "\",\"type\":"
	    "\"com.wasmcloud.lattice.host_stopped\",\"time\":"
	    "\"2023-06-13T00:00:00+00:00Z\",\"data\":{\"host_id\":\"" H1
	    "\",\"labels\":{\"key\":\"value\"},\"reason\":\"stop\"}}";
	struct lt_ce	*ev;
	struct lt_err	 err;

	ck_assert_int_eq(parse_str(s, &ev, &err), LT_OK);
	ck_assert_int_eq(ev->kind, LT_K_HOST_STOPPED);
	ck_assert_int_eq(ev->time_ok, 0);
	ck_assert_str_eq(ev->time_raw, "2023-06-13T00:00:00+00:00Z");
	lt_ce_free(ev);
}
END_TEST

/* Big inventories spill over the first arena block and free cleanly. */
START_TEST(big_heartbeat)
{
	size_t		 n = 5000, i, cap = n * 200 + 512, off = 0;
	char		*buf = malloc(cap);
	struct lt_ce	*ev;
	struct lt_err	 err;

	off += (size_t)snprintf(buf + off, cap - off, "{\"specversion\":"
	    "\"1.0\",\"id\":\"i\",\"source\":\"s\",\"type\":"
	    "\"com.wasmcloud.lattice.host_heartbeat\",\"data\":{"
	    "\"components\":[");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, cap - off,
		    "%s{\"id\":\"c%zu\",\"max_instances\":%zu,\"annotations\":"
		    "{\"\\u0001\":\"\\u0002\"}}", i ? "," : "", i, i);
	off += (size_t)snprintf(buf + off, cap - off, "]}}");
	ck_assert_int_eq(lt_ce_parse(buf, off, &lim, &ev, &err), LT_OK);
	ck_assert_int_eq(ev->ncomponents, n);
	ck_assert_str_eq(ev->components[n - 1].id, "c4999");
	ck_assert_int_eq(ev->components[n - 1].max_instances, 4999);
	ck_assert_str_eq(ev->components[7].annotations,
	    "{\"\\u0001\":\"\\u0002\"}");
	lt_ce_free(ev);
	free(buf);
}
END_TEST

START_TEST(err_helpers)
{
	struct lt_err	err;

	ck_assert_int_eq(lt_err_set(&err, LT_EINVAL, "data.x", "bad %d", 7),
	    LT_EINVAL);
	ck_assert_int_eq(err.code, LT_EINVAL);
	ck_assert_str_eq(err.field, "data.x");
	ck_assert_str_eq(err.msg, "bad 7");
	ck_assert_int_eq(lt_err_set(NULL, LT_ELIMIT, NULL, "x"), LT_ELIMIT);
	lt_err_clear(&err);
	ck_assert_int_eq(err.code, LT_OK);
	ck_assert_str_eq(err.field, "");
	ck_assert_str_eq(lt_strerror(LT_EPARSE), "parse");
	ck_assert_str_eq(lt_strerror(LT_EINVAL), "invalid");
	ck_assert_str_eq(lt_strerror(LT_ELIMIT), "limit");
	ck_assert_str_eq(lt_strerror(999), "unknown");
	lt_ce_free(NULL);
}
END_TEST


/* Raw member spans: top-level members only, bad JSON leaves every span
   empty. */
START_TEST(member_spans)
{
	static const char *const keys[] = { "subject", "event", "absent" };
	struct lt_json_span sp[3];
	struct lt_err e;
	const char *doc = " {\"x\":{\"event\":1},\"subject\" : \"a.b\" ,"
	    "\"event\":{\"id\":\"1\",\"s\":\"}\\\"\"},\"ev\\u0065nt\\n\":2,"
	    "\"subj\\u0065c\":\"no\"} ";
	const char *bad = "{\"subject\":\"a\",\"event\":{\"id\":01}}";

	ck_assert_int_eq(lt_json_scan(doc, strlen(doc), 32, keys, 3, sp,
	    &e), LT_OK);
	ck_assert_int_eq((int)sp[0].len, 5);
	ck_assert_int_eq(memcmp(doc + sp[0].off, "\"a.b\"", 5), 0);
	ck_assert_int_eq((int)sp[1].len,
	    (int)strlen("{\"id\":\"1\",\"s\":\"}\\\"\"}"));
	ck_assert_int_eq(memcmp(doc + sp[1].off, "{\"id\":\"1\",\"s\":\"}\\\"\"}",
	    sp[1].len), 0);
	ck_assert_int_eq((int)sp[2].len, 0);

	ck_assert_int_eq(lt_json_scan(bad, strlen(bad), 32, keys, 3, sp,
	    &e), LT_EPARSE);
	ck_assert_int_eq((int)(sp[0].len + sp[1].len + sp[2].len), 0);
	ck_assert_int_eq(lt_json_scan("{\"event\":[[[1]]]}", 17, 2, keys,
	    3, sp, &e), LT_ELIMIT);
}
END_TEST

/*
 * An escaped key names the member cJSON sees: the raw span of a CloudEvent's
 * data (stored byte for byte) is the data the event was decoded from.  With
 * a plain key of the same name beside it, the event is refused.
 */
START_TEST(escaped_keys)
{
	static const char *const keys[] = { "subject", "event", "absent" };
	static const struct {
		const char	*doc;
		const char	*subject;	/* raw span; NULL: none */
	} cases[] = {
		{ "{\"subj\\u0065ct\":\"1\",\"event\":2}", "\"1\"" },
		{ "{\"\\u0073ubject\":\"1\"}", "\"1\"" },
		{ "{\"sub\\/ject\":\"1\",\"subject\":\"2\"}", "\"2\"" },
		{ "{\"subj\\u00e9ct\":\"1\",\"subject\":\"2\"}", "\"2\"" },
		{ "{\"subject\\n\":\"1\",\"subject\":\"2\"}", "\"2\"" },
		{ "{\"s\\u0075\\u0062\\u006a\\u0065\\u0063\\u0074\":3}", "3" },
		{ "{\"\\u0078\\u0078\\u0078\\u0078\\u0078\\u0078\\u0078\\u0078"
		    "\\u0078\\u0078\\u0078\\u0078\\u0078\\u0078\\u0078\\u0078"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\":1,"
		    "\"subject\":2}", "2" },
		{ "{\"x\":{\"subj\\u0065ct\":1}}", NULL },
	};
#define EVE(d)	"{\"specversion\":\"1.0\",\"id\":\"x1\",\"source\":\"NREAL\"," \
		"\"type\":\"com.wasmcloud.lattice.host_started\",\"time\":"  \
		"\"2026-12-07T00:00:00Z\"," d "}"
	const char *esc = EVE("\"d\\u0061ta\":{\"host_id\":\"NREAL\","
	    "\"labels\":{}}");
	const char *both = EVE("\"d\\u0061ta\":{\"host_id\":\"NREAL\","
	    "\"labels\":{}},\"data\":{\"host_id\":\"NFAKE\"}");
	const char *types = EVE("\"typ\\u0065\":\"com.wasmcloud.lattice."
	    "host_heartbeat\",\"data\":{\"host_id\":\"NREAL\"}");
#undef EVE
	struct lt_json_span sp[3];
	struct lt_limits lim;
	struct lt_ce *c;
	struct lt_err e;
	size_t i;
	int f;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(lt_json_scan(cases[i].doc, strlen(cases[i].doc),
		    8, keys, 3, sp, &e) == LT_OK, "%zu: %s", i, e.msg);
		if (cases[i].subject == NULL) {
			ck_assert_msg(sp[0].len == 0, "%zu", i);
			continue;
		}
		ck_assert_msg(sp[0].len == strlen(cases[i].subject) &&
		    memcmp(cases[i].doc + sp[0].off, cases[i].subject,
		    sp[0].len) == 0, "%zu: %.*s", i, (int)sp[0].len,
		    cases[i].doc + sp[0].off);
	}

	lt_limits_default(&lim);
	for (f = 0; f < 2; f++) {
		/* the stored data is the decoded one, deferred or not */
		ck_assert_int_eq(lt_ce_parse_flags(esc, strlen(esc), &lim,
		    f ? LT_CE_DEFER_INVENTORY : 0, &c, &e), LT_OK);
		ck_assert_int_eq(c->kind, LT_K_HOST_STARTED);
		ck_assert_str_eq(c->host_id, "NREAL");
		ck_assert_str_eq(c->data,
		    "{\"host_id\":\"NREAL\",\"labels\":{}}");
		lt_ce_free(c);
		/* beside a plain one: which counts is up to the reader */
		ck_assert_int_eq(lt_ce_parse_flags(both, strlen(both), &lim,
		    f ? LT_CE_DEFER_INVENTORY : 0, &c, &e), LT_EINVAL);
		ck_assert_int_eq(lt_ce_parse_flags(types, strlen(types), &lim,
		    f ? LT_CE_DEFER_INVENTORY : 0, &c, &e), LT_EINVAL);
		ck_assert_str_eq(e.msg, "duplicate member name at byte 122");
	}
}
END_TEST

/*
 * The string scanners jump 8 bytes at a time and then to the first byte
 * that may be special: put each kind of byte at every offset of a word
 * (and past it), in a plain member for the strict scan and in an inventory
 * item for the skim of a deferred heartbeat, and check what each reads.
 */
START_TEST(string_offsets)
{
	static const char *const keys[] = { "a", "b" };
	static const struct {
		const char	*ins;	/* put after k plain bytes */
		int		 rc;	/* strict scan */
		const char	*val;	/* decoded, when rc is LT_OK */
	} kinds[] = {
		{ "", LT_OK, "" },
		{ "\\\"", LT_OK, "\"" },
		{ "\\\\", LT_OK, "\\" },
		{ "\\u00e9", LT_OK, "\xc3\xa9" },
		{ "\xc3\xa9", LT_OK, "\xc3\xa9" },
		{ "\xf0\x9f\x98\x80", LT_OK, "\xf0\x9f\x98\x80" },
		{ "\xc3\x28", LT_EPARSE, NULL },
		{ "\x01", LT_EPARSE, NULL },
		{ "\x7f", LT_OK, "\x7f" },
	};
	struct lt_json_span sp[2];
	struct lt_ce *ev;
	struct lt_err e;
	char doc[256], pad[40], want[128], hb[1024];
	size_t i;
	int k, rc;

	for (k = 0; k < 24; k++) {
		memset(pad, 'x', (size_t)k);
		pad[k] = '\0';
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
			snprintf(doc, sizeof(doc), "{\"a\":\"%s%s%s\",\"b\":1}",
			    pad, kinds[i].ins, pad);
			rc = lt_json_scan(doc, strlen(doc), 8, keys, 2,
			    sp, &e);
			ck_assert_msg(rc == kinds[i].rc, "k %d kind %zu: %d",
			    k, i, rc);
			if (rc != LT_OK)
				continue;
			ck_assert_int_eq((int)sp[0].len,
			    (int)(2 * k + strlen(kinds[i].ins) + 2));
			ck_assert_int_eq((int)sp[1].len, 1);

			/* the same string as a component id, deferred */
			snprintf(hb, sizeof(hb), EV("host_heartbeat",
			    "{\"components\":[{\"id\":\"c%s%s%s\","
			    "\"max_instances\":1},{\"id\":\"z\"}],"
			    "\"uptime_seconds\":5}"), pad, kinds[i].ins, pad);
			ck_assert_int_eq(lt_ce_parse_flags(hb, strlen(hb), &lim,
			    LT_CE_DEFER_INVENTORY, &ev, &e), LT_OK);
			ck_assert_int_eq(ev->inventory_deferred, 1);
			ck_assert_int_eq(ev->uptime_seconds, 5);
			rc = lt_ce_inventory(ev, &lim, &e);
			ck_assert_msg(rc == LT_OK, "k %d kind %zu: %s %s", k, i,
			    e.msg, e.field);
			ck_assert_int_eq((int)ev->ncomponents, 2);
			snprintf(want, sizeof(want), "c%s%s%s", pad,
			    kinds[i].val, pad);
			ck_assert_str_eq(ev->components[0].id, want);
			ck_assert_str_eq(ev->components[1].id, "z");
			lt_ce_free(ev);
		}
		/* unterminated after k bytes */
		snprintf(doc, sizeof(doc), "{\"a\":\"%s", pad);
		ck_assert_int_eq(lt_json_scan(doc, strlen(doc), 8, keys,
		    2, sp, &e), LT_EPARSE);
	}
}
END_TEST

/* Two nullable strings are equal. */
static void
same_str(const char *a, const char *b, const char *what, size_t i)
{
	ck_assert_msg((a == NULL) == (b == NULL) && (a == NULL ||
	    strcmp(a, b) == 0), "item %zu %s: %s vs %s", i, what,
	    a != NULL ? a : "(null)", b != NULL ? b : "(null)");
}

/*
 * A deferred 1.x component is decoded without a cJSON tree when it has the
 * common shape (fast_component() in ce.c), else through cJSON: either way
 * exactly what the full parse gives, errors included, whatever the item
 * and the limits.
 */
START_TEST(deferred_component_shapes)
{
	static const char *const items[] = {
		"{\"id\":\"a\",\"image_ref\":\"i\",\"name\":\"n\","
		    "\"annotations\":{\"k\":\"v\",\"k2\":\"v2\"},"
		    "\"revision\":3,\"max_instances\":7}",
		"{ \"id\" : \"a\" ,\n\"annotations\" : { \"k\" : \"v\" , "
		    "\"\" : \"\" } , \"max_instances\" : 0 }",
		"{\"id\":\"a\",\"image_ref\":null,\"name\":null,"
		    "\"annotations\":null,\"revision\":null,"
		    "\"max_instances\":null}",
		"{\"id\":\"a\\u0062\",\"name\":\"x\\\"y\"}",
		"{\"i\\u0064\":\"a\"}",
		"{\"id\":\"a\",\"id\":\"b\"}",
		"{\"id\":null,\"id\":\"b\"}",
		"{\"id\":\"a\",\"max_instances\":1,\"max_instances\":2}",
		"{\"id\":\"a\",\"annotations\":{\"k\":\"1\",\"k\":\"2\"}}",
		"{\"id\":\"a\",\"annotations\":{\"k\":\"a\\nb\"}}",
		"{\"id\":\"a\",\"annotations\":{\"k\\t\":\"ab\"}}",
		"{\"id\":\"a\",\"annotations\":{\"k\":1}}",
		"{\"id\":\"a\",\"annotations\":{}}",
		"{\"id\":\"a\",\"annotations\":[]}",
		"{\"id\":\"a\",\"annotations\":{\"a\":\"1\",\"b\":\"1\","
		    "\"c\":\"1\",\"d\":\"1\",\"e\":\"1\",\"f\":\"1\","
		    "\"g\":\"1\",\"h\":\"1\",\"i\":\"1\",\"j\":\"1\","
		    "\"k\":\"1\",\"l\":\"1\",\"m\":\"1\",\"n\":\"1\","
		    "\"o\":\"1\",\"p\":\"1\",\"q\":\"1\"}}",
		"{\"id\":\"a\",\"max_instances\":1.0}",
		"{\"id\":\"a\",\"max_instances\":1e2}",
		"{\"id\":\"a\",\"max_instances\":-1}",
		"{\"id\":\"a\",\"max_instances\":4294967296}",
		"{\"id\":\"a\",\"max_instances\":4294967295}",
		"{\"id\":\"a\",\"max_instances\":1234567890123456}",
		"{\"id\":\"a\",\"max_instances\":\"3\"}",
		"{\"id\":\"a\",\"revision\":-5}",
		"{\"id\":\"a\",\"revision\":-0}",
		"{\"id\":\"a\",\"revision\":\"7\"}",
		"{\"id\":\"a\",\"revision\":\"x\"}",
		"{\"id\":\"a\",\"revision\":1.5}",
		"{\"id\":\"a\",\"revision\":999999999999999}",
		"{\"id\":\"a\",\"revision\":9007199254740993}",
		"{\"id\":\"\"}",
		"{\"name\":\"a\"}",
		"{\"id\":5}",
		"{\"id\":\"a\",\"image_ref\":true}",
		"\"x\"",
		"[]",
		"5",
		"null",
		"{}",
		"{\"id\":\"a\",\"limits\":null,\"extra\":{\"id\":\"b\"},"
		    "\"more\":[\"id\",\"c\"]}",
		"{\"id\":\"h\xc3\xa9llo\",\"name\":\"\xe2\x82\xac\"}",
		"{\"id\":\"abcd\",\"image_ref\":\"abcde\"}",
		"{\"id\":\"a\",\"annotations\":{\"abcd\":\"x\"}}",
		"{\"id\":\"a\",\"annotations\":{\"a\":\"x\",\"b\":\"y\"}}",
	};
	struct lt_limits dl = lim;
	struct lt_ce *a, *b;
	struct lt_err ea, eb;
	char buf[2048];
	size_t i, j;
	int pass, ra, rb;

	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			/* small limits: the fast path must defer to them */
			lim.max_string = 4;
			lim.max_pairs = 1;
			lim.max_instances = 10;
		}
		for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
			snprintf(buf, sizeof(buf), EV("host_heartbeat",
			    "{\"components\":[{\"id\":\"z\"},%s],"
			    "\"uptime_seconds\":5}"), items[i]);
			ra = lt_ce_parse(buf, strlen(buf), &lim, &a, &ea);
			rb = parse_deferred(buf, strlen(buf), &b, &eb);
			ck_assert_msg(ra == rb, "pass %d item %zu: %d (%s %s) "
			    "vs %d (%s %s)", pass, i, ra, ea.msg, ea.field, rb,
			    eb.msg, eb.field);
			if (ra != LT_OK) {
				ck_assert_str_eq(ea.field, eb.field);
				ck_assert_str_eq(ea.msg, eb.msg);
				continue;
			}
			same_inventory(a, b);
			for (j = 0; j < a->ncomponents; j++) {
				const struct lt_ce_component *x =
				    &a->components[j], *y = &b->components[j];

				same_str(x->id, y->id, "id", i);
				same_str(x->image_ref, y->image_ref, "image",
				    i);
				same_str(x->name, y->name, "name", i);
				same_str(x->annotations, y->annotations,
				    "annotations", i);
				ck_assert_int_eq(x->max_instances,
				    y->max_instances);
				ck_assert_int_eq(x->has_revision,
				    y->has_revision);
				if (x->has_revision)
					ck_assert_int_eq(x->revision,
					    y->revision);
			}
			lt_ce_free(a);
			lt_ce_free(b);
		}
	}
	lim = dl;
}
END_TEST

/* A field name cut inside a UTF-8 character stays valid UTF-8 (the OTP
   actors map names its field after the key, cut at 40 bytes; found by
   fuzz_ce, tests/fuzz/regressions/ce/otp-actor-key-cut-in-utf8). */
START_TEST(reject_field_cut_in_utf8)
{
	const char *j = "{\"specversion\":\"1.0\",\"id\":\"x\",\"source\":"
	    "\"N\",\"type\":\"com.wasmcloud.lattice.host_heartbeat\","
	    "\"data\":{\"actors\":{\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "\xf0\x9f\x98\x80tail\":\"three\"}}}";
	struct lt_ce *ev = NULL;
	struct lt_err err;
	const unsigned char *p;

	ck_assert_int_eq(lt_ce_parse(j, strlen(j), NULL, &ev, &err),
	    LT_EINVAL);
	ck_assert_ptr_null(ev);
	/* the two bytes of the emoji the cut kept are no longer there */
	ck_assert_ptr_nonnull(strstr(err.field, "AAAA??"));
	for (p = (const unsigned char *)err.field; *p != '\0'; p++)
		ck_assert_int_lt(*p, 0x80);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("ce");
	TCase	*valid = tcase_create("valid");
	TCase	*rej = tcase_create("rejects");
	TCase	*edge = tcase_create("edge");
	SRunner	*sr;
	int	 nf;

	tcase_add_checked_fixture(valid, setup, NULL);
	tcase_add_checked_fixture(rej, setup, NULL);
	tcase_add_checked_fixture(edge, setup, NULL);
	tcase_add_test(valid, v1_component_scaled);
	tcase_add_test(valid, v1_component_scaled_claims);
	tcase_add_test(valid, v1_component_scaled_zero);
	tcase_add_test(valid, v1_component_scale_failed);
	tcase_add_test(valid, alpha_actor_scaled);
	tcase_add_test(valid, v082_actor_scaled);
	tcase_add_test(valid, v082_actors_started);
	tcase_add_test(valid, v082_actors_stopped);
	tcase_add_test(valid, v082_failures);
	tcase_add_test(valid, otp_actor_started_stopped);
	tcase_add_test(valid, providers);
	tcase_add_test(valid, health);
	tcase_add_test(valid, links);
	tcase_add_test(valid, configs);
	tcase_add_test(valid, hosts);
	tcase_add_test(valid, heartbeat_v1);
	tcase_add_test(valid, heartbeat_v082);
	tcase_add_test(valid, heartbeat_otp);
	tcase_add_test(valid, recorded);
	tcase_add_loop_test(rej, reject_table, 0,
	    sizeof(rejects) / sizeof(rejects[0]));
	tcase_add_test(rej, reject_raw_nul);
	tcase_add_test(rej, reject_field_cut_in_utf8);
	tcase_add_test(edge, limits);
	tcase_add_test(edge, depth_ignores_strings);
	tcase_add_test(edge, escaped_backslash_u0000);
	tcase_add_test(edge, surrogate_pair);
	tcase_add_test(edge, labels_rendering);
	tcase_add_test(edge, extra_and_reordered);
	tcase_add_test(edge, foreign_type);
	tcase_add_test(edge, inventory_hash);
	tcase_add_test(edge, duplicate_keys);
	tcase_add_test(edge, big_heartbeat);
	tcase_add_test(edge, raw_data);
	tcase_add_test(valid, all_fixtures);
	tcase_add_test(edge, spec_bad_time);
	tcase_add_test(edge, json_numbers);
	tcase_add_test(edge, err_helpers);
	tcase_add_test(edge, member_spans);
	tcase_add_test(edge, escaped_keys);
	tcase_add_test(edge, string_offsets);
	tcase_add_test(edge, deferred_inventory);
	tcase_add_test(edge, deferred_component_shapes);
	suite_add_tcase(s, valid);
	suite_add_tcase(s, rej);
	suite_add_tcase(s, edge);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

