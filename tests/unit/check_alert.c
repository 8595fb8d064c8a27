/*
 * check_alert.c - the alert model (lib/alert.c through the fold and the
 * stale sweep) and the delivery outbox (lib/outbox.c), with a fake clock
 * against an in-memory or temp-file database.
 */
#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fold.h"
#include "outbox.h"
#include "stale.h"
#include "store.h"
#include "store_int.h"
#include "testdb.h"
#include "timeutil.h"

#define BASE	INT64_C(1717236000000)	/* 2024-06-01T10:00:00Z */
#define SUBJ	"wasmbus.evt.prod"
#define EVDIR	TEST_DATA_DIR "/events"
#define MODEL	TEST_DATA_DIR "/alert_model"

static int	 batch;		/* evl() folds into the open transaction */

/* Fold a CloudEvent name from src on lattice lat, dated and received at
   BASE + t_ms; id NULL: a fresh one. */
static enum lt_outcome
evl(const char *lat, const char *id, const char *name, const char *src,
    int64_t t_ms, const char *data)
{
	char tb[LT_TIME_BUFSZ], idb[32], subj[128], *buf;
	size_t cap = strlen(data) + 1024;
	enum lt_outcome out;

	if (id == NULL) {
		snprintf(idb, sizeof(idb), "ev-%d", ++seq);
		id = idb;
	}
	ck_assert_ptr_nonnull(buf = malloc(cap));
	snprintf(buf, cap, "{\"specversion\":\"1.0\",\"id\":\"%s\","
	    "\"source\":\"%s\",\"type\":\"com.wasmcloud.lattice.%s\","
	    "\"time\":\"%s\",\"data\":%s}", id, src, name,
	    lt_time_format(BASE + t_ms, tb), data);
	snprintf(subj, sizeof(subj), "wasmbus.evt.%s.%s", lat, name);
	if (batch) {
		struct lt_msg m = { subj, buf, strlen(buf), BASE + t_ms, NULL };
		struct lt_err e;

		ck_assert_msg(lt_fold_msg(fd, &m, &out, &e) == LT_OK, "%s",
		    e.msg);
	} else
		out = fold_json(subj, buf, BASE + t_ms);
	free(buf);
	return out;
}

/* evl() on lattice prod. */
static enum lt_outcome
ev(const char *id, const char *name, const char *src, int64_t t_ms,
    const char *data)
{
	return evl("prod", id, name, src, t_ms, data);
}

/* Fold a file of tests/data/events, received at BASE + t_ms. */
static enum lt_outcome
ev_file(const char *file, int64_t t_ms)
{
	char path[512], buf[8192];
	enum lt_outcome out;
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", EVDIR, file);
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	out = fold_json(SUBJ ".x", buf, BASE + t_ms);
	return out;
}

/* One stale sweep at BASE + t_ms in its own transaction. */
static struct lt_stale_result
sweep(const struct lt_stale_opts *so, int64_t t_ms)
{
	struct lt_stale_result r;

	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_stale_sweep(fd, so, BASE + t_ms, 0, &r, NULL),
	    LT_OK);
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
	return r;
}

/* host_started of host id (friendly name "<id>-name") at t_ms. */
static void
started(const char *lat, const char *id, int64_t t_ms)
{
	char data[256];

	snprintf(data, sizeof(data), "{\"host_id\":\"%s\",\"friendly_name\":"
	    "\"%s-name\",\"labels\":{},\"version\":\"1.0.4\"}", id, id);
	ck_assert_int_eq(evl(lat, NULL, "host_started", id, t_ms, data),
	    LT_OUT_APPLIED);
}

/* A bare heartbeat of host id at t_ms. */
static enum lt_outcome
beat(const char *lat, const char *id, int64_t t_ms)
{
	char data[128];

	snprintf(data, sizeof(data), "{\"host_id\":\"%s\","
	    "\"uptime_seconds\":1}", id);
	return evl(lat, NULL, "host_heartbeat", id, t_ms, data);
}

#define NALERTS(kind) qi("SELECT count(*) FROM alerts WHERE kind = '%s'", kind)
#define NACTIVE(kind) qi("SELECT count(*) FROM active_alerts WHERE kind = " \
	"'%s'", kind)

/* --- host_stopped ----------------------------------------------------- */

