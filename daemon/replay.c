/*
 * replay.c - fold a JSONL file (--replay): each line a bare CloudEvent or
 * {"subject": "...", "event": {...}}, optionally with "received_at": an
 * RFC 3339 time, the clock for an event without a time of its own (a
 * wasmCloud 2 heartbeat on runtime.operator.heartbeat.<id>).  cJSON is used only to unwrap the
 * second form and read `time` when lib/'s raw member scanner cannot;
 * decoding proper is lib/'s job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "fold.h"
#include "log.h"
#include "maint.h"
#include "outbox.h"
#include "replay.h"
#include "stale.h"
#include "store.h"
#include "timeutil.h"

/* Events per transaction.  A replay is history and can be re-run, so a
   batch can be big: index pages shared by many events are written to the
   WAL once (50,000-event flood file: 6.6 s at 1,000, 5.0 s at 10,000). */
#define REPLAY_BATCH	10000
#define REPLAY_MAX_DEPTH 512	/* nesting the line scanner accepts; the
				   decoder applies the configured limit */

/*
 * Split a line into subject and payload with cJSON (the slow path, for
 * lines the raw scanner does not take).  *payload is either line itself or
 * a new string in *owned.  Reads the event's time into *time_ms.
 */
static void
unwrap_json(const char *line, size_t len, char **subject,
    const char **payload, size_t *plen, char **owned, int64_t *time_ms,
    int *time_ok)
{
	cJSON		*root, *ev, *subj, *t;

	*subject = NULL;
	*payload = line;
	*plen = len;
	*owned = NULL;
	*time_ok = 0;
	if ((root = cJSON_ParseWithLength(line, len)) == NULL)
		return;
	ev = root;
	subj = cJSON_GetObjectItemCaseSensitive(root, "subject");
	if (cJSON_IsObject(root) && cJSON_IsString(subj) &&
	    cJSON_HasObjectItem(root, "event")) {
		ev = cJSON_GetObjectItemCaseSensitive(root, "event");
		*subject = strdup(subj->valuestring);
		if ((*owned = cJSON_PrintUnformatted(ev)) != NULL) {
			*payload = *owned;
			*plen = strlen(*owned);
		}
	}
	t = cJSON_IsObject(ev) ?
	    cJSON_GetObjectItemCaseSensitive(ev, "time") : NULL;
	if (cJSON_IsString(t) && lt_time_parse(t->valuestring,
	    strlen(t->valuestring), time_ms) == 0)
		*time_ok = 1;
	t = ev != root ?
	    cJSON_GetObjectItemCaseSensitive(root, "received_at") : NULL;
	if (!*time_ok && cJSON_IsString(t) && lt_time_parse(t->valuestring,
	    strlen(t->valuestring), time_ms) == 0)
		*time_ok = 1;
	cJSON_Delete(root);
}

/* Whether a raw span is a JSON string without escapes. */
static int
plain_string(const char *p, const struct lt_ce_span *sp)
{
	return sp->len >= 2 && p[sp->off] == '"' &&
	    memchr(p + sp->off + 1, '\\', sp->len - 2) == NULL;
}

/*
 * Split a line into subject and payload without building a tree: the
 * payload is the raw "event" member (or the whole line), so it is neither
 * copied nor re-printed.  Lines the raw scanner refuses (cJSON is more
 * lenient) or with escapes in the subject or time go to unwrap_json().
 */
static void
unwrap(const char *line, size_t len, char **subject, const char **payload,
    size_t *plen, char **owned, int64_t *time_ms, int *time_ok)
{
	static const char *const top[] = { "subject", "event", "time",
	    "received_at" };
	static const char *const inner[] = { "time" };
	struct lt_ce_span sp[4], ts;
	const char *ev = line;
	size_t evlen = len;

	*subject = NULL;
	*payload = line;
	*plen = len;
	*owned = NULL;
	*time_ok = 0;
	if (lt_ce_member_spans(line, len, REPLAY_MAX_DEPTH, top, 4, sp,
	    NULL) != LT_OK || line[0] != '{')
		goto slow;
	ts = sp[2];
	if (sp[0].len > 0 && line[sp[0].off] == '"' && sp[1].len > 0) {
		if (!plain_string(line, &sp[0]))
			goto slow;
		ev = line + sp[1].off;
		evlen = sp[1].len;
		if (ev[0] != '{')
			ts.len = 0;
		else if (lt_ce_member_spans(ev, evlen, REPLAY_MAX_DEPTH,
		    inner, 1, &ts, NULL) != LT_OK)
			goto slow;
		if ((*subject = strndup(line + sp[0].off + 1,
		    sp[0].len - 2)) == NULL)
			goto slow;
		*payload = ev;
		*plen = evlen;
	}
	if (ts.len > 0 && ev[ts.off] == '"') {
		if (!plain_string(ev, &ts)) {
			free(*subject);
			goto slow;
		}
		if (lt_time_parse(ev + ts.off + 1, ts.len - 2, time_ms) == 0)
			*time_ok = 1;
	}
	/* the wrapper's received_at: the clock when the event has none */
	if (!*time_ok && *subject != NULL && sp[3].len > 0) {
		if (!plain_string(line, &sp[3])) {
			free(*subject);
			goto slow;
		}
		if (lt_time_parse(line + sp[3].off + 1, sp[3].len - 2,
		    time_ms) == 0)
			*time_ok = 1;
	}
	return;
slow:
	unwrap_json(line, len, subject, payload, plen, owned, time_ms,
	    time_ok);
}

