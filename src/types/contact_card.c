/*
 * contact_card.c — the ContactCard type (RFC 9610 §3): a JSContact Card
 * (RFC 9553) plus id and addressBookIds, stored as JSON. The /set hooks check
 * addressBookIds, keep uid unique per account (generating one when missing), stamp
 * created/updated, turn media data: URIs into blobs (and blobIds back into data:
 * URIs for vCard export), and validate the Card with formats/jscontact, reporting
 * invalid property paths. Filtering, sorting and the query index live in
 * contact_index.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/jscontact/jscontact.h"
#include "jmap/blob.h"
#include "jmap/engine.h"
#include "types/contacts_internal.h"
#include "types/share.h"
#include "types/subscription.h"
#include "types/types.h"
#include "util/util.h"

/* ---- the descriptor's data ---------------------------------------------------------- */

/* Only the properties the server treats specially are listed; every other Card
 * property (RFC 9553 §2, vendor-specific ones included) is judged by the JSContact
 * validator (open_props). */
static const struct jprop card_props[] = {
    {"id", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"addressBookIds", 0, NULL},
    {"@type", 0, "\"Card\""},
    {"version", 0, "\"2.0\""}, /* RFC 9982 §2: new data is JSContact 2.0 */
    {"uid", 0, NULL},
    {"created", 0, NULL},
    {"updated", 0, NULL},
    {NULL, 0, NULL},
};

/* ---- helpers -------------------------------------------------------------------------- */

/* Adds the path a[/b[/c]] to invalid, saying why (s may be NULL: an import). */
static void add_path(struct jset *s, json_t *invalid, const char *why, const char *a,
                     const char *b, const char *c)
{
    char *path = xasprintf("%s%s%s%s%s", a, b ? "/" : "", b ? b : "", c ? "/" : "", c ? c : "");
    jset_invalid(s, invalid, path, "%s", why);
    free(path);
}