START_TEST(test_host_stopped)
{
	started("prod", "NH1", 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts"), 0);
	ck_assert_int_eq(ev(NULL, "host_stopped", "NH1", 1000,
	    "{\"host_id\":\"NH1\",\"labels\":{},\"reason\":\"drain\"}"),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(NACTIVE("host_stopped"), 1);
	ck_assert_str_eq(qs("SELECT severity || '|' || entity || '|' || "
	    "host_id || '|' || summary || '|' || details || '|' || "
	    "fired_at FROM alerts"), "warning|NH1|NH1|host NH1 (NH1-name) "
	    "stopped: drain|{\"reason\":\"drain\"}|"
	    "2024-06-01T10:00:01.000Z");
	/* a 1.x stop without a reason, again: still one alert */
	ev(NULL, "host_stopped", "NH1", 2000, "{\"labels\":{}}");
	ck_assert_int_eq(NALERTS("host_stopped"), 1);
	/* the same host id comes back: resolved */
	started("prod", "NH1", 3000);
	ck_assert_int_eq(NACTIVE("host_stopped"), 0);
	ck_assert_int_eq(qi("SELECT resolved_ms FROM alerts"), BASE + 3000);
	/* a stop without reason words it so */
	ev(NULL, "host_stopped", "NH1", 4000, "{\"labels\":{}}");
	ck_assert_int_eq(NALERTS("host_stopped"), 2);
	ck_assert_str_eq(qs("SELECT summary FROM active_alerts"),
	    "host NH1 (NH1-name) stopped: no reason given");
	/* a heartbeat also brings it up and resolves */
	beat("prod", "NH1", 5000);
	ck_assert_int_eq(NACTIVE("host_stopped"), 0);
}
END_TEST

START_TEST(test_host_stopped_real_event)
{
	ck_assert_int_eq(ev_file("v1_host_started.json", 0), LT_OUT_APPLIED);
	ck_assert_int_eq(ev_file("v1_host_stopped.json", 1000),
	    LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT summary FROM active_alerts"),
	    "host NCQDNJWGAISVBPU4VF45AKDTOTU6NI74WZFNW73ZR7K7NJ72AV7PUDHP "
	    "(wild-field-1234) stopped: no reason given");
	/* the same message again (a redelivery) does nothing */
	ck_assert_int_eq(ev_file("v1_host_stopped.json", 2000),
	    LT_OUT_DUPLICATE);
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts"), 1);
	ck_assert_int_eq(qi("SELECT count(*) FROM alert_changes"), 1);
}
END_TEST

/* --- host_stale ------------------------------------------------------- */

START_TEST(test_host_stale_once)
{
	struct lt_stale_opts so;
	struct lt_stale_result r;
	int64_t t;

	lt_stale_opts_default(&so);
	started("prod", "NH1", 0);
	r = sweep(&so, 75000);
	ck_assert_int_eq(r.marked, 1);
	ck_assert_int_eq(r.host_stale, 1);
	ck_assert_int_eq(r.lattice_silent, 0);
	ck_assert_str_eq(qs("SELECT severity || '|' || entity || '|' || "
	    "host_id || '|' || summary || '|' || details FROM alerts"),
	    "critical|NH1|NH1|host NH1 (NH1-name) silent for 75s (last "
	    "heartbeat 2024-06-01T10:00:00.000Z)|"
	    "{\"last_heartbeat_ms\":1717236000000,\"silent_ms\":75000}");
	/* an hour of sweeps: still one alert */
	for (t = 80000; t < 3600000; t += 5000) {
		r = sweep(&so, t);
		ck_assert_int_eq(r.host_stale, 0);
	}
	ck_assert_int_eq(NALERTS("host_stale"), 1);
	ck_assert_int_eq(qi("SELECT count(*) FROM alert_changes"), 1);
	/* a superseded heartbeat (dated before the host's newest change)
	   does not resolve it */
	ck_assert_int_eq(evl("prod", NULL, "host_heartbeat", "NH1", -1000,
	    "{\"host_id\":\"NH1\"}"), LT_OUT_SUPERSEDED);
	ck_assert_int_eq(NACTIVE("host_stale"), 1);
	/* host_recovered: the heartbeat resolves it, once */
	ck_assert_int_eq(beat("prod", "NH1", 3600000), LT_OUT_APPLIED);
	ck_assert_int_eq(NACTIVE("host_stale"), 0);
	ck_assert_int_eq(qi("SELECT resolved_ms FROM alerts"),
	    BASE + 3600000);
	beat("prod", "NH1", 3630000);
	ck_assert_int_eq(qi("SELECT count(*) FROM alert_changes WHERE "
	    "transition = 'resolved'"), 1);
	/* silent again: a new alert */
	r = sweep(&so, 3630000 + 71000);
	ck_assert_int_eq(r.host_stale, 1);
	ck_assert_int_eq(NALERTS("host_stale"), 2);
	ck_assert_int_eq(NACTIVE("host_stale"), 1);
	/* host_started also brings it back */
	started("prod", "NH1", 3800000);
	ck_assert_int_eq(NACTIVE("host_stale"), 0);
}
END_TEST

START_TEST(test_stale_then_stopped)
{
	struct lt_stale_opts so;

	lt_stale_opts_default(&so);
	started("prod", "NH1", 0);
	sweep(&so, 71000);
	ck_assert_int_eq(NACTIVE("host_stale"), 1);
	ev(NULL, "host_stopped", "NH1", 80000, "{\"reason\":\"bye\"}");
	ck_assert_int_eq(NACTIVE("host_stale"), 0);
	ck_assert_int_eq(NACTIVE("host_stopped"), 1);
	ck_assert_str_eq(qs("SELECT status FROM hosts"), "stopped");
	/* a stopped host is never swept */
	sweep(&so, 500000);
	ck_assert_int_eq(NALERTS("host_stale"), 1);
}
END_TEST

START_TEST(test_stale_no_heartbeat_ever)
{
	struct lt_stale_opts so;

	lt_stale_opts_default(&so);
	/* a host known only from a component event */
	ev(NULL, "component_scaled", "NH9", 0, "{\"host_id\":\"NH9\","
	    "\"component_id\":\"c\",\"image_ref\":\"r\",\"max_instances\":1,"
	    "\"annotations\":{}}");
	sweep(&so, 90000);
	ck_assert_str_eq(qs("SELECT summary FROM alerts"), "host NH9 silent "
	    "for 90s (no heartbeat since first seen "
	    "2024-06-01T10:00:00.000Z)");
	ck_assert_int_eq(qi("SELECT json_extract(details, '$.first_seen_ms') "
	    "FROM alerts"), BASE);
}
END_TEST

/* --- lattice_silent (no storm) ----------------------------------------- */

/* Start n hosts H0..H<n-1> in lat at t 0; hosts below keep beat on. */
static void
hosts(const char *lat, int n)
{
	char id[64];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%s%d", lat, i);
		started(lat, id, 0);
	}
}

START_TEST(test_mass_silence)
{
	struct lt_stale_opts so;
	struct lt_stale_result r;

	lt_stale_opts_default(&so);
	ck_assert_int_eq(so.mass_silence_min_hosts, 3);
	ck_assert(so.mass_silence_fraction == 0.5);
	hosts("prod", 6);
	hosts("edge", 6);
	/* prod0 keeps beating: 5 of 6 go silent together */
	beat("prod", "prod0", 40000);
	/* in edge only edge0 goes silent: 1 of 6 */
	beat("edge", "edge1", 40000);
	beat("edge", "edge2", 40000);
	beat("edge", "edge3", 40000);
	beat("edge", "edge4", 40000);
	beat("edge", "edge5", 40000);
	r = sweep(&so, 75000);
	ck_assert_int_eq(r.marked, 6);
	ck_assert_int_eq(r.lattice_silent, 1);
	ck_assert_int_eq(r.host_stale, 1);
	ck_assert_int_eq(qi("SELECT count(*) FROM hosts WHERE status = "
	    "'stale'"), 6);
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts WHERE lattice = "
	    "'prod' AND kind = 'host_stale'"), 0);
	ck_assert_str_eq(qs("SELECT severity || '|' || entity || '|' || "
	    "coalesce(host_id, '-') || '|' || summary || '|' || details "
	    "FROM alerts WHERE kind = 'lattice_silent'"),
	    "critical|prod|-|lattice prod: 5 of 6 hosts went silent at once "
	    "(NATS or network trouble?)|{\"host_ids\":[\"prod1\",\"prod2\","
	    "\"prod3\",\"prod4\",\"prod5\"],\"hosts\":5,\"up_before\":6,"
	    "\"since_ms\":1717235955001}");
	ck_assert_str_eq(qs("SELECT entity FROM alerts WHERE lattice = "
	    "'edge'"), "edge0");
	/* later sweeps add nothing */
	r = sweep(&so, 100000);
	ck_assert_int_eq(r.marked, 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts"), 2);
	/* resolved only when none of the five is stale: back up or gone */
	beat("prod", "prod1", 210000);
	beat("prod", "prod2", 210000);
	beat("prod", "prod3", 210000);
	ck_assert_int_eq(NACTIVE("lattice_silent"), 1);
	ev(NULL, "host_stopped", "prod4", 220000, "{\"reason\":\"x\"}");
	ck_assert_int_eq(NACTIVE("lattice_silent"), 1);
	/* no host_stale was ever fired for them, so none resolves */
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts WHERE lattice = "
	    "'prod' AND kind = 'host_stale'"), 0);
	beat("prod", "prod5", 230000);
	ck_assert_int_eq(NACTIVE("lattice_silent"), 0);
	ck_assert_int_eq(qi("SELECT resolved_ms FROM alerts WHERE kind = "
	    "'lattice_silent'"), BASE + 230000);
	/* edge's host_stale is untouched by prod */
	ck_assert_int_eq(qi("SELECT count(*) FROM active_alerts WHERE "
	    "lattice = 'edge'"), 1);
}
END_TEST

/* A flood whose deadlines straddle a sweep: the hosts due by the next
   sweep count, so one lattice_silent, not host_stale alerts now and a
   lattice_silent (or a storm) at the next sweep. */
