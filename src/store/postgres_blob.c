/*
 * postgres_blob.c — the PostgreSQL backend's blobs (store.h "blobs", issue 15 §5): a
 * blob's bytes are bytea rows of BLOB_CHUNK in blob_chunks, read back a range of
 * chunks at a time so a download streams; blob_uploads and blob_refs say which
 * account may see a blob, and the collector drops the blobs neither holds. Split from
 * postgres.c as sqlite.c's blob section is its own part there.
 */
#include <assert.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres_internal.h"
#include "util/util.h"

#define BLOB_CHUNK (256 * 1024)

/* ---- blobs: bytea in chunks ----------------------------------------------------------- */

static int blob_chunks_put(struct store_conn *c, const char *blob_id, const void *data, size_t len)
{
    static const char *const sql = "INSERT INTO blob_chunks(blob_id, seq, data) VALUES($1,$2,$3)";
    int rc = STORE_OK;
    for (size_t off = 0, seq = 0; rc == STORE_OK && (off < len || seq == 0); seq++) {
        size_t n = len - off < BLOB_CHUNK ? len - off : BLOB_CHUNK;
        struct params p = {0};
        pgq_text(&p, blob_id);
        pgq_int(&p, (int64_t)seq);
        pgq_bin(&p, (const char *)data + off, n);
        rc = pgq_run(c, sql, &p, NULL);
        off += n;
    }
    return rc;
}

int pg_blob_put(struct store_conn *c, const char *account, const char *blob_id, const void *data,
                size_t len, const char *type)
{
    static const char *const blob = "INSERT INTO blobs(id, size, created) VALUES($1,$2,$3) "
                                    "ON CONFLICT DO NOTHING RETURNING 1";
    static const char *const upl = "INSERT INTO blob_uploads(account_id, blob_id, type, created) "
                                   "VALUES($1,$2,$3,$4) ON CONFLICT(account_id, blob_id) DO "
                                   "UPDATE SET type=EXCLUDED.type, created=EXCLUDED.created";
    bool began = pg_auto_begin(c);
    struct params p = {0};
    pgq_text(&p, blob_id);
    pgq_int(&p, (int64_t)len);
    pgq_int(&p, util_now());
    int rc = pgq_insert(c, blob, &p);
    if (rc == STORE_OK) /* new: its bytes; STORE_EXISTS: stored before (idempotent) */
        rc = blob_chunks_put(c, blob_id, data, len);
    else if (rc == STORE_EXISTS)
        rc = STORE_OK;
    if (rc == STORE_OK) {
        struct params u = pgq_two(account, blob_id);
        pgq_text(&u, type);
        pgq_int(&u, util_now());
        rc = pgq_run(c, upl, &u, NULL);
    }
    return pg_auto_end(c, began, rc);
}

#define BLOB_VISIBLE                                                                               \
    " FROM blobs b WHERE b.id=$2 AND ("                                                            \
    " EXISTS(SELECT 1 FROM blob_uploads u WHERE u.account_id=$1 AND u.blob_id=$2) OR"              \
    " EXISTS(SELECT 1 FROM blob_refs r WHERE r.account_id=$1 AND r.blob_id=$2))"

int64_t pg_blob_size(struct store_conn *c, const char *account, const char *blob_id)
{
    static const char *const sql = "SELECT b.size" BLOB_VISIBLE;
    struct params p = pgq_two(account, blob_id);
    return pgq_first_int(c, sql, &p, -1);
}

int pg_blob_get(struct store_conn *c, const char *account, const char *blob_id,
                unsigned char **data, size_t *len)
{
    static const char *const sql = "SELECT data FROM blob_chunks WHERE blob_id=$1 ORDER BY seq";
    int64_t size = pg_blob_size(c, account, blob_id);
    if (size < 0)
        return STORE_NOTFOUND;
    struct params p = {0};
    pgq_text(&p, blob_id);
    PGresult *r;
    int rc = pgq_exec(c, sql, true, &p, 1, &r);
    if (rc)
        return rc;
    unsigned char *out = xmalloc((size_t)size + 1);
    size_t at = 0;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        size_t k = (size_t)PQgetlength(r, i, 0);
        if (at + k > (size_t)size)
            break;
        memcpy(out + at, PQgetvalue(r, i, 0), k);
        at += k;
    }
    PQclear(r);
    if (at != (size_t)size) {
        log_error("postgresql: blob %s has %zu of %lld bytes", blob_id, at, (long long)size);
        free(out);
        return STORE_ERR;
    }
    out[at] = 0;
    *data = out;
    *len = at;
    return STORE_OK;
}

