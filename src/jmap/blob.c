/*
 * blob.c — binary data methods: Blob/copy (RFC 8620 §6.3, core capability) and
 * Blob/upload, Blob/get, Blob/lookup (RFC 9404). Blobs are content-addressed: the
 * id is "G" + the SHA-256 of the octets in hex, so equal data is stored once.
 */
#include <stdlib.h>
#include <string.h>

#include "jmap/blob.h"
#include "jmap/engine.h"
#include "util/util.h"

void blob_id_for(const void *data, size_t len, char out[BLOB_ID_SIZE])
{
    out[0] = 'G';
    util_sha256_hex(data, len, out + 1);
}

bool blob_id_valid(const char *id)
{
    if (id[0] != 'G' || strlen(id) != BLOB_ID_SIZE - 1)
        return false;
    for (const char *p = id + 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/* Types whose objects can reference blobs, for Blob/lookup (RFC 9404 §4.3): the
 * registered types with a blob_ids hook. */
static json_t *blob_account_capability(const struct config *cfg, const struct store_access *a)
{
    json_t *names = json_array();
    for (size_t i = 0; i < jmap_type_count(); i++)
        if (jmap_type_at(i)->blob_ids)
            json_array_append_new(names, json_string(jmap_type_at(i)->name));
    return json_pack("{s:I, s:I, s:o, s:[s,s]}", "maxSizeBlobSet",
                     (json_int_t)cfg->max_size_blob_set, "maxDataSources",
                     (json_int_t)cfg->max_data_sources, "supportedTypeNames", names,
                     "supportedDigestAlgorithms", "sha", "sha-256");
}

/* ---- Blob/copy ------------------------------------------------------------------------- */

static const struct argspec copy_args[] = {
    {"fromAccountId", ARG_ID, ARG_REQUIRED},
    {"accountId", ARG_ID, ARG_REQUIRED},
    {"blobIds", ARG_ID_ARRAY, ARG_REQUIRED | ARG_REF},
    {NULL, 0, 0},
};

static int blob_copy(struct jmap_req *r, json_t *args)
{
    if (jmap_args_check(r, args, copy_args, NULL))
        return -1;
    const struct store_access *from, *to = jmap_copy_accounts(r, args, &from);
    if (!to)
        return -1;
    if (jmap_txn_begin(r, true))
        return -1;
    json_t *copied = json_object(), *not_copied = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(args, "blobIds"), i, v)
    {
        const char *id = jmap_resolve_id(r, json_string_value(v));
        unsigned char *data = NULL;
        size_t len = 0;
        if (!id || store_blob_get(r->conn, from->account_id, id, &data, &len) != STORE_OK) {
            json_object_set_new(not_copied, json_string_value(v),
                                jmap_seterror("notFound", "no such blob"));
            continue;
        }
        if (store_blob_put(r->conn, to->account_id, id, data, len, NULL) == STORE_OK)
            json_object_set_new(copied, json_string_value(v), json_string(id));
        else
            json_object_set_new(not_copied, json_string_value(v),
                                jmap_seterror("serverFail", "could not copy"));
        free(data);
    }
    if (store_commit(r->conn) != STORE_OK) {
        store_rollback(r->conn);
        json_decref(copied);
        json_decref(not_copied);
        jmap_error(r, "serverFail", "commit failed");
        return -1;
    }
    json_t *resp =
        json_pack("{s:s, s:s}", "fromAccountId", from->account_id, "accountId", to->account_id);
    json_object_set_new(resp, "copied", jmap_or_null(copied));
    json_object_set_new(resp, "notCopied", jmap_or_null(not_copied));
    jmap_respond(r, "Blob/copy", resp);
    return 0;
}

/* ---- Blob/upload ------------------------------------------------------------------------- */

static const struct argspec upload_args[] = {
    {"accountId", ARG_ID, ARG_REQUIRED},
    {"create", ARG_OBJECT, ARG_REQUIRED},
    {NULL, 0, 0},
};

/* Concatenates one UploadObject's data sources (RFC 9404 §4.1) into b. Returns NULL
 * or a SetError. */
static json_t *upload_sources(struct jmap_req *r, const char *account, json_t *spec, struct buf *b)
{
    json_t *data = json_object_get(spec, "data"), *type = json_object_get(spec, "type");
    const char *k;
    json_t *v;
    json_object_foreach(spec, k, v)
    {
        if (strcmp(k, "data") && strcmp(k, "type"))
            return jmap_seterror_props(json_pack("[s]", k), "unknown property");
    }
    if (!json_is_array(data))
        return jmap_seterror_props(json_pack("[s]", "data"), "data must be an array");
    if (type && !json_is_null(type) && !json_is_string(type))
        return jmap_seterror_props(json_pack("[s]", "type"), "type must be a string");
    if ((int64_t)json_array_size(data) > r->srv->cfg->max_data_sources)
        return jmap_seterror("tooLarge", "more than maxDataSources data sources");
    size_t i;
    json_t *src;
    json_array_foreach(data, i, src)
    {
        json_t *text = json_object_get(src, "data:asText"),
               *b64 = json_object_get(src, "data:asBase64"), *blob = json_object_get(src, "blobId");
        int kinds = !!text + !!b64 + !!blob;
        char prop[64];
        snprintf(prop, sizeof prop, "data/%zu", i);
        if (!json_is_object(src) || kinds != 1)
            return jmap_seterror_props(json_pack("[s]", prop), "exactly one source per item");
        if (text) {
            /* jansson only holds valid UTF-8, so a string here is valid asText */
            if (!json_is_string(text) || json_object_size(src) != 1)
                return jmap_seterror_props(json_pack("[s]", prop), "bad data:asText");
            buf_append(b, json_string_value(text), json_string_length(text));
        } else if (b64) {
            size_t n = 0;
            unsigned char *dec =
                json_is_string(b64) && json_object_size(src) == 1
                    ? util_base64_decode(json_string_value(b64), json_string_length(b64), &n)
                    : NULL;
            if (!dec)
                return jmap_seterror_props(json_pack("[s]", prop), "bad data:asBase64");
            buf_append(b, dec, n);
            free(dec);
        } else {
            json_t *off = json_object_get(src, "offset"), *len = json_object_get(src, "length");
            if (!json_is_string(blob) || (off && !json_is_null(off) && !json_is_integer(off)) ||
                (len && !json_is_null(len) && !json_is_integer(len)) ||
                json_integer_value(off) < 0 || json_integer_value(len) < 0)
                return jmap_seterror_props(json_pack("[s]", prop), "bad blobId source");
            const char *id = jmap_resolve_id(r, json_string_value(blob));
            unsigned char *bytes = NULL;
            size_t n = 0;
            if (!id || store_blob_get(r->conn, account, id, &bytes, &n) != STORE_OK)
                return jmap_seterror_props(json_pack("[s]", prop), "blob not found");
            size_t o = (size_t)json_integer_value(off);
            size_t l =
                json_is_integer(len) ? (size_t)json_integer_value(len) : n - (o <= n ? o : n);
            if (o > n || l > n - o) { /* the range must be satisfiable */
                free(bytes);
                return jmap_seterror_props(json_pack("[s]", prop), "range outside the blob");
            }
            buf_append(b, bytes + o, l);
            free(bytes);
        }
        if ((int64_t)b->len > r->srv->cfg->max_size_blob_set)
            return jmap_seterror("tooLarge", "larger than maxSizeBlobSet");
    }
    return NULL;
}

static int blob_upload(struct jmap_req *r, json_t *args)
{
    const struct store_access *a = jmap_method_begin(r, args, upload_args, NULL, "accountId",
                                                     JMAP_BEGIN_WRITE | JMAP_BEGIN_NO_TXN);
    if (!a)
        return -1;
    json_t *create = json_object_get(args, "create");
    if ((int64_t)json_object_size(create) > r->srv->cfg->max_objects_in_set) {
        jmap_error(r, "requestTooLarge", "more than maxObjectsInSet objects");
        return -1;
    }
    if (jmap_txn_begin(r, true))
        return -1;
    json_t *created = json_object(), *not_created = json_object();
    const char *cid;
    json_t *spec;
    json_object_foreach(create, cid, spec)
    {
        struct buf b = {0};
        json_t *err = json_is_object(spec)
                          ? upload_sources(r, a->account_id, spec, &b)
                          : jmap_seterror_props(json_pack("[s]", "data"), "not an UploadObject");
        if (!err) {
            char id[BLOB_ID_SIZE];
            blob_id_for(b.data ? b.data : "", b.len, id);
            json_t *type = json_object_get(spec, "type");
            const char *t = json_is_string(type) ? json_string_value(type) : NULL;
            if (store_blob_put(r->conn, a->account_id, id, b.data ? b.data : "", b.len, t)) {
                err = jmap_seterror("serverFail", "could not store the blob");
            } else {
                json_object_set_new(created, cid,
                                    json_pack("{s:s, s:o, s:I}", "id", id, "type",
                                              t ? json_string(t) : json_null(), "size",
                                              (json_int_t)b.len));
                json_object_set_new(r->created_ids, cid, json_string(id));
            }
        }
        if (err)
            json_object_set_new(not_created, cid, err);
        buf_free(&b);
    }
    if (store_commit(r->conn) != STORE_OK) {
        store_rollback(r->conn);
        json_decref(created);
        json_decref(not_created);
        jmap_error(r, "serverFail", "commit failed");
        return -1;
    }
    json_t *resp = json_pack("{s:s}", "accountId", a->account_id);
    json_object_set_new(resp, "created", jmap_or_null(created));
    json_object_set_new(resp, "notCreated", jmap_or_null(not_created));
    jmap_respond(r, "Blob/upload", resp);
    return 0;
}

/* ---- Blob/get ----------------------------------------------------------------------------- */

static const struct argspec get_args[] = {
    {"accountId", ARG_ID, ARG_REQUIRED},
    {"ids", ARG_ID_ARRAY, ARG_REQUIRED | ARG_REF},
    {"properties", ARG_STRING_ARRAY, ARG_NULLABLE},
    {"offset", ARG_UINT, ARG_NULLABLE},
    {"length", ARG_UINT, ARG_NULLABLE},
    {NULL, 0, 0},
};

static bool valid_utf8(const unsigned char *s, size_t n)
{
    json_t *probe = json_stringn((const char *)s, n); /* jansson validates UTF-8 */
    bool ok = probe != NULL;
    json_decref(probe);
    return ok;
}

static json_t *blob_view(json_t *props, const char *id, const unsigned char *data, size_t size,
                         json_t *offv, json_t *lenv)
{
    size_t off = json_is_integer(offv) ? (size_t)json_integer_value(offv) : 0;
    bool truncated = false;
    size_t start = off <= size ? off : size, n = size - start;
    if (off > size)
        truncated = true;
    if (json_is_integer(lenv)) {
        size_t want = (size_t)json_integer_value(lenv);
        if (want > n)
            truncated = true; /* §4.2: the range could not be fully satisfied */
        else
            n = want;
    }
    const unsigned char *sel = data + start;
    json_t *out = json_pack("{s:s}", "id", id);
    bool problem = false;
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p)
    {
        const char *name = json_string_value(p);
        if (strcmp(name, "size") == 0) {
            json_object_set_new(out, "size", json_integer((json_int_t)size));
        } else if (strcmp(name, "data:asText") == 0 || strcmp(name, "data") == 0) {
            bool text = valid_utf8(sel, n);
            problem |= !text;
            if (text) {
                json_object_set_new(out, "data:asText", json_stringn((const char *)sel, n));
            } else if (strcmp(name, "data:asText") == 0) {
                json_object_set_new(out, "data:asText", json_null());
            } else { /* "data" falls back to base64 (§4.2) */
                char *b64 = util_base64_encode(sel, n);
                json_object_set_new(out, "data:asBase64", json_string(b64));
                free(b64);
            }
        } else if (strcmp(name, "data:asBase64") == 0) {
            char *b64 = util_base64_encode(sel, n);
            json_object_set_new(out, "data:asBase64", json_string(b64));
            free(b64);
        } else if (strcmp(name, "digest:sha") == 0 || strcmp(name, "digest:sha-256") == 0) {
            unsigned char md[32];
            size_t mdlen = name[10] ? 32 : 20;
            if (mdlen == 32)
                util_sha256(sel, n, md);
            else
                util_sha1(sel, n, md);
            char *b64 = util_base64_encode(md, mdlen);
            json_object_set_new(out, name, json_string(b64));
            free(b64);
        }
    }
    if (problem)
        json_object_set_new(out, "isEncodingProblem", json_true());
    if (truncated)
        json_object_set_new(out, "isTruncated", json_true());
    return out;
}