START_TEST(test_mass_silence_straddle)
{
	struct lt_stale_opts so;
	struct lt_stale_result r;
	char id[32];
	int i;

	lt_stale_opts_default(&so);
	so.next_sweep_ms = 1000;
	/* 40 started at 0 ms, 80 at 2 ms: a sweep at 70001 ms is past the
	   first 40's deadline and 1 ms short of the other 80's */
	for (i = 0; i < 120; i++) {
		snprintf(id, sizeof(id), "B%03d", i);
		started("bogus", id, i < 40 ? 0 : 2);
	}
	/* in edge, 2 of 8 past their deadline and 1 due: not mass */
	for (i = 0; i < 8; i++) {
		snprintf(id, sizeof(id), "E%d", i);
		started("edge", id, i < 2 ? 0 : i == 2 ? 500 : 5000);
	}
	r = sweep(&so, 70001);
	ck_assert_int_eq(r.marked, 42);
	ck_assert_int_eq(r.lattice_silent, 1);
	ck_assert_int_eq(r.host_stale, 2);
	ck_assert_int_eq(r.fleet_silent, 0);
	ck_assert_str_eq(qs("SELECT summary || '|' || json_extract(details, "
	    "'$.hosts') || '|' || json_extract(details, '$.due') || '|' || "
	    "json_extract(details, '$.due_ms') || '|' || "
	    "json_array_length(details, '$.host_ids') FROM alerts WHERE "
	    "kind = 'lattice_silent'"), "lattice bogus: 40 of 120 hosts went "
	    "silent at once, 80 more due by the next sweep (NATS or network "
	    "trouble?)|40|80|1717236071001|40");
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts WHERE lattice = "
	    "'edge' AND kind = 'host_stale'"), 2);
	/* the next sweep marks the 80 and E2; the active lattice_silent
	   covers the 80 (resolved only when none is stale) */
	r = sweep(&so, 71001);
	ck_assert_int_eq(r.marked, 81);
	ck_assert_int_eq(r.lattice_silent, 0);
	ck_assert_int_eq(r.host_stale, 1);
	ck_assert_int_eq(r.fleet_silent, 0);
	ck_assert_int_eq(r.suppressed, 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts WHERE lattice = "
	    "'bogus'"), 1);
	for (i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "B%03d", i);
		beat("bogus", id, 80000);
	}
	ck_assert_int_eq(NACTIVE("lattice_silent"), 1);
	for (i = 40; i < 120; i++) {
		snprintf(id, sizeof(id), "B%03d", i);
		beat("bogus", id, 80000);
	}
	ck_assert_int_eq(NACTIVE("lattice_silent"), 0);
	/* without a next sweep (a replay) nothing is due: the same split
	   is 40 host_stale now */
	so.next_sweep_ms = 0;
	for (i = 3; i < 8; i++) {
		snprintf(id, sizeof(id), "E%d", i);
		beat("edge", id, 150000);
	}
	for (i = 0; i < 120; i++) {
		snprintf(id, sizeof(id), "B%03d", i);
		beat("bogus", id, i < 40 ? 100000 : 100002);
	}
	r = sweep(&so, 170001);
	ck_assert_int_eq(r.marked, 40);
	ck_assert_int_eq(r.lattice_silent, 0);
	ck_assert_int_eq(r.host_stale, 40);
}
END_TEST

/* Mass silence spread over sweeps: the window counts them together. */
START_TEST(test_mass_silence_window)
{
	struct lt_stale_opts so;
	struct lt_stale_result r;
	char id[16];
	int i;

	lt_stale_opts_default(&so);
	hosts("prod", 10);
	/* prod0..prod3 beat at 10 s, the rest at 30 s: two sweeps */
	for (i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "prod%d", i);
		beat("prod", id, i < 4 ? 10000 : 30000);
	}
	r = sweep(&so, 81000);		/* 4 of 10: not mass */
	ck_assert_int_eq(r.marked, 4);
	ck_assert_int_eq(r.host_stale, 4);
	r = sweep(&so, 101000);		/* 10 of 10 within the window */
	ck_assert_int_eq(r.marked, 6);
	ck_assert_int_eq(r.host_stale, 0);
	ck_assert_int_eq(r.lattice_silent, 1);
	ck_assert_int_eq(qi("SELECT json_extract(details, '$.hosts') FROM "
	    "alerts WHERE kind = 'lattice_silent'"), 10);
	/* with a window of one sweep, as before: host_stale each */
	teardown();
	setup();
	so.mass_silence_window_ms = 1;
	hosts("prod", 10);
	for (i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "prod%d", i);
		beat("prod", id, i < 4 ? 10000 : 30000);
	}
	r = sweep(&so, 81000);
	ck_assert_int_eq(r.host_stale, 4);
	r = sweep(&so, 101000);		/* 6 of 6 up: mass in the sweep */
	ck_assert_int_eq(r.lattice_silent, 1);
}
END_TEST

/* A sweep alerts for the hosts it marked, never for ones an earlier sweep
   marked at the same or a later time (a backlog holds the sweep's time
   back, a clock steps back) and covered with a lattice_silent or counted
   past the storm budget, even when a reload has changed the rules. */
START_TEST(test_sweep_alerts_only_its_hosts)
{
	struct lt_stale_opts so, noms;
	struct lt_stale_result r;

	lt_stale_opts_default(&so);
	noms = so;
	noms.mass_silence_min_hosts = 0;	/* a reload turned it off */
	/* a time stepped back: edge's 3 of 3 go silent at 75 s, then a host
	   folded late goes silent at 74 s */
	hosts("edge", 3);
	r = sweep(&so, 75000);
	ck_assert_int_eq(r.marked, 3);
	ck_assert_int_eq(r.lattice_silent, 1);
	ck_assert_int_eq(r.host_stale, 0);
	started("edge", "edge-late", 0);
	r = sweep(&noms, 74000);
	ck_assert_int_eq(r.marked, 1);
	ck_assert_int_eq(r.host_stale, 1);
	/* the same time: 5 of prod's 6 go silent, then one folded late */
	hosts("prod", 6);
	beat("prod", "prod0", 40000);
	r = sweep(&so, 75000);
	ck_assert_int_eq(r.marked, 5);
	ck_assert_int_eq(r.lattice_silent, 1);
	ck_assert_int_eq(r.host_stale, 0);
	started("prod", "late", 0);
	r = sweep(&noms, 75000);
	ck_assert_int_eq(r.marked, 1);
	ck_assert_int_eq(r.host_stale, 1);
	ck_assert_int_eq(r.suppressed, 0);
	ck_assert_str_eq(qs("SELECT group_concat(entity, ',') FROM (SELECT "
	    "entity FROM alerts WHERE kind = 'host_stale' ORDER BY entity)"),
	    "edge-late,late");
	/* past the storm budget, only its own hosts count as suppressed:
	   one here, and a mass lattice's three */
	noms.storm_threshold = 1;
	started("prod", "late3", 0);
	r = sweep(&noms, 75000);
	ck_assert_int_eq(r.marked, 1);
	ck_assert_int_eq(r.host_stale, 0);
	ck_assert_int_eq(r.suppressed, 1);
	ck_assert_int_eq(r.fleet_silent, 1);
	so.storm_threshold = 1;
	hosts("zone", 3);
	r = sweep(&so, 75000);
	ck_assert_int_eq(r.marked, 3);
	ck_assert_int_eq(r.lattice_silent, 0);
	ck_assert_int_eq(r.suppressed, 3);
	ck_assert_int_eq(NALERTS("lattice_silent"), 2);
}
END_TEST

/* An alert storm: at most storm_threshold sweep alerts per window, the
   rest in one fleet_silent, resolved once its hosts are back. */
