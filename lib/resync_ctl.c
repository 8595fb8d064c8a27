/*
 * resync_ctl.c - control-interface subjects and replies into synthetic
 * CloudEvents (resync_ctl.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "resync_ctl.h"
#include "timeutil.h"

#define ID_MAX	1024		/* an event id, at most */

/* Whether s can be one subject token. */
static int
token_ok(const char *s)
{
	return s != NULL && s[0] != '\0' &&
	    strpbrk(s, ".*> \t\r\n") == NULL;
}

/* snprintf into buf, LT_EINVAL when it does not fit. */
static int __attribute__((format(printf, 4, 5)))
put(struct lt_err *err, char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return lt_err_set(err, LT_EINVAL, "", "resync: name too long "
		    "for a subject or id (%d bytes)", n);
	return LT_OK;
}

/* Write a request's subject. */
int
lt_resync_subject(char *buf, size_t len, enum lt_resync_req what,
    const char *lattice, const char *arg, struct lt_err *err)
{
	return lt_resync_subject_at(buf, len, what, NULL, NULL, lattice, arg,
	    err);
}

/* Write a request's subject under a control prefix and JetStream domain. */
int
lt_resync_subject_at(char *buf, size_t len, enum lt_resync_req what,
    const char *ctl_prefix, const char *js_domain, const char *lattice,
    const char *arg, struct lt_err *err)
{
	const char	*ctl = ctl_prefix != NULL && ctl_prefix[0] != '\0' ?
			    ctl_prefix : "wasmbus.ctl";
	int		 dom = js_domain != NULL && js_domain[0] != '\0';

	if (!token_ok(lattice))
		return lt_err_set(err, LT_EINVAL, "lattice", "resync: lattice "
		    "name unusable in a subject");
	if (dom && !token_ok(js_domain))
		return lt_err_set(err, LT_EINVAL, "js_domain", "resync: "
		    "JetStream domain unusable in a subject");
	switch (what) {
	case LT_RS_PING:
		return put(err, buf, len, "%s.v1.%s.host.ping", ctl,
		    lattice);
	case LT_RS_LINK_GET:
		return put(err, buf, len, "%s.v1.%s.link.get", ctl,
		    lattice);
	case LT_RS_KV_INFO:
		return put(err, buf, len, "$JS.%s%sAPI.STREAM.INFO."
		    "KV_CONFIGDATA_%s", dom ? js_domain : "", dom ? "." : "",
		    lattice);
	case LT_RS_HOST_GET:
	case LT_RS_CONFIG_GET:
		if (!token_ok(arg))
			return lt_err_set(err, LT_EINVAL, "", "resync: name "
			    "unusable in a subject");
		return put(err, buf, len, "%s.v1.%s.%s.%s", ctl, lattice,
		    what == LT_RS_HOST_GET ? "host.get" : "config.get", arg);
	}
	return lt_err_set(err, LT_EINVAL, "", "resync: unknown request");
}

/* The KV stream info request's body. */
int
lt_resync_kv_body(char *buf, size_t len, const char *lattice,
    struct lt_err *err)
{
	if (!token_ok(lattice))
		return lt_err_set(err, LT_EINVAL, "lattice", "resync: lattice "
		    "name unusable in a subject");
	return put(err, buf, len, "{\"subjects_filter\":"
	    "\"$KV.CONFIGDATA_%s.>\"}", lattice);
}

/* Free the events. */
void
lt_resync_events_free(struct lt_resync_events *evs)
{
	size_t	i;

	if (evs == NULL)
		return;
	for (i = 0; i < evs->n; i++) {
		free(evs->v[i].subject);
		free(evs->v[i].json);
	}
	free(evs->v);
	memset(evs, 0, sizeof(*evs));
}

/* Free a link key's strings. */
static void
link_free(struct lt_resync_link *l)
{
	free(l->source_id);
	free(l->name);
	free(l->wit_namespace);
	free(l->wit_package);
}

/* Free the sets. */
void
lt_resync_seen_free(struct lt_resync_seen *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nlink; i++)
		link_free(&s->link[i]);
	for (i = 0; i < s->nconfig; i++)
		free(s->config[i]);
	free(s->link);
	free(s->config);
	memset(s, 0, sizeof(*s));
}