static int blob_get(struct jmap_req *r, json_t *args)
{
    const struct store_access *a =
        jmap_method_begin(r, args, get_args, NULL, "accountId", JMAP_BEGIN_NO_TXN);
    if (!a)
        return -1;
    json_t *ids = json_object_get(args, "ids"), *props = json_object_get(args, "properties");
    if ((int64_t)json_array_size(ids) > r->srv->cfg->max_objects_in_get) {
        jmap_error(r, "requestTooLarge", "more than maxObjectsInGet ids");
        return -1;
    }
    static const char *const known[] = {"data:asText", "data:asBase64", "data",
                                        "size",        "digest:sha",    "digest:sha-256"};
    size_t i;
    json_t *v;
    json_array_foreach(props, i, v)
    {
        bool ok = false;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            ok |= strcmp(json_string_value(v), known[k]) == 0;
        if (!ok) {
            jmap_error(r, "invalidArguments", "unknown property '%s'", json_string_value(v));
            return -1;
        }
    }
    json_t *use = json_is_array(props) ? json_incref(props) : json_pack("[s,s]", "data", "size");
    json_t *list = json_array(), *not_found = json_array();
    json_array_foreach(ids, i, v)
    {
        const char *id = jmap_resolve_id(r, json_string_value(v));
        unsigned char *data = NULL;
        size_t len = 0;
        if (!id || store_blob_get(r->conn, a->account_id, id, &data, &len) != STORE_OK) {
            json_array_append(not_found, v);
            continue;
        }
        json_array_append_new(list, blob_view(use, id, data, len, json_object_get(args, "offset"),
                                              json_object_get(args, "length")));
        free(data);
    }
    json_decref(use);
    jmap_respond(r, "Blob/get",
                 json_pack("{s:s, s:o, s:o}", "accountId", a->account_id, "list", list, "notFound",
                           not_found));
    return 0;
}