START_TEST(test_alert_storm)
{
	struct lt_stale_opts so;
	struct lt_stale_result r;
	char lat[16], id[32];
	int i, j;

	lt_stale_opts_default(&so);
	so.storm_threshold = 10;
	/* 30 lattices of 3 hosts, and 40 lone hosts, all silent at once */
	for (i = 0; i < 30; i++) {
		snprintf(lat, sizeof(lat), "l%d-", i);
		hosts(lat, 3);
	}
	hosts("lone", 40);
	so.mass_silence_min_hosts = 3;
	r = sweep(&so, 75000);
	ck_assert_int_eq(r.marked, 130);
	ck_assert_int_eq(r.lattice_silent, 10);
	ck_assert_int_eq(r.host_stale, 0);
	ck_assert_int_eq(r.fleet_silent, 1);
	ck_assert_int_eq(r.suppressed, 20 * 3 + 40);
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts"), 11);
	ck_assert_str_eq(qs("SELECT lattice || '|' || entity || '|' || "
	    "severity || '|' || details FROM alerts WHERE kind = "
	    "'fleet_silent'"), "*|*|critical|{\"hosts_suppressed\":100,"
	    "\"lattices\":31,\"storm_threshold\":10,\"window_ms\":120000}");
	/* later sweeps in the window add nothing; a new silent host is
	   summed up too */
	started("late", "late0", 10000);
	r = sweep(&so, 90000);
	ck_assert_int_eq(r.marked, 1);
	ck_assert_int_eq(r.host_stale, 0);
	ck_assert_int_eq(r.fleet_silent, 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts"), 11);
	/* everyone back: fleet_silent resolves at the next sweep */
	for (i = 0; i < 30; i++)
		for (j = 0; j < 3; j++) {
			snprintf(lat, sizeof(lat), "l%d-", i);
			snprintf(id, sizeof(id), "%s%d", lat, j);
			beat(lat, id, 100000);
		}
	for (j = 0; j < 40; j++) {
		snprintf(id, sizeof(id), "lone%d", j);
		beat("lone", id, 100000);
	}
	ck_assert_int_eq(NACTIVE("fleet_silent"), 1);
	r = sweep(&so, 101000);
	ck_assert_int_eq(r.fleet_resolved, 0);	/* late0 still silent */
	beat("late", "late0", 102000);
	r = sweep(&so, 103000);
	ck_assert_int_eq(r.fleet_resolved, 1);
	ck_assert_int_eq(NACTIVE("fleet_silent"), 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM active_alerts"), 0);
	/* past the window the budget is back */
	teardown();
	setup();
	so.storm_threshold = 2;
	started("a", "a0", 0);
	started("b", "b0", 0);
	started("c", "c0", 0);
	r = sweep(&so, 75000);
	ck_assert_int_eq(r.host_stale, 2);
	ck_assert_int_eq(r.fleet_silent, 1);
	ck_assert_int_eq(r.suppressed, 1);
	beat("a", "a0", 80000);
	beat("b", "b0", 80000);
	r = sweep(&so, 81000);
	ck_assert_int_eq(r.fleet_resolved, 0);	/* c0 (suppressed) silent */
	beat("c", "c0", 82000);
	r = sweep(&so, 83000);
	ck_assert_int_eq(r.fleet_resolved, 1);
	beat("a", "a0", 130000);
	beat("b", "b0", 130000);
	beat("c", "c0", 140000);
	/* a window after the storm: a0 and b0 silent (their learned
	   interval, 50 s, makes it 110 s), 2 in budget */
	r = sweep(&so, 250000);
	ck_assert_int_eq(r.marked, 2);
	ck_assert_int_eq(r.host_stale, 2);
	ck_assert_int_eq(r.fleet_silent, 0);
	/* 0: no cap */
	so.storm_threshold = 0;
	started("nocap", "nocap0", 260000);
	started("nocap2", "nocap1", 260000);
	started("nocap3", "nocap2", 260000);
	r = sweep(&so, 331000);
	ck_assert_int_eq(r.marked, 4);		/* and c0 */
	ck_assert_int_eq(r.host_stale, 4);
	ck_assert_int_eq(r.fleet_silent, 0);
	ck_assert_int_eq(r.suppressed, 0);
}
END_TEST

/* Table: n up hosts, k go silent in one sweep -> which alerts. */
static const struct {
	int	n, k, min_hosts;
	double	fraction;
	int	want_silent, want_stale;
} mass_cases[] = {
	{ 6, 5, 3, 0.5, 1, 0 },
	{ 6, 1, 3, 0.5, 0, 1 },
	{ 6, 3, 3, 0.5, 1, 0 },		/* exactly half and min */
	{ 7, 3, 3, 0.5, 0, 3 },		/* under half */
	{ 3, 2, 3, 0.5, 0, 2 },		/* under min hosts */
	{ 3, 3, 3, 0.5, 1, 0 },		/* all */
	{ 10, 4, 3, 0.4, 1, 0 },	/* configured fraction */
	{ 10, 4, 5, 0.4, 0, 4 },	/* configured min hosts */
	{ 6, 6, 0, 0.5, 0, 6 },		/* 0: turned off */
};

START_TEST(test_mass_silence_table)
{
	struct lt_stale_opts so;
	struct lt_stale_result r;
	char id[16];
	int i;

	lt_stale_opts_default(&so);
	so.mass_silence_min_hosts = mass_cases[_i].min_hosts;
	so.mass_silence_fraction = mass_cases[_i].fraction;
	hosts("prod", mass_cases[_i].n);
	for (i = mass_cases[_i].k; i < mass_cases[_i].n; i++) {
		snprintf(id, sizeof(id), "prod%d", i);
		beat("prod", id, 40000);
	}
	r = sweep(&so, 75000);
	ck_assert_int_eq(r.marked, mass_cases[_i].k);
	ck_assert_int_eq(r.lattice_silent, mass_cases[_i].want_silent);
	ck_assert_int_eq(r.host_stale, mass_cases[_i].want_stale);
	ck_assert_int_eq(NALERTS("lattice_silent"),
	    mass_cases[_i].want_silent);
	ck_assert_int_eq(NALERTS("host_stale"), mass_cases[_i].want_stale);
}
END_TEST

/* --- provider_unhealthy ------------------------------------------------ */

#define PSTART "{\"host_id\":\"NH1\",\"image_ref\":\"r/kv:1\"," \
	"\"provider_id\":\"kv\",\"annotations\":{}}"
#define HEALTH "{\"host_id\":\"NH1\",\"provider_id\":\"kv\"}"

START_TEST(test_provider_unhealthy)
{
	started("prod", "NH1", 0);
	ev(NULL, "provider_started", "NH1", 1000, PSTART);
	ev(NULL, "health_check_passed", "NH1", 2000, HEALTH);
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts"), 0);
	ev(NULL, "health_check_failed", "NH1", 3000, HEALTH);
	ck_assert_str_eq(qs("SELECT severity || '|' || entity || '|' || "
	    "host_id || '|' || summary || '|' || details FROM alerts"),
	    "warning|NH1/kv|NH1|provider kv failed its health check on host "
	    "NH1 (NH1-name)|{\"provider_id\":\"kv\"}");
	/* failing -> failing and status refreshes add nothing */
	ev(NULL, "health_check_failed", "NH1", 4000, HEALTH);
	ev(NULL, "health_check_status", "NH1", 4500, HEALTH);
	ev(NULL, "health_check_failed", "NH1", 5000, HEALTH);
	ck_assert_int_eq(NALERTS("provider_unhealthy"), 1);
	/* a heartbeat listing the provider keeps it */
	ev(NULL, "host_heartbeat", "NH1", 5500, "{\"host_id\":\"NH1\","
	    "\"components\":[],\"providers\":[{\"id\":\"kv\","
	    "\"image_ref\":\"r/kv:1\",\"annotations\":{}}]}");
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 1);
	ev(NULL, "health_check_passed", "NH1", 6000, HEALTH);
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 0);
	ck_assert_int_eq(qi("SELECT resolved_ms FROM alerts"), BASE + 6000);
	/* fails again: a new alert; provider_stopped resolves it */
	ev(NULL, "health_check_failed", "NH1", 7000, HEALTH);
	ck_assert_int_eq(NALERTS("provider_unhealthy"), 2);
	ev(NULL, "provider_stopped", "NH1", 8000, "{\"host_id\":\"NH1\","
	    "\"provider_id\":\"kv\",\"annotations\":{},\"reason\":\"x\"}");
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 0);
	/* and host_stopped resolves it too */
	ev(NULL, "provider_started", "NH1", 9000, PSTART);
	ev(NULL, "health_check_failed", "NH1", 10000, HEALTH);
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 1);
	ev(NULL, "host_stopped", "NH1", 11000, "{\"reason\":\"x\"}");
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 0);
	ck_assert_int_eq(NALERTS("provider_unhealthy"), 3);
}
END_TEST

START_TEST(test_provider_unhealthy_superseded)
{
	started("prod", "NH1", 0);
	ev(NULL, "provider_started", "NH1", 1000, PSTART);
	ev(NULL, "health_check_failed", "NH1", 5000, HEALTH);
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 1);
	/* an older passed check arriving late resolves nothing */
	ck_assert_int_eq(ev(NULL, "health_check_passed", "NH1", 4000, HEALTH),
	    LT_OUT_SUPERSEDED);
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 1);
	/* a duplicate of the passed check that will come later */
	ck_assert_int_eq(ev("p1", "health_check_passed", "NH1", 6000, HEALTH),
	    LT_OUT_APPLIED);
	ev(NULL, "health_check_failed", "NH1", 7000, HEALTH);
	ck_assert_int_eq(ev("p1", "health_check_passed", "NH1", 8000, HEALTH),
	    LT_OUT_DUPLICATE);
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 1);
}
END_TEST