/* Whether a equals b, NULL counting as "". */
static int
eq(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* Whether the set holds that link. */
int
lt_resync_seen_link(const struct lt_resync_seen *s, const char *source_id,
    const char *name, const char *wit_namespace, const char *wit_package)
{
	size_t	i;

	for (i = 0; i < s->nlink; i++)
		if (eq(s->link[i].source_id, source_id) &&
		    eq(s->link[i].name, name) &&
		    eq(s->link[i].wit_namespace, wit_namespace) &&
		    eq(s->link[i].wit_package, wit_package))
			return 1;
	return 0;
}

/* Whether the set holds that config. */
int
lt_resync_seen_config(const struct lt_resync_seen *s, const char *name)
{
	size_t	i;

	for (i = 0; i < s->nconfig; i++)
		if (strcmp(s->config[i], name) == 0)
			return 1;
	return 0;
}

/* A string member, or NULL. */
static const char *
str(const cJSON *o, const char *k)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* strdup of s, "" for NULL; NULL when out of memory. */
static char *
dup0(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* Add a link key to the set. */
static int
seen_add_link(struct lt_resync_seen *s, const char *source_id,
    const char *name, const char *ns, const char *pkg, struct lt_err *err)
{
	struct lt_resync_link	*l;
	void			*p;

	if (lt_resync_seen_link(s, source_id, name, ns, pkg))
		return LT_OK;
	if (s->nlink == s->linkcap) {
		size_t	n = s->linkcap ? s->linkcap * 2 : 8;

		if ((p = reallocarray(s->link, n, sizeof(*s->link))) == NULL)
			goto nomem;
		s->link = p;
		s->linkcap = n;
	}
	l = &s->link[s->nlink];
	l->source_id = dup0(source_id);
	l->name = dup0(name);
	l->wit_namespace = dup0(ns);
	l->wit_package = dup0(pkg);
	if (l->source_id == NULL || l->name == NULL ||
	    l->wit_namespace == NULL || l->wit_package == NULL) {
		link_free(l);
		goto nomem;
	}
	s->nlink++;
	return LT_OK;
nomem:
	return lt_err_set(err, LT_ENOMEM, "", "resync: out of memory");
}

/* Add a config name to the set. */
static int
seen_add_config(struct lt_resync_seen *s, const char *name,
    struct lt_err *err)
{
	void	*p;

	if (lt_resync_seen_config(s, name))
		return LT_OK;
	if (s->nconfig == s->configcap) {
		size_t	n = s->configcap ? s->configcap * 2 : 8;

		if ((p = reallocarray(s->config, n, sizeof(*s->config))) ==
		    NULL)
			goto nomem;
		s->config = p;
		s->configcap = n;
	}
	if ((s->config[s->nconfig] = strdup(name)) == NULL)
		goto nomem;
	s->nconfig++;
	return LT_OK;
nomem:
	return lt_err_set(err, LT_ENOMEM, "", "resync: out of memory");
}

/* Append a CloudEvent of type with data (borrowed) to out. */
static int
add_event(struct lt_resync_events *out, const char *lattice,
    const char *type, const char *source, const char *id, int64_t ms,
    cJSON *data, struct lt_err *err)
{
	struct lt_resync_event	*e;
	cJSON			*ce = NULL;
	char			 tbuf[LT_TIME_BUFSZ], tname[128], subj[512];
	char			*txt = NULL;
	void			*p;
	int			 rc;

	if ((rc = put(err, tname, sizeof(tname), "com.wasmcloud.lattice.%s",
	    type)) != LT_OK ||
	    (rc = put(err, subj, sizeof(subj), "wasmbus.evt.%s.%s", lattice,
	    type)) != LT_OK)
		return rc;
	if ((ce = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(ce, "specversion", "1.0") == NULL ||
	    cJSON_AddStringToObject(ce, "id", id) == NULL ||
	    cJSON_AddStringToObject(ce, "type", tname) == NULL ||
	    cJSON_AddStringToObject(ce, "source", source) == NULL ||
	    cJSON_AddStringToObject(ce, "datacontenttype",
	    "application/json") == NULL ||
	    cJSON_AddStringToObject(ce, "time", lt_time_format(ms, tbuf)) ==
	    NULL || !cJSON_AddItemReferenceToObject(ce, "data", data) ||
	    (txt = cJSON_PrintUnformatted(ce)) == NULL)
		goto nomem;
	cJSON_Delete(ce);
	ce = NULL;
	if (out->n == out->cap) {
		size_t	n = out->cap ? out->cap * 2 : 8;

		if ((p = reallocarray(out->v, n, sizeof(*out->v))) == NULL)
			goto nomem;
		out->v = p;
		out->cap = n;
	}
	e = &out->v[out->n];
	if ((e->subject = strdup(subj)) == NULL)
		goto nomem;
	e->json = txt;
	e->ms = ms;
	out->n++;
	return LT_OK;
nomem:
	cJSON_Delete(ce);
	free(txt);
	return lt_err_set(err, LT_ENOMEM, "", "resync: out of memory");
}

/* Parse a CtlResponse: its response member when it succeeded. */
static int
ctl_parse(const char *json, size_t len, cJSON **root, cJSON **resp,
    struct lt_err *err)
{
	const cJSON	*ok;
	const char	*msg;

	*resp = NULL;
	if ((*root = cJSON_ParseWithLength(json, len)) == NULL)
		return lt_err_set(err, LT_EPARSE, "", "resync: reply is not "
		    "JSON");
	if (!cJSON_IsObject(*root))
		goto bad;
	ok = cJSON_GetObjectItemCaseSensitive(*root, "success");
	if (!cJSON_IsTrue(ok)) {
		int	rc;

		msg = str(*root, "message");
		rc = lt_err_set(err, LT_EINVAL, "success", "resync: %.200s",
		    msg != NULL && msg[0] != '\0' ? msg : "request failed");
		cJSON_Delete(*root);
		*root = NULL;
		return rc;
	}
	*resp = cJSON_GetObjectItemCaseSensitive(*root, "response");
	return LT_OK;
bad:
	cJSON_Delete(*root);
	*root = NULL;
	return lt_err_set(err, LT_EINVAL, "", "resync: not a CtlResponse");
}

/* A host.ping reply: the host's id. */
int
lt_resync_ping(const char *json, size_t len, char *host, size_t hostlen,
    struct lt_err *err)
{
	cJSON		*root, *resp;
	const char	*id;
	int		 rc;

	if ((rc = ctl_parse(json, len, &root, &resp, err)) != LT_OK)
		return rc;
	id = str(resp, "id");
	if (!token_ok(id))
		rc = lt_err_set(err, LT_EINVAL, "response.id", "resync: ping "
		    "reply without a usable host id");
	else
		rc = put(err, host, hostlen, "%s", id);
	cJSON_Delete(root);
	return rc;
}

/* A host.get reply: a host_heartbeat. */
int
lt_resync_inventory(const char *json, size_t len, const char *lattice,
    const char *host, int64_t ms, struct lt_resync_events *out,
    struct lt_err *err)
{
	cJSON	*root, *resp;
	char	 id[ID_MAX];
	int	 rc;

	if ((rc = ctl_parse(json, len, &root, &resp, err)) != LT_OK)
		return rc;
	if (!cJSON_IsObject(resp)) {
		rc = lt_err_set(err, LT_EINVAL, "response", "resync: host.get "
		    "reply without an inventory");
		goto out;
	}
	if (str(resp, "host_id") == NULL || str(resp, "host_id")[0] == '\0') {
		/* older hosts leave it out: it is the one we asked */
		cJSON_DeleteItemFromObjectCaseSensitive(resp, "host_id");
		if (cJSON_AddStringToObject(resp, "host_id", host) == NULL) {
			rc = lt_err_set(err, LT_ENOMEM, "", "resync: out of "
			    "memory");
			goto out;
		}
	}
	if ((rc = put(err, id, sizeof(id), "resync-%s-%s-%" PRId64, lattice,
	    host, ms)) != LT_OK)
		goto out;
	rc = add_event(out, lattice, "host_heartbeat", host, id, ms, resp,
	    err);
out:
	cJSON_Delete(root);
	return rc;
}

/* A link.get reply: linkdef_set events and the keys seen. */
int
lt_resync_links(const char *json, size_t len, const char *lattice,
    int64_t ms, struct lt_resync_events *out, struct lt_resync_seen *seen,
    struct lt_err *err)
{
	cJSON	*root, *resp, *link;
	char	 id[ID_MAX];
	size_t	 i = 0;
	int	 rc;

	if ((rc = ctl_parse(json, len, &root, &resp, err)) != LT_OK)
		return rc;
	if (!cJSON_IsArray(resp)) {
		rc = lt_err_set(err, LT_EINVAL, "response", "resync: link.get "
		    "reply without a list");
		goto out;
	}
	cJSON_ArrayForEach(link, resp) {
		if (!cJSON_IsObject(link))
			continue;
		if (seen != NULL && (rc = seen_add_link(seen,
		    str(link, "source_id"), str(link, "name"),
		    str(link, "wit_namespace"), str(link, "wit_package"),
		    err)) != LT_OK)
			goto out;
		if ((rc = put(err, id, sizeof(id), "resync-%s-link-%" PRId64
		    "-%zu", lattice, ms, i++)) != LT_OK ||
		    (rc = add_event(out, lattice, "linkdef_set",
		    "latticed-resync", id, ms, link, err)) != LT_OK)
			goto out;
	}
out:
	cJSON_Delete(root);
	return rc;
}

/* The config bucket's stream info: the config names. */
int
lt_resync_kv_names(const char *json, size_t len, const char *lattice,
    struct lt_resync_seen *names, struct lt_err *err)
{
	cJSON		*root, *st, *subs, *it;
	char		 pfx[512];
	size_t		 plen;
	int		 rc;

	if ((rc = put(err, pfx, sizeof(pfx), "$KV.CONFIGDATA_%s.", lattice))
	    != LT_OK)
		return rc;
	plen = strlen(pfx);
	if ((root = cJSON_ParseWithLength(json, len)) == NULL)
		return lt_err_set(err, LT_EPARSE, "", "resync: stream info is "
		    "not JSON");
	st = cJSON_GetObjectItemCaseSensitive(root, "state");
	if (!cJSON_IsObject(st) ||
	    cJSON_GetObjectItemCaseSensitive(root, "error") != NULL) {
		rc = lt_err_set(err, LT_EINVAL, "state", "resync: no config "
		    "bucket");
		goto out;
	}
	/* an empty bucket has no "subjects" at all */
	subs = cJSON_GetObjectItemCaseSensitive(st, "subjects");
	cJSON_ArrayForEach(it, subs) {
		if (it->string == NULL || strncmp(it->string, pfx, plen) != 0 ||
		    !token_ok(it->string + plen))
			continue;
		if ((rc = seen_add_config(names, it->string + plen, err)) !=
		    LT_OK)
			goto out;
	}
out:
	cJSON_Delete(root);
	return rc;
}

/* A config.get reply: a config_set when it exists. */
int
lt_resync_config(const char *json, size_t len, const char *lattice,
    const char *name, int64_t ms, struct lt_resync_events *out, int *exists,
    struct lt_err *err)
{
	cJSON	*root, *resp, *data = NULL;
	char	 id[ID_MAX];
	int	 rc;

	*exists = 0;
	if ((rc = ctl_parse(json, len, &root, &resp, err)) != LT_OK)
		return rc;
	/* success without a config: the lattice has none of that name */
	if (resp == NULL || cJSON_IsNull(resp))
		goto out;
	*exists = 1;
	if ((data = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(data, "config_name", name) == NULL) {
		rc = lt_err_set(err, LT_ENOMEM, "", "resync: out of memory");
		goto out;
	}
	if ((rc = put(err, id, sizeof(id), "resync-%s-config-%s-%" PRId64,
	    lattice, name, ms)) != LT_OK)
		goto out;
	rc = add_event(out, lattice, "config_set", "latticed-resync", id, ms,
	    data, err);
out:
	cJSON_Delete(data);
	cJSON_Delete(root);
	return rc;
}

/* A link the lattice no longer has. */
int
lt_resync_link_deleted(const char *lattice, const struct lt_resync_link *key,
    int64_t ms, size_t seq, struct lt_resync_events *out,
    struct lt_err *err)
{
	cJSON	*data;
	char	 id[ID_MAX];
	int	 rc;

	if ((rc = put(err, id, sizeof(id), "resync-%s-unlink-%" PRId64 "-%zu",
	    lattice, ms, seq)) != LT_OK)
		return rc;
	if ((data = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(data, "source_id", key->source_id) ==
	    NULL || cJSON_AddStringToObject(data, "name", key->name) == NULL ||
	    cJSON_AddStringToObject(data, "wit_namespace",
	    key->wit_namespace) == NULL ||
	    cJSON_AddStringToObject(data, "wit_package", key->wit_package) ==
	    NULL) {
		cJSON_Delete(data);
		return lt_err_set(err, LT_ENOMEM, "", "resync: out of memory");
	}
	rc = add_event(out, lattice, "linkdef_deleted", "latticed-resync", id,
	    ms, data, err);
	cJSON_Delete(data);
	return rc;
}

/* A config the lattice no longer has. */
int
lt_resync_config_deleted(const char *lattice, const char *name, int64_t ms,
    struct lt_resync_events *out, struct lt_err *err)
{
	cJSON	*data;
	char	 id[ID_MAX];
	int	 rc;

	if ((rc = put(err, id, sizeof(id), "resync-%s-unconfig-%s-%" PRId64,
	    lattice, name, ms)) != LT_OK)
		return rc;
	if ((data = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(data, "config_name", name) == NULL) {
		cJSON_Delete(data);
		return lt_err_set(err, LT_ENOMEM, "", "resync: out of memory");
	}
	rc = add_event(out, lattice, "config_deleted", "latticed-resync", id,
	    ms, data, err);
	cJSON_Delete(data);
	return rc;
}