/* RFC 9553 §2.1.9 recommends a "urn:uuid:" URI with a random (version 4) UUID. */
static json_t *new_uid(void)
{
    unsigned char u[16];
    util_random_bytes(u, sizeof u);
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    char s[64];
    snprintf(s, sizeof s,
             "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
    return json_string(s);
}

static json_t *now_utc(void)
{
    char s[21];
    util_utc_format(util_now(), s);
    return json_string(s);
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* RFC 2397: data:[<mediatype>][;base64],<data>. Returns the decoded octets
 * (malloc'd) and the media type (malloc'd, NULL if none given), or NULL. */
static unsigned char *data_uri_decode(const char *uri, size_t *len, char **type)
{
    const char *p = uri + 5, *comma = strchr(p, ',');
    *type = NULL;
    if (!comma)
        return NULL;
    size_t hlen = (size_t)(comma - p);
    bool b64 = hlen >= 7 && strncasecmp(comma - 7, ";base64", 7) == 0;
    size_t tlen = b64 ? hlen - 7 : hlen;
    const char *semi = memchr(p, ';', tlen);
    size_t mlen = semi ? (size_t)(semi - p) : tlen;
    const char *data = comma + 1;
    unsigned char *out;
    if (b64) {
        out = util_base64_decode(data, strlen(data), len);
    } else {
        out = xmalloc(strlen(data) + 1);
        size_t n = 0;
        for (const char *q = data; *q; q++) {
            int h, l;
            if (*q == '%' && (h = hexval((unsigned char)q[1])) >= 0 &&
                (l = hexval((unsigned char)q[2])) >= 0) {
                out[n++] = (unsigned char)(h * 16 + l);
                q += 2;
            } else {
                out[n++] = (unsigned char)*q;
            }
        }
        *len = n;
    }
    if (out && mlen)
        *type = xstrndup(p, mlen);
    return out;
}

/* The image type of data by its signature, or NULL if it is not a recognised
 * image (RFC 9610 §3.5: a photo MUST be one). */
static const char *image_type(const unsigned char *d, size_t n)
{
    if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (n >= 3 && memcmp(d, "\xff\xd8\xff", 3) == 0)
        return "image/jpeg";
    if (n >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0))
        return "image/gif";
    if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
        return "image/webp";
    if (n >= 2 && memcmp(d, "BM", 2) == 0)
        return "image/bmp";
    if (n >= 4 && (memcmp(d, "II*\0", 4) == 0 || memcmp(d, "MM\0*", 4) == 0))
        return "image/tiff";
    if (n >= 12 && memcmp(d + 4, "ftyp", 4) == 0) {
        if (memcmp(d + 8, "avif", 4) == 0)
            return "image/avif";
        if (memcmp(d + 8, "heic", 4) == 0 || memcmp(d + 8, "heix", 4) == 0 ||
            memcmp(d + 8, "mif1", 4) == 0)
            return "image/heic";
    }
    if (n >= 4 && memcmp(d, "\0\0\1\0", 4) == 0)
        return "image/x-icon";
    /* SVG: XML text whose first element is <svg */
    size_t i = 0;
    while (i < n && isspace(d[i]))
        i++;
    if (i + 4 < n && (memcmp(d + i, "<svg", 4) == 0 || memcmp(d + i, "<?xml", 5) == 0)) {
        size_t lim = n < i + 1024 ? n : i + 1024;
        for (size_t k = i; k + 4 <= lim; k++)
            if (memcmp(d + k, "<svg", 4) == 0)
                return "image/svg+xml";
    }
    return NULL;
}

/* ---- media: data: URIs to blobs (RFC 9610 §3) ------------------------------------------------ */

/* Media (RFC 9610 §3): checks each data: URI and blobId (with apply false), or
 * stores the data: URIs as blobs and puts blobIds and mediaTypes in their place
 * (with apply true, once everything else about the card is known to be valid, so
 * that a refused card leaves no blob behind). */
static void check_media(struct jset *s, struct store_conn *c, const char *account, json_t *card,
                        json_t *old, json_t *invalid, bool apply)
{
    const char *mid;
    json_t *m;
    json_object_foreach(json_object_get(card, "media"), mid, m)
    {
        if (!json_is_object(m))
            continue; /* the JSContact validator reports it */
        const char *uri = json_string_value(json_object_get(m, "uri"));
        json_t *blob = json_object_get(m, "blobId");
        json_t *old_m = json_object_get(json_object_get(old, "media"), mid);
        const char *kind = json_string_value(json_object_get(m, "kind"));
        bool photo = kind && strcmp(kind, "photo") == 0;
        unsigned char *data = NULL;
        size_t len = 0;
        char *type = NULL;
        const char *bad = NULL;
        if (uri && strncasecmp(uri, "data:", 5) == 0) {
            data = data_uri_decode(uri, &len, &type);
            if (!data) {
                bad = "uri";
            } else if (apply) {
                char bid[BLOB_ID_SIZE];
                blob_id_for(data, len, bid);
                const char *mt = json_string_value(json_object_get(m, "mediaType"));
                if (store_blob_put(c, account, bid, data, len,
                                   mt ? mt : type ? type : "application/octet-stream"))
                    bad = "uri";
                json_object_set_new(m, "blobId", json_string(bid));
                json_object_del(m, "uri");
            }
        } else if (uri) {
            if (apply)
                json_object_del(m, "blobId"); /* an explicit URI replaces the blob */
        } else if (blob) {
            const char *bid = json_string_value(blob);
            bool same = json_equal(blob, json_object_get(old_m, "blobId"));
            if (!bid || (!same && store_blob_get(c, account, bid, &data, &len) != STORE_OK))
                bad = "blobId";
        }
        /* §3.5: a photo MUST be a recognised image type */
        if (!bad && data && photo && !image_type(data, len))
            bad = uri ? "uri" : "blobId";
        /* §3: with a blobId, mediaType MUST be set */
        if (apply && !bad && json_object_get(m, "blobId") &&
            !json_is_string(json_object_get(m, "mediaType"))) {
            const char *it = data ? image_type(data, len) : NULL;
            json_t *prev = json_object_get(old_m, "mediaType");
            json_object_set_new(m, "mediaType",
                                json_string(type ? type
                                            : it ? it
                                            : json_is_string(prev) ? json_string_value(prev)
                                                                   : "application/octet-stream"));
        }
        if (bad)
            add_path(s, invalid,
                     "a blob or URI the server can read, an image for a photo (RFC 9610 §3)",
                     "media", mid, bad);
        free(data);
        free(type);
    }
}

/* The card as the JSContact validator should see it: no JMAP properties, and a
 * placeholder uri where a blobId stands in for one. */
static json_t *validation_view(json_t *card)
{
    /* only media is changed below: the rest is shared with the card */
    json_t *v = json_copy(card), *media = json_object_get(card, "media");
    if (media)
        json_object_set_new(v, "media", json_deep_copy(media));
    json_object_del(v, "id");
    json_object_del(v, "addressBookIds");
    const char *mid;
    json_t *m;
    json_object_foreach(json_object_get(v, "media"), mid, m)
    {
        if (json_is_object(m) && json_object_get(m, "blobId") && !json_object_get(m, "uri")) {
            json_object_del(m, "blobId");
            json_object_set_new(m, "uri", json_string("data:,"));
        }
    }
    return v;
}

/* ---- /set ------------------------------------------------------------------------------------ */

static void check_books(struct jset *s, struct store_conn *c, const char *account, json_t *card,
                        json_t *invalid)
{
    json_t *books = json_object_get(card, "addressBookIds");
    /* §3: at least one AddressBook at all times; each value MUST be true */
    if (!json_is_object(books) || json_object_size(books) == 0 ||
        json_object_size(books) > CONTACTS_MAX_BOOKS_PER_CARD) {
        jset_invalid(s, invalid, "addressBookIds", "at least one and at most %d address books (§3)",
                     CONTACTS_MAX_BOOKS_PER_CARD);
        return;
    }
    const char *bid;
    json_t *v;
    json_object_foreach(books, bid, v)
    {
        if (!json_is_true(v) || !util_is_jmap_id(bid) ||
            !store_object_exists(c, account, address_book_type.name, bid))
            add_path(s, invalid, "not an address book of the account, or not true", "addressBookIds",
                     bid, NULL);
    }
}

json_t *contact_card_prepare(struct jset *s, struct store_conn *c, const char *account,
                             json_t *card, json_t *old, const char *self_id, bool copy,
                             bool uid_found, json_t *invalid)
{
    check_books(s, c, account, card, invalid);
    json_t *uid = json_object_get(card, "uid");
    if (!uid) /* RFC 9610 §3 relies on uid (groups, uniqueness): always have one */
        json_object_set_new(card, "uid", uid = new_uid());
    else if (!json_is_string(uid) || json_string_length(uid) == 0)
        jset_invalid(s, invalid, "uid", "must be a non-empty String");
    /* RFC 9553 §2.1.3, §2.1.10: the server keeps created and updated unless the
     * client sets them */
    if (!old && !json_object_get(card, "created"))
        json_object_set_new(card, "created", now_utc());
    if (!old) {
        if (!json_object_get(card, "updated"))
            json_object_set_new(card, "updated", now_utc());
    } else if (!json_object_get(card, "updated") ||
               json_equal(json_object_get(card, "updated"), json_object_get(old, "updated"))) {
        json_t *cmp = json_copy(card); /* only its top-level updated differs */
        json_t *ou = json_object_get(old, "updated");
        if (ou)
            json_object_set(cmp, "updated", ou);
        if (!json_equal(cmp, old) || !json_object_get(card, "updated"))
            json_object_set_new(card, "updated", now_utc());
        json_decref(cmp);
    }
    check_media(s, c, account, card, old, invalid, false);
    json_t *view = validation_view(card), *paths = NULL, *msgs = NULL;
    if (jscontact_card_validate(view, &paths, &msgs)) {
        size_t i;
        json_t *p;
        json_array_foreach(paths, i, p)
        {
            /* the validator names the Card itself with an empty path; its messages are
             * "path: why" (issue 12 §1.8) */
            const char *path = json_string_value(p);
            const char *m = json_string_value(json_array_get(msgs, i));
            size_t pl = path && *path ? strlen(path) : strlen("(card)");
            const char *why = m && strlen(m) > pl + 2 ? m + pl + 2 : "not valid JSContact";
            jset_invalid(s, invalid, path && *path ? path : "@type", "%s (RFC 9553)", why);
        }
    }
    json_decref(paths);
    json_decref(msgs);
    json_decref(view);
    if (json_array_size(invalid) || !json_is_string(uid))
        return NULL;
    /* §3: there MUST NOT be more than one ContactCard with the same uid. RFC 9610 names
     * no error: /set reports the uid as an invalid property (as CalendarEvent/set does),
     * /copy answers alreadyExists with the existing id (RFC 8620 §5.4). */
    char *existing =
        uid_found ? NULL : contact_index_find_uid(c, account, json_string_value(uid), self_id);
    if (existing && copy) {
        json_t *err = jmap_seterror("alreadyExists", "a card with uid %s exists",
                                    json_string_value(uid));
        json_object_set_new(err, "existingId", json_string(existing));
        free(existing);
        return err;
    }
    if (existing) {
        jset_invalid(s, invalid, "uid", "another card of the account has this uid (§3)");
        free(existing);
        return NULL;
    }
    check_media(s, c, account, card, old, invalid, true);
    return NULL;
}

/* /copy: blobs the card references in the source account become visible in the
 * target account, so that the copy's media resolve there too. */
static void copy_blobs(struct jset *s, json_t *card)
{
    const char *from = json_string_value(json_object_get(jset_args(s), "fromAccountId"));
    struct store_conn *c = jset_conn(s);
    if (!from)
        return;
    const char *mid;
    json_t *m;
    json_object_foreach(json_object_get(card, "media"), mid, m)
    {
        const char *bid = json_string_value(json_object_get(m, "blobId"));
        unsigned char *data = NULL;
        size_t len = 0;
        if (!bid || store_blob_size(c, jset_account(s), bid) >= 0 ||
            store_blob_get(c, from, bid, &data, &len) != STORE_OK)
            continue;
        const char *mt = json_string_value(json_object_get(m, "mediaType"));
        store_blob_put(c, jset_account(s), bid, data, len, mt ? mt : "application/octet-stream");
        free(data);
    }
}

/* RFC 9610 §2 AddressBookRights of a sharee (share.c): only cards of address books
 * they may read exist for them. */
static json_t *card_view(struct jmap_req *r, const struct store_access *a, json_t *obj,
                         json_t *props, json_t *args)
{
    (void)args;
    if (!share_member_visible(r, a, SHARE_ADDRESS_BOOK, obj))
        return NULL;
    json_t *out = json_deep_copy(obj);
    share_member_view(r, a, SHARE_ADDRESS_BOOK, out);
    return engine_select_props(out, props);
}

static json_t *card_destroy(struct jset *s, const char *id, json_t *old)
{
    (void)id;
    return share_member_check(s, SHARE_ADDRESS_BOOK, NULL, old);
}

static json_t *card_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    /* addressBookIds keys may name AddressBooks created in this request ("#cid") */
    json_t *books = json_object_get(obj, "addressBookIds");
    if (json_is_object(books)) {
        json_t *resolved = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(books, k, v)
        {
            const char *id = k[0] == '#' ? jset_resolve(s, k) : k;
            json_object_set(resolved, id ? id : k, v);
        }
        json_object_set_new(obj, "addressBookIds", resolved);
    }
    json_t *err = share_member_check(s, SHARE_ADDRESS_BOOK, obj, old); /* mayWrite */
    if (err)
        return err;
    copy_blobs(s, obj);
    const char *self = old ? json_string_value(json_object_get(old, "id")) : NULL;
    bool copy = json_object_get(jset_args(s), "fromAccountId") != NULL;
    return contact_card_prepare(s, jset_conn(s), jset_account(s), obj, old, self, copy, false,
                                invalid);
}