/* --- provider_unhealthy inside one transaction (the skip) ------------- */

#define PROV(id) "{\"id\":\"" id "\",\"image_ref\":\"r/" id ":1\"," \
	"\"annotations\":{}}"
#define COMP "{\"id\":\"c1\",\"image_ref\":\"r/c1:1\",\"annotations\":{}," \
	"\"max_instances\":1}"
#define HB(provs) "{\"host_id\":\"NH1\",\"uptime_seconds\":1," \
	"\"components\":[" COMP "],\"providers\":[" provs "]}"
#define HB_KV_HTTP	HB(PROV("kv") "," PROV("http"))
#define HB_HTTP		HB(PROV("http"))
#define HB_BARE		"{\"host_id\":\"NH1\",\"uptime_seconds\":1}"
#define HEALTH_OF(p)	"{\"host_id\":\"NH1\",\"provider_id\":\"" p "\"}"

/* How often the resolve of gone providers' alerts ran (all handles). */
static int64_t
prov_gone_runs(void)
{
	sqlite3_stmt *s = NULL;
	int64_t n = 0;

	while ((s = sqlite3_next_stmt(st->db, s)) != NULL)
		if (strstr(sqlite3_sql(s), "AND kind = 'provider_unhealthy' "
		    "AND resolved_ms IS NULL AND NOT EXISTS") != NULL)
			n += sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 0);
	return n;
}

/* Begin a transaction that evl() folds into. */
static void
batch_begin(void)
{
	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	batch = 1;
}

/* Commit it. */
static void
batch_commit(void)
{
	batch = 0;
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
}

/* Host NH1 of lat with kv and http (heartbeat at 1000), kv failing. */
static void
kv_failing(const char *lat)
{
	started(lat, "NH1", 0);
	ck_assert_int_eq(evl(lat, NULL, "host_heartbeat", "NH1", 1000,
	    HB_KV_HTTP), LT_OUT_APPLIED);
	evl(lat, NULL, "health_check_failed", "NH1", 2000, HEALTH_OF("kv"));
}

/* How the failing provider kv leaves host NH1. */
static const struct {
	const char	*name, *data;
} gone_cases[] = {
	{ "host_heartbeat", HB_HTTP },
	{ "provider_stopped", "{\"host_id\":\"NH1\",\"provider_id\":\"kv\","
	  "\"annotations\":{},\"reason\":\"x\"}" },
	{ "host_stopped", "{\"host_id\":\"NH1\",\"reason\":\"x\"}" },
	{ "host_started", "{\"host_id\":\"NH1\",\"labels\":{}}" },
};

START_TEST(test_prov_gone_in_batch)
{
	int64_t runs;

	kv_failing("prod");
	kv_failing("dev");
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 2);
	batch_begin();
	runs = prov_gone_runs();
	/* unchanged inventories and bare heartbeats remove nothing: no
	   statement at all */
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 3000, HB_KV_HTTP),
	    LT_OUT_UNCHANGED);
	ev(NULL, "host_heartbeat", "NH1", 4000, HB_KV_HTTP);
	ev(NULL, "host_heartbeat", "NH1", 4500, HB_BARE);
	ck_assert_int_eq(prov_gone_runs(), runs);
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 2);
	/* the provider goes: its alert resolves, the other lattice's not */
	ev(NULL, gone_cases[_i].name, "NH1", 5000, gone_cases[_i].data);
	ck_assert_int_eq(qi("SELECT count(*) FROM active_alerts WHERE kind = "
	    "'provider_unhealthy' AND lattice = 'prod'"), 0);
	ck_assert_int_eq(qi("SELECT resolved_ms FROM alerts WHERE lattice = "
	    "'prod'"), BASE + 5000);
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 1);
	/* ... and stays resolved while the batch goes on */
	ev(NULL, "host_heartbeat", "NH1", 6000, HB_KV_HTTP);
	ev(NULL, "host_heartbeat", "NH1", 7000, HB_KV_HTTP);
	batch_commit();
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 1);
	ck_assert_int_eq(NALERTS("provider_unhealthy"), 2);
	ck_assert_str_eq(qs("SELECT lattice FROM active_alerts"), "dev");
}
END_TEST

START_TEST(test_prov_gone_fired_in_batch)
{
	int64_t runs;

	/* another host's alert: the batch reads the active ones first */
	started("prod", "NH2", 0);
	ev(NULL, "provider_started", "NH2", 500, "{\"host_id\":\"NH2\","
	    "\"provider_id\":\"kv\",\"image_ref\":\"r/kv:1\"}");
	ev(NULL, "health_check_failed", "NH2", 600, "{\"host_id\":\"NH2\","
	    "\"provider_id\":\"kv\"}");
	started("prod", "NH1", 0);
	ev(NULL, "host_heartbeat", "NH1", 1000, HB_KV_HTTP);
	batch_begin();
	ev(NULL, "host_heartbeat", "NH1", 2000, HB_KV_HTTP);
	/* fired in the batch: a heartbeat still listing kv keeps it */
	ev(NULL, "health_check_failed", "NH1", 3000, HEALTH_OF("kv"));
	ev(NULL, "host_heartbeat", "NH1", 4000, HB_KV_HTTP);
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 2);
	runs = prov_gone_runs();
	ev(NULL, "host_heartbeat", "NH1", 4500, HB_KV_HTTP);
	ck_assert_int_eq(prov_gone_runs(), runs);
	/* passes, fails again, then a new inventory without it */
	ev(NULL, "health_check_passed", "NH1", 5000, HEALTH_OF("kv"));
	ev(NULL, "health_check_failed", "NH1", 6000, HEALTH_OF("kv"));
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 2);
	ev(NULL, "host_heartbeat", "NH1", 7000, HB_HTTP);
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 1);
	/* a failing provider the host does not run: the next heartbeat
	   resolves it, even an unchanged one */
	ev(NULL, "health_check_failed", "NH1", 8000, HEALTH_OF("ghost"));
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 2);
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 9000, HB_HTTP),
	    LT_OUT_UNCHANGED);
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 1);
	/* a new inventory that still lists kv: nothing to resolve */
	ev(NULL, "health_check_failed", "NH1", 9500, HEALTH_OF("http"));
	ev(NULL, "host_heartbeat", "NH1", 9600, HB_HTTP);
	runs = prov_gone_runs();
	ev(NULL, "host_heartbeat", "NH1", 10000, HB_KV_HTTP);
	ck_assert_int_eq(prov_gone_runs(), runs);
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 2);
	batch_commit();
	ck_assert_int_eq(NALERTS("provider_unhealthy"), 5);
	ck_assert_str_eq(qs("SELECT group_concat(host_id || '/' || "
	    "json_extract(details, '$.provider_id')) FROM (SELECT * FROM "
	    "active_alerts ORDER BY host_id)"), "NH1/http,NH2/kv");
}
END_TEST

START_TEST(test_prov_gone_after_rollback)
{
	kv_failing("prod");
	/* a resolve rolled back: the alert is active again */
	batch_begin();
	ev(NULL, "host_heartbeat", "NH1", 3000, HB_KV_HTTP);
	ev(NULL, "health_check_passed", "NH1", 4000, HEALTH_OF("kv"));
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 0);
	batch = 0;
	lt_fold_rollback(fd);
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 1);
	batch_begin();
	ev(NULL, "host_heartbeat", "NH1", 5000, HB_HTTP);
	ck_assert_int_eq(NACTIVE("provider_unhealthy"), 0);
	batch_commit();
	/* a fire rolled back: nothing to resolve, nothing invented */
	batch_begin();
	ev(NULL, "host_heartbeat", "NH1", 6000, HB_KV_HTTP);
	ev(NULL, "health_check_failed", "NH1", 7000, HEALTH_OF("kv"));
	batch = 0;
	lt_fold_rollback(fd);
	batch_begin();
	ev(NULL, "host_heartbeat", "NH1", 8000, HB_HTTP);
	batch_commit();
	ck_assert_int_eq(NALERTS("provider_unhealthy"), 1);
	ck_assert_int_eq(qi("SELECT resolved_ms FROM alerts"), BASE + 5000);
}
END_TEST