/* Only the chunks [offset, offset + len) falls in are read, and of the first and the
 * last only the part in the range (substring of bytea counts bytes, from 1). */
int pg_blob_read(struct store_conn *c, const char *account, const char *blob_id, uint64_t offset,
                 size_t len, unsigned char **data, size_t *got)
{
    static const char *const sql = "SELECT substring(data FROM (CASE WHEN seq=$2::int THEN "
                                   "$4::int ELSE 0 END) + 1 FOR $5::int) FROM blob_chunks WHERE "
                                   "blob_id=$1 AND seq BETWEEN $2::int AND $3::int ORDER BY seq";
    int64_t size = pg_blob_size(c, account, blob_id);
    if (size < 0)
        return STORE_NOTFOUND;
    size_t n = offset >= (uint64_t)size ? 0 : (size_t)((uint64_t)size - offset);
    n = n < len ? n : len;
    unsigned char *out = xmalloc(n + 1);
    size_t at = 0;
    if (n) {
        uint64_t last = offset + n - 1;
        struct params p = {0};
        pgq_text(&p, blob_id);
        pgq_int(&p, (int64_t)(offset / BLOB_CHUNK));
        pgq_int(&p, (int64_t)(last / BLOB_CHUNK));
        pgq_int(&p, (int64_t)(offset % BLOB_CHUNK));
        pgq_int(&p, (int64_t)(n < BLOB_CHUNK ? n : BLOB_CHUNK)); /* a chunk holds no more */
        PGresult *r;
        if (pgq_exec(c, sql, true, &p, 1, &r)) {
            free(out);
            return STORE_ERR;
        }
        for (int i = 0, rows = PQntuples(r); i < rows && at < n; i++) {
            size_t k = (size_t)PQgetlength(r, i, 0);
            k = k < n - at ? k : n - at;
            memcpy(out + at, PQgetvalue(r, i, 0), k);
            at += k;
        }
        PQclear(r);
    }
    if (at != n) {
        log_error("postgresql: blob %s has fewer bytes than its size", blob_id);
        free(out);
        return STORE_ERR;
    }
    out[at] = 0;
    *data = out;
    *got = at;
    return STORE_OK;
}

int pg_blob_ref(struct store_conn *c, const char *account, const char *blob_id, const char *type,
                const char *id)
{
    static const char *const sql = "INSERT INTO blob_refs(account_id, blob_id, obj_type, obj_id) "
                                   "VALUES($1,$2,$3,$4) ON CONFLICT DO NOTHING";
    struct params p = pgq_three(account, blob_id, type);
    pgq_text(&p, id);
    return pgq_defer(c, sql, &p);
}

int pg_blob_unref_object(struct store_conn *c, const char *account, const char *type,
                         const char *id)
{
    static const char *const sql = "DELETE FROM blob_refs WHERE account_id=$1 AND obj_type=$2 AND "
                                   "obj_id=$3";
    struct params p = pgq_three(account, type, id);
    return pgq_defer(c, sql, &p);
}

int pg_blob_refs(struct store_conn *c, const char *account, const char *blob_id, store_ref_cb cb,
                 void *ud)
{
    static const char *const sql = "SELECT obj_type, obj_id FROM blob_refs WHERE account_id=$1 "
                                   "AND blob_id=$2 ORDER BY obj_type, obj_id";
    struct params p = pgq_two(account, blob_id);
    return pgq_each_pair(c, sql, &p, cb, ud);
}

/* One front end at a time collects (the writers' advisory lock when the caller holds a
 * write transaction, as serve.c does). */
int pg_blob_gc(struct store_conn *c, int64_t max_age)
{
    static const char *const old = "DELETE FROM blob_uploads WHERE created < $1";
    static const char *const unref = "DELETE FROM blobs WHERE NOT EXISTS(SELECT 1 FROM "
                                     "blob_uploads u WHERE u.blob_id=blobs.id) AND NOT EXISTS("
                                     "SELECT 1 FROM blob_refs r WHERE r.blob_id=blobs.id)";
    struct params p = {0};
    pgq_int(&p, util_now() - max_age);
    bool began = pg_auto_begin(c);
    int rc = pgq_run(c, old, &p, NULL);
    rc = rc ? rc : pgq_run(c, unref, NULL, NULL);
    return pg_auto_end(c, began, rc);
}
