/*
 * hostcache.c - the fold's host rows of one write transaction: a hash
 * table of (lattice, host_id) over an array kept in the order added.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hostcache.h"

#define FIRST_BUCKETS	256	/* a power of two */

struct ent {
	struct lt_hrow	 row;
	uint64_t	 hash;
	struct ent	*next;		/* in its bucket */
	char		 key[];		/* lattice '\0' host_id '\0' */
};

struct lt_hcache {
	struct ent	**buckets;
	size_t		 nbuckets;
	struct ent	**rows;		/* in the order added */
	size_t		 n, cap;
};

/* FNV-1a of the key (lattice, then a 0 byte, then host_id). */
static uint64_t
key_hash(const char *lat, size_t latlen, const char *host)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < latlen; i++)
		h = (h ^ (unsigned char)lat[i]) * 0x100000001b3ULL;
	h *= 0x100000001b3ULL;
	for (; *host != '\0'; host++)
		h = (h ^ (unsigned char)*host) * 0x100000001b3ULL;
	return h;
}

/* A new, empty cache. */
int
lt_hcache_new(struct lt_hcache **out)
{
	struct lt_hcache *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return LT_ENOMEM;
	if ((c->buckets = calloc(FIRST_BUCKETS, sizeof(*c->buckets))) ==
	    NULL) {
		free(c);
		return LT_ENOMEM;
	}
	c->nbuckets = FIRST_BUCKETS;
	*out = c;
	return LT_OK;
}

/* Free one entry and its texts. */
static void
ent_free(struct ent *e)
{
	free(e->row.friendly_name);
	free(e->row.version);
	free(e->row.labels);
	free(e->row.reason);
	free(e);
}

/* Forget every row. */
void
lt_hcache_clear(struct lt_hcache *c)
{
	size_t i;

	if (c == NULL || c->n == 0)
		return;
	for (i = 0; i < c->n; i++)
		ent_free(c->rows[i]);
	c->n = 0;
	memset(c->buckets, 0, c->nbuckets * sizeof(*c->buckets));
}

/* Free the cache. */
void
lt_hcache_free(struct lt_hcache *c)
{
	if (c == NULL)
		return;
	lt_hcache_clear(c);
	free(c->buckets);
	free(c->rows);
	free(c);
}

/* The i-th row added. */
struct lt_hrow *
lt_hcache_at(struct lt_hcache *c, size_t i)
{
	return i < c->n ? &c->rows[i]->row : NULL;
}

/* The row of (lattice, host_id), or NULL. */
struct lt_hrow *
lt_hcache_get(struct lt_hcache *c, const char *lattice, int latlen,
    const char *host_id)
{
	size_t ll = latlen < 0 ? strlen(lattice) : (size_t)latlen;
	uint64_t h = key_hash(lattice, ll, host_id);
	struct ent *e;

	for (e = c->buckets[h & (c->nbuckets - 1)]; e != NULL; e = e->next)
		if (e->hash == h && memcmp(e->key, lattice, ll) == 0 &&
		    e->key[ll] == '\0' && strcmp(e->key + ll + 1, host_id) == 0)
			return &e->row;
	return NULL;
}

/* Double the buckets; on failure the table stays as it is (longer
   chains, still correct). */
static void
grow_buckets(struct lt_hcache *c)
{
	size_t nb = c->nbuckets * 2, i;
	struct ent **b, *e;

	if ((b = calloc(nb, sizeof(*b))) == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		e = c->rows[i];
		e->next = b[e->hash & (nb - 1)];
		b[e->hash & (nb - 1)] = e;
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = nb;
}

/* Add a zeroed row for (lattice, host_id). */
struct lt_hrow *
lt_hcache_add(struct lt_hcache *c, const char *lattice, int latlen,
    const char *host_id)
{
	size_t ll = latlen < 0 ? strlen(lattice) : (size_t)latlen;
	size_t hl = strlen(host_id), cap;
	struct ent *e, **rows;

	if (c->n == c->cap) {
		cap = c->cap ? c->cap * 2 : 64;
		if ((rows = reallocarray(c->rows, cap, sizeof(*rows))) == NULL)
			return NULL;
		c->rows = rows;
		c->cap = cap;
	}
	if ((e = calloc(1, sizeof(*e) + ll + hl + 2)) == NULL)
		return NULL;
	memcpy(e->key, lattice, ll);
	e->key[ll] = '\0';
	memcpy(e->key + ll + 1, host_id, hl + 1);
	e->row.lattice = e->key;
	e->row.host_id = e->key + ll + 1;
	e->hash = key_hash(lattice, ll, host_id);
	if (c->n >= c->nbuckets * 2)
		grow_buckets(c);
	e->next = c->buckets[e->hash & (c->nbuckets - 1)];
	c->buckets[e->hash & (c->nbuckets - 1)] = e;
	c->rows[c->n++] = e;
	return &e->row;
}

/* Make *dst a copy of v. */
int
lt_hcache_text(char **dst, const char *v)
{
	char *p = NULL;

	if (v == NULL ? *dst == NULL :
	    *dst != NULL && strcmp(*dst, v) == 0)
		return 0;
	if (v != NULL && (p = strdup(v)) == NULL)
		return -1;
	free(*dst);
	*dst = p;
	return 0;
}