/* --- the *_failed kinds ----------------------------------------------- */

#define H1 "NCQDNJWGAISVBPU4VF45AKDTOTU6NI74WZFNW73ZR7K7NJ72AV7PUDHP"

/* A failure file, the alert it fires, and the success file resolving it. */
static const struct {
	const char	*failed, *kind, *entity, *summary, *ok;
} fail_cases[] = {
	{ "v1_component_scale_failed.json", "component_scale_failed",
	  H1 "/echo", "component echo failed to scale on host " H1
	  ": failed to fetch component: 404 not found",
	  "v1_component_scaled.json" },
	{ "v1_provider_start_failed.json", "provider_start_failed",
	  H1 "/nope", "provider nope failed to start on host " H1
	  ": failed to fetch provider", NULL },
	{ "v1_linkdef_set_failed.json", "linkdef_set_failed",
	  "http-server/default/wasi:http", "link http-server/default/"
	  "wasi:http could not be set: link target does not exist",
	  "v1_linkdef_set.json" },
	{ "v082_actors_start_failed.json", "component_scale_failed", NULL,
	  NULL, NULL },
	{ "otp_actor_start_failed.json", "component_scale_failed",
	  "NDZYGCF3YPQYQ3NBJQ6QTY2OVO7XRWZTRIJLHXXM2DSGZMPTLCNGYEZA/"
	  "wasmcloud.azurecr.io/nope:0.1.0", "component wasmcloud.azurecr.io/"
	  "nope:0.1.0 failed to scale on host NDZYGCF3YPQYQ3NBJQ6QTY2OVO7XRWZ"
	  "TRIJLHXXM2DSGZMPTLCNGYEZA: not found", NULL },
	{ "v082_provider_start_failed.json", "provider_start_failed", NULL,
	  NULL, NULL },
};

START_TEST(test_failures)
{
	ck_assert_int_eq(ev_file(fail_cases[_i].failed, 0), LT_OUT_RECORDED);
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts"), 1);
	ck_assert_str_eq(qs("SELECT kind || '|' || severity FROM alerts"),
	    qs("SELECT '%s|warning'", fail_cases[_i].kind));
	ck_assert_str_eq(qs("SELECT json_valid(details) AND "
	    "json_extract(details, '$.error') IS NOT NULL FROM alerts"), "1");
	if (fail_cases[_i].entity != NULL) {
		ck_assert_str_eq(qs("SELECT entity FROM alerts"),
		    fail_cases[_i].entity);
		ck_assert_str_eq(qs("SELECT summary FROM alerts"),
		    fail_cases[_i].summary);
	}
	/* the same event again: a duplicate */
	ck_assert_int_eq(ev_file(fail_cases[_i].failed, 1000),
	    LT_OUT_DUPLICATE);
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts"), 1);
	if (fail_cases[_i].ok != NULL) {
		ck_assert_int_eq(ev_file(fail_cases[_i].ok, 2000),
		    LT_OUT_APPLIED);
		ck_assert_int_eq(qi("SELECT count(*) FROM active_alerts"), 0);
		ck_assert_int_eq(qi("SELECT resolved_ms FROM alerts"),
		    BASE + 2000);
	}
}
END_TEST

START_TEST(test_failure_resolution_by_entity)
{
	const char *pf = "{\"host_id\":\"NH1\",\"provider_id\":\"p1\","
	    "\"provider_ref\":\"r\",\"error\":\"boom\"}";

	ev(NULL, "provider_start_failed", "NH1", 0, pf);
	ev(NULL, "provider_start_failed", "NH1", 1000, pf);
	ck_assert_int_eq(NALERTS("provider_start_failed"), 1);
	/* another provider, another host: not this alert */
	ev(NULL, "provider_started", "NH1", 2000, "{\"host_id\":\"NH1\","
	    "\"image_ref\":\"r\",\"provider_id\":\"p2\",\"annotations\":{}}");
	ev(NULL, "provider_started", "NH2", 2000, "{\"host_id\":\"NH2\","
	    "\"image_ref\":\"r\",\"provider_id\":\"p1\",\"annotations\":{}}");
	ck_assert_int_eq(NACTIVE("provider_start_failed"), 1);
	ev(NULL, "provider_started", "NH1", 3000, "{\"host_id\":\"NH1\","
	    "\"image_ref\":\"r\",\"provider_id\":\"p1\",\"annotations\":{}}");
	ck_assert_int_eq(NACTIVE("provider_start_failed"), 0);
	/* a long error is cut in the summary, kept whole in details */
	{
		char data[2048], big[1001];

		memset(big, 'e', 1000);
		big[1000] = '\0';
		snprintf(data, sizeof(data), "{\"host_id\":\"NH1\","
		    "\"component_id\":\"c\",\"image_ref\":\"r\","
		    "\"max_instances\":1,\"annotations\":{},"
		    "\"error\":\"%s\\n\\\"quoted\\\"\"}", big);
		ck_assert_int_eq(ev(NULL, "component_scale_failed", "NH1",
		    4000, data), LT_OUT_RECORDED);
		ck_assert_int_lt(qi("SELECT length(summary) FROM alerts "
		    "WHERE kind = 'component_scale_failed'"), 400);
		ck_assert_int_eq(qi("SELECT length(json_extract(details, "
		    "'$.error')) FROM alerts WHERE kind = "
		    "'component_scale_failed'"), 1009);
	}
	/* an old host's failure names only the image: its start resolves */
	ev(NULL, "provider_start_failed", "NH3", 4500, "{\"provider_ref\":"
	    "\"r/old:1\",\"link_name\":\"default\",\"error\":\"x\"}");
	ck_assert_str_eq(qs("SELECT entity FROM active_alerts WHERE kind = "
	    "'provider_start_failed'"), "NH3/r/old:1");
	ev(NULL, "provider_started", "NH3", 4600, "{\"host_id\":\"NH3\","
	    "\"image_ref\":\"r/old:1\",\"provider_id\":\"VOLD\","
	    "\"annotations\":{}}");
	ck_assert_int_eq(NACTIVE("provider_start_failed"), 0);
	/* invocation_failed is history only */
	fold_json("wasmbus.rpcevt.prod", "{\"specversion\":\"1.0\",\"id\":"
	    "\"r1\",\"source\":\"NH1\",\"type\":\"com.wasmcloud.lattice."
	    "invocation_failed\",\"data\":{\"error\":\"x\"}}", BASE + 5000);
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts"), 3);
}
END_TEST

/* --- transactions ----------------------------------------------------- */

START_TEST(test_rollback_loses_nothing_invents_nothing)
{
	struct lt_stale_opts so;
	struct lt_stale_result r;

	lt_stale_opts_default(&so);
	started("prod", "NH1", 0);
	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_stale_sweep(fd, &so, BASE + 80000, 0, &r, NULL),
	    LT_OK);
	ck_assert_int_eq(r.host_stale, 1);
	lt_fold_rollback(fd);
	/* neither the status nor the alert nor its queued change */
	ck_assert_str_eq(qs("SELECT status FROM hosts"), "up");
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts"), 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM alert_changes"), 0);
	r = sweep(&so, 80000);
	ck_assert_int_eq(r.host_stale, 1);
	ck_assert_int_eq(qi("SELECT count(*) FROM alert_changes"), 1);
}
END_TEST

/* --- outbox ----------------------------------------------------------- */

static const char *const sinks2[] = { "log", "alertmanager" };