/*
 * Commit the replay's transaction.  A replay records alerts but delivers
 * none (it is history, often old): their queued changes are dropped, so a
 * daemon started on the file later does not send them.
 */
static int
commit(struct lt_fold *f, struct lt_outbox *ob, int64_t now_ms,
    struct lt_err *err)
{
	if (lt_outbox_enqueue_pending(ob, NULL, 0, now_ms, NULL, err) != LT_OK)
		return -1;
	return lt_fold_commit(f, err) == LT_OK ? 0 : -1;
}

/* Replay path into the database. */
int
replay_run(const struct config *cf, const char *path)
{
	struct lt_store		*st = NULL;
	struct lt_fold		*f = NULL;
	struct lt_outbox	*ob = NULL;
	struct lt_fold_opts	 fo;
	struct lt_stale_opts	 so;
	struct lt_stale_result	 res = { 0 };
	struct lt_err		 err;
	struct lt_msg		 m = { 0 };
	enum lt_outcome		 out;
	const struct lt_fold_stats *fs;
	FILE			*fp;
	char			*line = NULL, *subject, *owned;
	const char		*payload;
	size_t			 cap = 0, plen, inbatch = 0;
	ssize_t			 len;
	int64_t			 last_ms = 0, t;
	unsigned long		 lines = 0;
	int			 tok, status = 1, intx = 0;

	lt_err_clear(&err);
	fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (fp == NULL) {
		log_warn("replay: %s", path);
		return 1;
	}
	maint_announce_migration(cf->db);
	if (lt_store_open(cf->db, &st, &err) != LT_OK) {
		maint_open_failed(cf->db, &err);
		goto out;
	}
	lt_fold_opts_default(&fo);
	fo.limits = cf->limits;
	fo.v2_lattice = cf->v2_lattice;
	fo.v2_lattice_map = cf->v2_lattice_map;
	if (lt_fold_new(st, &fo, &f, &err) != LT_OK ||
	    lt_outbox_new(st, &ob, &err) != LT_OK)
		goto fail;
	while ((len = getline(&line, &cap, fp)) != -1) {
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		lines++;
		if (len == 0)
			continue;
		unwrap(line, (size_t)len, &subject, &payload, &plen, &owned,
		    &t, &tok);
		if (tok)
			last_ms = t;
		if (!intx) {
			if (lt_fold_begin(f, &err) != LT_OK)
				goto fail;
			intx = 1;
		}
		m.subject = subject;
		m.data = payload;
		m.len = plen;
		m.received_ms = last_ms;
		lt_err_clear(&err);
		if (lt_fold_msg(f, &m, &out, &err) != LT_OK) {
			free(subject);
			cJSON_free(owned);
			goto fail;
		}
		if (out == LT_OUT_REJECTED)
			log_debug("replay: line %lu rejected: %s", lines,
			    err.msg);
		free(subject);
		cJSON_free(owned);
		if (++inbatch == REPLAY_BATCH) {
			if (commit(f, ob, last_ms, &err) != 0)
				goto fail;
			intx = 0;
			inbatch = 0;
		}
	}
	if (ferror(fp)) {
		log_warn("replay: %s", path);
		goto fail;
	}
	if (!intx && lt_fold_begin(f, &err) != LT_OK)
		goto fail;
	intx = 1;
	config_stale_opts(cf, &so);
	if (last_ms > 0 && lt_stale_sweep(f, &so, last_ms, 0, &res, &err)
	    != LT_OK)
		goto fail;
	if (commit(f, ob, last_ms, &err) != 0)
		goto fail;
	intx = 0;
	fs = lt_fold_stats(f);
	printf("replay: %lu lines: applied %llu, unchanged %llu, superseded "
	    "%llu, recorded %llu, duplicate %llu, rejected %llu; %d host(s) "
	    "marked stale\n", lines,
	    (unsigned long long)fs->outcomes[LT_OUT_APPLIED],
	    (unsigned long long)fs->outcomes[LT_OUT_UNCHANGED],
	    (unsigned long long)fs->outcomes[LT_OUT_SUPERSEDED],
	    (unsigned long long)fs->outcomes[LT_OUT_RECORDED],
	    (unsigned long long)fs->outcomes[LT_OUT_DUPLICATE],
	    (unsigned long long)fs->outcomes[LT_OUT_REJECTED], res.marked);
	status = 0;
	goto out;
fail:
	if (intx)
		lt_fold_rollback(f);
	log_warnx("replay: %s: %s", lt_strerror(err.code), err.msg);
out:
	free(line);
	if (fp != stdin)
		fclose(fp);
	lt_outbox_free(ob);
	lt_fold_free(f);
	lt_store_close(st);
	return status;
}