/* RFC 9610 §3: no two cards of an account share a uid; the store keeps it so. */
static char *card_unique_key(json_t *card)
{
    const char *uid = json_string_value(json_object_get(card, "uid"));
    return uid ? xstrdup(uid) : NULL;
}

/* The blobs a card's media name (RFC 9404 Blob/lookup); the object write keeps
 * the references. */
static void card_blob_ids(json_t *card, json_t *ids)
{
    const char *mid;
    json_t *m;
    json_object_foreach(json_object_get(card, "media"), mid, m)
    {
        json_t *bid = json_object_get(m, "blobId");
        if (json_is_string(bid))
            json_array_append(ids, bid);
    }
}

json_t *contact_card_to_jscontact(struct store_conn *c, const char *account, json_t *card)
{
    json_t *out = json_deep_copy(card);
    json_object_del(out, "id");
    json_object_del(out, "addressBookIds");
    const char *mid;
    json_t *m;
    json_object_foreach(json_object_get(out, "media"), mid, m)
    {
        const char *bid = json_string_value(json_object_get(m, "blobId"));
        unsigned char *data = NULL;
        size_t len = 0;
        if (!bid || store_blob_get(c, account, bid, &data, &len) != STORE_OK)
            continue;
        char *b64 = util_base64_encode(data, len);
        const char *mt = json_string_value(json_object_get(m, "mediaType"));
        char *uri = xasprintf("data:%s;base64,%s", mt ? mt : "application/octet-stream", b64);
        json_object_set_new(m, "uri", json_string(uri));
        json_object_del(m, "blobId");
        free(uri);
        free(b64);
        free(data);
    }
    return out;
}