/* Run enqueue in a transaction; return rows queued. */
static size_t
enqueue(struct lt_outbox *ob, const char *const *s, size_t n, int64_t now)
{
	size_t q = 99;

	ck_assert_int_eq(lt_store_begin(st, NULL), LT_OK);
	ck_assert_int_eq(lt_outbox_enqueue_pending(ob, s, n, now, &q, NULL),
	    LT_OK);
	ck_assert_int_eq(lt_store_commit(st, NULL), LT_OK);
	return q;
}

START_TEST(test_outbox_enqueue_next_done)
{
	struct lt_outbox *ob;
	struct lt_delivery d[8];
	struct lt_stale_opts so;
	size_t n;

	lt_stale_opts_default(&so);
	ck_assert_int_eq(lt_outbox_new(st, &ob, NULL), LT_OK);
	started("prod", "NH1", 0);
	sweep(&so, 80000);
	ck_assert_uint_eq(enqueue(ob, sinks2, 2, BASE + 80000), 2);
	ck_assert_uint_eq(enqueue(ob, sinks2, 2, BASE + 80001), 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM alert_deliveries"), 2);
	/* not due before its time */
	ck_assert_int_eq(lt_outbox_next(ob, BASE + 79999, 0, 8, d, &n, NULL),
	    LT_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(lt_outbox_next(ob, BASE + 80000, 0, 8, d, &n, NULL),
	    LT_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(d[0].kind, "host_stale");
	ck_assert_str_eq(d[0].severity, "critical");
	ck_assert_str_eq(d[0].entity, "NH1");
	ck_assert_str_eq(d[0].host_id, "NH1");
	ck_assert_str_eq(d[0].lattice, "prod");
	ck_assert_int_eq(d[0].transition, LT_TR_FIRING);
	ck_assert_int_eq(d[0].resolved_ms, 0);
	ck_assert_int_eq(d[0].fired_ms, BASE + 80000);
	ck_assert_int_eq(d[0].attempts, 0);
	ck_assert(strcmp(d[0].sink, d[1].sink) != 0);
	ck_assert_ptr_nonnull(strstr(d[0].details, "last_heartbeat_ms"));
	/* max is honoured */
	lt_delivery_clear(d, n);
	ck_assert_int_eq(lt_outbox_next(ob, BASE + 80000, 0, 1, d, &n, NULL),
	    LT_OK);
	ck_assert_uint_eq(n, 1);
	lt_delivery_clear(d, n);
	ck_assert_ptr_null(d[0].sink);

	/* the host recovers: a resolved change per sink, not due while the
	   firing one to that sink is pending */
	beat("prod", "NH1", 90000);
	ck_assert_uint_eq(enqueue(ob, sinks2, 2, BASE + 90000), 2);
	ck_assert_int_eq(lt_outbox_next(ob, BASE + 90000, 0, 8, d, &n, NULL),
	    LT_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(d[0].transition, LT_TR_FIRING);
	ck_assert_int_eq(d[1].transition, LT_TR_FIRING);
	ck_assert_int_eq(d[0].resolved_ms, 0);	/* as it was when fired */
	ck_assert_int_eq(lt_store_begin(st, NULL), LT_OK);
	ck_assert_int_eq(lt_outbox_done(ob, d[0].alert_id, "log",
	    LT_TR_FIRING, BASE + 90001, NULL), LT_OK);
	ck_assert_int_eq(lt_store_commit(st, NULL), LT_OK);
	lt_delivery_clear(d, n);
	ck_assert_int_eq(lt_outbox_next(ob, BASE + 90002, 0, 8, d, &n, NULL),
	    LT_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(d[0].transition, LT_TR_FIRING);
	ck_assert_str_eq(d[0].sink, "alertmanager");
	ck_assert_int_eq(d[1].transition, LT_TR_RESOLVED);
	ck_assert_str_eq(d[1].sink, "log");
	ck_assert_int_eq(d[1].resolved_ms, BASE + 90000);
	lt_delivery_clear(d, n);
	ck_assert_int_eq(qi("SELECT delivered_ms FROM alert_deliveries "
	    "WHERE sink = 'log' AND transition = 'firing'"), BASE + 90001);
	ck_assert_str_eq(qs("SELECT delivered_at FROM alert_deliveries "
	    "WHERE sink = 'log' AND transition = 'firing'"),
	    "2024-06-01T10:01:30.001Z");
	/* done twice, or for an unknown row, is harmless */
	ck_assert_int_eq(lt_outbox_done(ob, 9999, "log", LT_TR_FIRING,
	    BASE, NULL), LT_OK);
	/* bad input */
	ck_assert_int_eq(lt_outbox_done(ob, 1, NULL, LT_TR_FIRING, BASE,
	    NULL), LT_EINVAL);
	{
		const char *bad[] = { "log", "" };

		ck_assert_int_eq(lt_outbox_enqueue_pending(ob, bad, 2, BASE,
		    NULL, NULL), LT_EINVAL);
	}
	lt_outbox_free(ob);
}
END_TEST

START_TEST(test_outbox_backoff)
{
	static const int64_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000,
	    64000, 128000, 256000, 300000, 300000, 300000 };
	struct lt_outbox *ob;
	struct lt_delivery d[4];
	struct lt_stale_opts so;
	const char *one[] = { "command" };
	int64_t now;
	size_t n, i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_int_eq(lt_outbox_backoff_ms((int)i, 0), want[i]);
	ck_assert_int_eq(lt_outbox_backoff_ms(3, 0.5), 8000 + 1000);
	ck_assert_int_eq(lt_outbox_backoff_ms(30, 0.999), 300000 + 74925);
	ck_assert_int_eq(lt_outbox_backoff_ms(-5, -1), 1000);
	ck_assert_int_eq(lt_outbox_backoff_ms(0, 7), 1250);	/* clamped */

	lt_stale_opts_default(&so);
	ck_assert_int_eq(lt_outbox_new(st, &ob, NULL), LT_OK);
	started("prod", "NH1", 0);
	sweep(&so, 80000);
	now = BASE + 80000;
	enqueue(ob, one, 1, now);
	for (i = 0; i < 11; i++) {
		ck_assert_int_eq(lt_outbox_next(ob, now, 0, 4, d, &n, NULL),
		    LT_OK);
		ck_assert_uint_eq(n, 1);
		ck_assert_int_eq(d[0].attempts, (int)i);
		ck_assert_int_eq(lt_store_begin(st, NULL), LT_OK);
		ck_assert_int_eq(lt_outbox_failed(ob, d[0].alert_id,
		    "command", LT_TR_FIRING, "exit 1", now, 0, NULL), LT_OK);
		ck_assert_int_eq(lt_store_commit(st, NULL), LT_OK);
		lt_delivery_clear(d, n);
		ck_assert_int_eq(qi("SELECT next_attempt_ms FROM "
		    "alert_deliveries"), now + want[i]);
		/* not due a millisecond early */
		ck_assert_int_eq(lt_outbox_next(ob, now + want[i] - 1, 0, 4,
		    d, &n, NULL), LT_OK);
		ck_assert_uint_eq(n, 0);
		now += want[i];
	}
	ck_assert_str_eq(qs("SELECT attempts || '|' || last_error FROM "
	    "alert_deliveries"), "11|exit 1");
	/* failed after done changes nothing */
	ck_assert_int_eq(lt_outbox_done(ob, 1, "command", LT_TR_FIRING, now,
	    NULL), LT_OK);
	ck_assert_int_eq(lt_outbox_failed(ob, 1, "command", LT_TR_FIRING,
	    "late", now, 0, NULL), LT_OK);
	ck_assert_str_eq(qs("SELECT attempts || '|' || last_error FROM "
	    "alert_deliveries"), "11|exit 1");
	ck_assert_int_eq(lt_outbox_next(ob, now + 10000000, 0, 4, d, &n,
	    NULL), LT_OK);
	ck_assert_uint_eq(n, 0);
	lt_outbox_free(ob);
}
END_TEST

START_TEST(test_outbox_lease_repost_prune)
{
	struct lt_outbox *ob;
	struct lt_delivery d[4];
	const char *am[] = { "alertmanager" };
	size_t n, k;

	ck_assert_int_eq(lt_outbox_new(st, &ob, NULL), LT_OK);
	started("prod", "NH1", 0);
	ev(NULL, "host_stopped", "NH1", 1000, "{\"reason\":\"x\"}");
	enqueue(ob, am, 1, BASE + 1000);
	ck_assert_int_eq(lt_store_begin(st, NULL), LT_OK);
	ck_assert_int_eq(lt_outbox_next(ob, BASE + 1000, 30000, 4, d, &n,
	    NULL), LT_OK);
	ck_assert_int_eq(lt_store_commit(st, NULL), LT_OK);
	ck_assert_uint_eq(n, 1);
	lt_delivery_clear(d, n);
	/* leased: not handed out again until the lease runs out */
	ck_assert_int_eq(lt_outbox_next(ob, BASE + 1000, 0, 4, d, &n, NULL),
	    LT_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(lt_outbox_next(ob, BASE + 31000, 0, 4, d, &n, NULL),
	    LT_OK);
	ck_assert_uint_eq(n, 1);
	lt_delivery_clear(d, n);
	/* nothing to repost before the firing is delivered */
	ck_assert_int_eq(lt_outbox_active_for_repost(ob, "alertmanager", 4,
	    d, &n, NULL), LT_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(lt_outbox_done(ob, 1, "alertmanager", LT_TR_FIRING,
	    BASE + 2000, NULL), LT_OK);
	ck_assert_int_eq(lt_outbox_active_for_repost(ob, "alertmanager", 4,
	    d, &n, NULL), LT_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(d[0].kind, "host_stopped");
	ck_assert_str_eq(d[0].sink, "alertmanager");
	ck_assert_int_eq(d[0].transition, LT_TR_FIRING);
	lt_delivery_clear(d, n);
	ck_assert_int_eq(lt_outbox_active_for_repost(ob, "log", 4, d, &n,
	    NULL), LT_OK);
	ck_assert_uint_eq(n, 0);
	/* resolved: no longer reposted */
	started("prod", "NH1", 3000);
	ck_assert_int_eq(lt_outbox_active_for_repost(ob, "alertmanager", 4,
	    d, &n, NULL), LT_OK);
	ck_assert_uint_eq(n, 0);
	/* prune drops delivered rows only */
	enqueue(ob, am, 1, BASE + 3000);
	ck_assert_int_eq(lt_outbox_prune(ob, BASE + 10000, &k, NULL), LT_OK);
	ck_assert_uint_eq(k, 1);
	ck_assert_str_eq(qs("SELECT transition FROM alert_deliveries"),
	    "resolved");
	lt_outbox_free(ob);
}
END_TEST

START_TEST(test_outbox_restart)
{
	char path[] = "/tmp/check_alert_XXXXXX";
	struct lt_outbox *ob;
	struct lt_delivery d[4];
	const char *one[] = { "nats" };
	struct lt_stale_opts so;
	size_t n;
	int fdesc;

	lt_fold_free(fd);
	lt_store_close(st);
	ck_assert_int_ge(fdesc = mkstemp(path), 0);
	close(fdesc);
	unlink(path);
	ck_assert_int_eq(lt_store_open(path, &st, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_new(st, NULL, &fd, NULL), LT_OK);
	lt_stale_opts_default(&so);
	started("prod", "NH1", 0);
	/* the alert commits, then latticed dies before enqueueing */
	sweep(&so, 80000);
	lt_fold_free(fd);
	lt_store_close(st);

	ck_assert_int_eq(lt_store_open(path, &st, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_new(st, NULL, &fd, NULL), LT_OK);
	ck_assert_int_eq(lt_outbox_new(st, &ob, NULL), LT_OK);
	ck_assert_uint_eq(enqueue(ob, one, 1, BASE + 90000), 1);
	/* ... and dies again before delivering */
	lt_outbox_free(ob);
	lt_fold_free(fd);
	lt_store_close(st);

	ck_assert_int_eq(lt_store_open(path, &st, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_new(st, NULL, &fd, NULL), LT_OK);
	ck_assert_int_eq(lt_outbox_new(st, &ob, NULL), LT_OK);
	ck_assert_uint_eq(enqueue(ob, one, 1, BASE + 95000), 0);
	ck_assert_int_eq(lt_outbox_next(ob, BASE + 95000, 0, 4, d, &n, NULL),
	    LT_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(d[0].kind, "host_stale");
	ck_assert_str_eq(d[0].sink, "nats");
	lt_delivery_clear(d, n);
	ck_assert_int_eq(qi("PRAGMA user_version"),
	    lt_store_schema_version());
	lt_outbox_free(ob);
	unlink(path);
	{
		char p2[sizeof(path) + 8];

		snprintf(p2, sizeof(p2), "%s-wal", path);
		unlink(p2);
		snprintf(p2, sizeof(p2), "%s-shm", path);
		unlink(p2);
	}
}
END_TEST

START_TEST(test_statements_prepare)
{
	struct lt_outbox *ob = NULL;

	/* every statement of both tables prepares on a fresh database */
	ck_assert_int_eq(lt_outbox_new(st, &ob, NULL), LT_OK);
	ck_assert_ptr_nonnull(ob);
	lt_outbox_free(ob);
	lt_outbox_free(NULL);
	lt_delivery_clear(NULL, 3);
	ck_assert_str_eq(lt_transition_name(LT_TR_FIRING), "firing");
	ck_assert_str_eq(lt_transition_name(LT_TR_RESOLVED), "resolved");
	/* an operator resolving an alert by hand is queued too */
	ev(NULL, "host_stopped", "NH1", 0, "{}");
	ck_assert_int_eq(sqlite3_exec(st->db, "UPDATE alerts SET "
	    "resolved_ms = 1", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(qi("SELECT count(*) FROM alert_changes"), 2);
}
END_TEST

/* The suite. */
static Suite *
alert_suite(void)
{
	Suite *s = suite_create("alert");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_host_stopped);
	tcase_add_test(tc, test_host_stopped_real_event);
	tcase_add_test(tc, test_host_stale_once);
	tcase_add_test(tc, test_stale_then_stopped);
	tcase_add_test(tc, test_mass_silence);
	tcase_add_test(tc, test_mass_silence_straddle);
	tcase_add_test(tc, test_mass_silence_window);
	tcase_add_test(tc, test_alert_storm);
	tcase_add_test(tc, test_sweep_alerts_only_its_hosts);
	tcase_add_loop_test(tc, test_mass_silence_table, 0,
	    sizeof(mass_cases) / sizeof(mass_cases[0]));
	tcase_add_test(tc, test_provider_unhealthy);
	tcase_add_loop_test(tc, test_failures, 0,
	    sizeof(fail_cases) / sizeof(fail_cases[0]));
	tcase_add_test(tc, test_outbox_enqueue_next_done);
	tcase_add_test(tc, test_outbox_backoff);
	tcase_add_test(tc, test_outbox_lease_repost_prune);
	tcase_add_test(tc, test_statements_prepare);
	suite_add_tcase(s, tc);

	tc = tcase_create("edge");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stale_no_heartbeat_ever);
	tcase_add_test(tc, test_provider_unhealthy_superseded);
	tcase_add_loop_test(tc, test_prov_gone_in_batch, 0,
	    sizeof(gone_cases) / sizeof(gone_cases[0]));
	tcase_add_test(tc, test_prov_gone_fired_in_batch);
	tcase_add_test(tc, test_prov_gone_after_rollback);
	tcase_add_test(tc, test_failure_resolution_by_entity);
	tcase_add_test(tc, test_rollback_loses_nothing_invents_nothing);
	tcase_add_test(tc, test_outbox_restart);
	suite_add_tcase(s, tc);
	return s;
}

/* Run it. */
int
main(void)
{
	SRunner *sr = srunner_create(alert_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