/* ---- Blob/lookup --------------------------------------------------------------------------- */

static const struct argspec lookup_args[] = {
    {"accountId", ARG_ID, ARG_REQUIRED},
    {"typeNames", ARG_STRING_ARRAY, ARG_REQUIRED},
    {"ids", ARG_ID_ARRAY, ARG_REQUIRED | ARG_REF},
    {NULL, 0, 0},
};

struct refs {
    json_t *matched;
};

static int refs_cb(const char *type, const char *id, void *ud)
{
    json_t *list = json_object_get(ud, type);
    if (list)
        json_array_append_new(list, json_string(id));
    return 0;
}

static int blob_lookup(struct jmap_req *r, json_t *args)
{
    const struct store_access *a =
        jmap_method_begin(r, args, lookup_args, NULL, "accountId", JMAP_BEGIN_NO_TXN);
    if (!a)
        return -1;
    json_t *names = json_object_get(args, "typeNames");
    size_t i, j;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        bool ok = false;
        const struct jtype *t = jmap_type_find(json_string_value(v));
        if (t && t->blob_ids) {
            json_t *u;
            json_array_foreach(r->using, j, u)
            {
                ok |= strcmp(json_string_value(u), t->capability) == 0;
            }
        }
        if (!ok) {
            jmap_error(r, "unknownDataType", "cannot look up '%s'", json_string_value(v));
            return -1;
        }
    }
    json_t *list = json_array(), *not_found = json_array();
    json_array_foreach(json_object_get(args, "ids"), i, v)
    {
        const char *id = jmap_resolve_id(r, json_string_value(v));
        if (!id || !blob_id_valid(id)) {
            json_array_append(not_found, v);
            continue;
        }
        /* §4.3: a blob that is not visible still gets empty lists */
        json_t *matched = json_object();
        json_t *n;
        json_array_foreach(names, j, n)
        {
            json_object_set_new(matched, json_string_value(n), json_array());
        }
        store_blob_refs(r->conn, a->account_id, id, refs_cb, matched);
        json_array_append_new(list, json_pack("{s:s, s:o}", "id", id, "matchedIds", matched));
    }
    jmap_respond(r, "Blob/lookup",
                 json_pack("{s:s, s:o, s:o}", "accountId", a->account_id, "list", list, "notFound",
                           not_found));
    return 0;
}

static const struct jcapability blob_capability = {.uri = JMAP_BLOB,
                                                  .account_value = blob_account_capability};

void blob_register(void)
{
    jmap_register_capability(&blob_capability);
    jmap_register_method("Blob/copy", JMAP_CORE, blob_copy);
    jmap_register_method("Blob/upload", JMAP_BLOB, blob_upload);
    jmap_register_method("Blob/get", JMAP_BLOB, blob_get);
    jmap_register_method("Blob/lookup", JMAP_BLOB, blob_lookup);
}