/* The query side of a card: the record of the address books it is exposed in, for a
 * sharee's /changes (RFC 9610 §2 with RFC 9670 §4: a card that left their books is
 * destroyed for them, one they never could see is nothing), then the store's search
 * rows and the birthdays calendar (contact_card_index, issue 21 and 17 §4). */
static int card_index(struct store_conn *c, const char *account, const char *id, json_t *obj)
{
    if (share_exposure_update(c, SHARE_ADDRESS_BOOK, account, id, obj))
        return -1;
    return contact_card_index(c, account, id, obj);
}

static void card_writes_expect(struct store_conn *c, const char *account, const char *const *ids,
                               size_t n)
{
    share_exposure_prefetch(c, SHARE_ADDRESS_BOOK, account, ids, n); /* card_index reads them */
}

const struct jtype contact_card_type = {
    .metadata = true, /* draft-ietf-jmap-metadata-02 (issue 18) */
    .name = "ContactCard",
    .capability = JMAP_CONTACTS,
    .props = card_props,
    /* /query: contacts.c (a sorted page from the index, else the engine's) */
    .methods = JM_GET | JM_SET | JM_CHANGES | JM_QUERYCHANGES | JM_COPY,
    .id_prefix = 'k',
    .open_props = true,
    .validate = card_validate,
    .destroy = card_destroy,
    .view = card_view,
    .visible = share_card_visible_id,
    .was_visible = share_card_was_visible,
    .may_write = share_card_may_write,
    .blob_ids = card_blob_ids,
    .unique_key = card_unique_key,
    .filter = contact_filter_hook,
    .compare = contact_compare_hook,
    .query_run = contact_query_run,
    .index = card_index,
    .writes_expect = card_writes_expect,
};
