/*
 * contacts.c — JMAP Contacts (RFC 9610) as a whole: the
 * urn:ietf:params:jmap:contacts capability (§1.4.1), registration of AddressBook
 * (address_book.c) and ContactCard (contact_card.c), the default address book of
 * every new account, and .vcf import and address book export over the vCard ⇄
 * JSContact conversion in formats/.
 *
 * Import puts every card of the file in the account's default address book. A
 * card whose uid is already in the account replaces that card's contents (it keeps
 * its id and address books), so importing an edited export again updates in place
 * instead of failing on RFC 9610 §3's one-card-per-uid rule. A file with any card
 * the server would refuse over JMAP imports nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/jscontact/jscontact.h"
#include "formats/vcard/vcard.h"
#include "types/contacts_internal.h"
#include "types/types.h"
#include "util/util.h"

/* ---- the capability (§1.4.1) ------------------------------------------------------- */

static json_t *contacts_account_capability(const struct config *cfg, const struct store_access *a)
{
    return json_pack("{s:i, s:b}", "maxAddressBooksPerCard", CONTACTS_MAX_BOOKS_PER_CARD,
                     "mayCreateAddressBook", a->may_write);
}

/* The session value is an empty object. */
static const struct jcapability contacts_capability = {
    .uri = JMAP_CONTACTS, .account_value = contacts_account_capability};

/* ---- the default address book ------------------------------------------------------- */

static json_t *default_book_json(void)
{
    return json_pack("{s:s, s:b}", "name", "Contacts", "isDefault", 1);
}

static int contacts_provision_account(struct store_conn *c, const struct jmap_owner *owner)
{
    char id[16];
    json_t *book = default_book_json();
    int rc = types_create_direct(c, &address_book_type, owner->account, book, id);
    json_decref(book);
    return rc;
}

struct pick_book {
    char id[64];
    bool is_default;
};

static int pick_book_cb(const char *id, json_t *obj, void *ud)
{
    struct pick_book *p = ud;
    bool def = json_is_true(json_object_get(obj, "isDefault"));
    if (!p->id[0] || (def && !p->is_default)) {
        snprintf(p->id, sizeof p->id, "%s", id);
        p->is_default = def;
    }
    return 0;
}

/* The default address book's id (or any, or a newly created one) into id[64]. */
static int default_book(struct store_conn *c, const char *account, char id[64])
{
    struct pick_book p = {{0}, false};
    if (store_object_foreach(c, account, address_book_type.name, pick_book_cb, &p))
        return STORE_ERR;
    if (p.id[0]) {
        memcpy(id, p.id, sizeof p.id);
        return STORE_OK;
    }
    char nid[16];
    json_t *book = default_book_json();
    int rc = types_create_direct(c, &address_book_type, account, book, nid);
    json_decref(book);
    snprintf(id, 64, "%s", nid);
    return rc;
}

/* ---- import ------------------------------------------------------------------------- */

static char *invalid_message(size_t index, json_t *err, json_t *invalid)
{
    char *props = json_dumps(invalid, JSON_COMPACT), *msg = NULL;
    const char *type = json_string_value(json_object_get(err, "type"));
    msg = xasprintf("card %zu: %s %s", index + 1, type ? type : "invalidProperties",
                 type ? json_string_value(json_object_get(err, "description")) : props);
    free(props);
    return msg;
}

static int import_one(struct store_conn *c, const char *account, const char *book, size_t index,
                      json_t *card, char **err)
{
    /* RFC 9982 §3: a vCard without UID converts to a Card without uid; the store needs
     * one (RFC 9610 §3), and a stable one makes importing the file again an update */
    if (!json_object_get(card, "uid")) {
        char *derived = jscontact_uid_derive(card);
        json_object_set_new(card, "uid", json_string(derived));
        free(derived);
    }
    const char *uid = json_string_value(json_object_get(card, "uid"));
    char *existing = uid ? contact_index_find_uid(c, account, uid, NULL) : NULL;
    json_t *old = existing ? store_object_get(c, account, contact_card_type.name, existing) : NULL;
    if (old) {
        json_object_set(card, "addressBookIds", json_object_get(old, "addressBookIds"));
        json_object_set(card, "id", json_object_get(old, "id"));
        if (!json_object_get(card, "created") && json_object_get(old, "created"))
            json_object_set(card, "created", json_object_get(old, "created"));
    } else {
        json_object_set_new(card, "addressBookIds", json_pack("{s:b}", book, 1));
    }
    jtype_fill_defaults(&contact_card_type, card);
    json_t *invalid = json_array();
    /* the uid was looked up above (issue 21: a second look-up in the check was 1.7% of
     * an import); the store's unique key holds anyway */
    json_t *e = contact_card_prepare(NULL, c, account, card, old, existing, false, true, invalid);
    int rc = 0;
    if (e || json_array_size(invalid)) {
        *err = invalid_message(index, e, invalid);
        rc = -1;
    } else if (!old || !json_equal(old, card)) {
        char id[16];
        if (existing)
            snprintf(id, sizeof id, "%s", existing);
        else
            util_random_id_clustered(id, 12, contact_card_type.id_prefix);
        json_object_set_new(card, "id", json_string(id));
        if (jmap_object_write(c, NULL, &contact_card_type, account, id, card, !old)) {
            *err = xstrdup("could not store the card");
            rc = -1;
        }
    }
    json_decref(e);
    json_decref(invalid);
    json_decref(old);
    free(existing);
    return rc;
}

/* Whether the line at p (up to end) is "BEGIN:VCARD" (begin) or "END:VCARD", any case,
 * trailing white space allowed (as vcard_parse reads names). */
static bool is_line(const char *p, const char *end, bool begin)
{
    const char *word = begin ? "BEGIN:VCARD" : "END:VCARD";
    size_t n = strlen(word);
    if ((size_t)(end - p) < n || strncasecmp(p, word, n))
        return false;
    for (p += n; p < end; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r')
            return false;
    return true;
}

/* Where the piece of the file that starts at from ends: at the next "BEGIN:VCARD" line
 * outside any vCard once the piece holds one (vCards nested in a property, as vCard
 * 2.1's AGENT, counted), else at len; *lines gets the piece's line breaks. */
static size_t piece_end(const char *data, size_t len, size_t from, size_t *lines)
{
    int depth = 0;
    bool seen = false;
    *lines = 0;
    for (size_t pos = from; pos < len;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        const char *end = nl ? nl : data + len;
        if (is_line(data + pos, end, true)) {
            if (depth == 0 && seen)
                return pos;
            depth++;
            seen = true;
        } else if (depth > 0 && is_line(data + pos, end, false)) {
            depth--;
        }
        if (!nl)
            break;
        (*lines)++;
        pos = (size_t)(nl - data) + 1;
    }
    return len;
}

/* A parser's message about a piece, its "line N" numbers made the file's (the piece
 * starts after `before` lines). */
static char *file_lines(char *msg, size_t before)
{
    if (!msg || !before)
        return msg;
    struct buf b = {0};
    const char *p = msg;
    for (const char *q; (q = strstr(p, "line ")); p = q) {
        q += 5;
        buf_append(&b, p, (size_t)(q - p));
        char *digits_end;
        unsigned long long n = strtoull(q, &digits_end, 10);
        if (digits_end > q && *q >= '0' && *q <= '9') {
            buf_printf(&b, "%llu", n + before);
            q = digits_end;
        }
    }
    buf_puts(&b, p);
    free(msg);
    return buf_take(&b);
}

/* Issue 21: the file is parsed one vCard at a time, each made JSContact and stored
 * before the next is read: the whole file's parsed vCards (5 KB each) and cards (10 KB)
 * held 1.4 GB at 100,000 cards. All or nothing still: an error anywhere leaves the
 * import's transaction to be rolled back. */
static int import_vcf(struct store_conn *c, const char *account, const char *data, size_t len,
                      struct jmap_import_report *report, char **err)
{
    (void)report; /* all or nothing: the count is the summary */
    char book[64];
    if (default_book(c, account, book) != STORE_OK) {
        *err = xstrdup("no address book");
        return -1;
    }
    /* issue 21: the account's search rows made complete first (as a server's start
     * makes them; at once when it has no card or its mark), so that the mark holds
     * after the import, each card of which puts its row: the next start reads no card */
    struct jmap_owner owner = {.account = account};
    if (contacts_backfill(c, &owner) != STORE_OK) {
        *err = xstrdup("could not index the address book's cards for search");
        return -1;
    }
    int n = 0;
    size_t from = 0, before = 0;
    do {
        size_t lines, end = piece_end(data, len, from, &lines);
        vcard *cards = NULL;
        size_t ncards = 0;
        char *msg = NULL;
        if (vcard_parse(data + from, end - from, &cards, &ncards, &msg) < 0) {
            msg = file_lines(msg, before);
            *err = msg ? msg : xstrdup("not a vCard file");
            return -1;
        }
        for (size_t i = 0; n >= 0 && i < ncards; i++) {
            json_t *card = jscontact_from_vcard(&cards[i]);
            n = import_one(c, account, book, (size_t)n, card, err) ? -1 : n + 1;
            json_decref(card);
        }
        vcard_list_free(cards, ncards);
        from = end;
        before += lines;
    } while (n >= 0 && from < len);
    return n;
}

/* ---- export ------------------------------------------------------------------------- */

struct export_ctx {
    struct store_conn *c;
    const char *account, *book;
    int flags;
    jmap_write_fn write;
    void *ud;
    int rc;
};

static int export_cb(const char *id, json_t *card, void *ud)
{
    struct export_ctx *x = ud;
    if (!json_is_true(json_object_get(json_object_get(card, "addressBookIds"), x->book)))
        return 0;
    json_t *plain = contact_card_to_jscontact(x->c, x->account, card);
    char *err = NULL;
    char *text = jscontact_to_vcard_text(plain, x->flags, &err);
    json_decref(plain);
    if (!text) {
        log_warn("export: card %s cannot be written as vCard: %s", id, err ? err : "?");
        free(err);
        return 0;
    }
    int rc = x->write(x->ud, text, strlen(text));
    free(text);
    if (rc) {
        x->rc = STORE_ERR;
        return 1;
    }
    return 0;
}

static int export_book(struct store_conn *c, const char *account, const char *id,
                       const char *args, jmap_write_fn write, void *ud, const char **content_type)
{
    json_t *book = store_object_get(c, account, address_book_type.name, id);
    if (!book)
        return STORE_NOTFOUND;
    json_decref(book);
    *content_type = "text/vcard; charset=utf-8";
    struct export_ctx x = {c, account, id, args && strcmp(args, "vcard3") == 0 ? JSCONTACT_VCARD3 : 0,
                           write, ud, STORE_OK};
    if (store_object_foreach(c, account, contact_card_type.name, export_cb, &x) != STORE_OK)
        return STORE_ERR;
    return x.rc;
}

/* ---- the module ---------------------------------------------------------------------- */

/* RFC 8620 §5.5 ContactCard/query: an unfiltered sorted one takes its page from the
 * index, an unsorted one of text conditions from the store's search (issue 21), every
 * other the engine's /query. */
static int card_query(struct jmap_req *r, json_t *args)
{
    int rc = contact_query_page(r, args);
    return rc == 1 ? jmap_std_query(r, &contact_card_type, args) : rc;
}

static void contacts_register(void)
{
    jmap_register_method("ContactCard/query", JMAP_CONTACTS, card_query);
}

static const struct jcapability *const contacts_capabilities[] = {&contacts_capability, NULL};
static const struct jtype *const contacts_types[] = {&address_book_type, &contact_card_type, NULL};
static const struct jimporter contacts_importers[] = {{".vcf", import_vcf}, {NULL, NULL}};
static const struct jexporter contacts_exporters[] = {{"addressbook", export_book}, {NULL, NULL}};

const struct jmodule contacts_module = {
    .name = "contacts",
    .capabilities = contacts_capabilities,
    .types = contacts_types,
    .register_methods = contacts_register,
    .provision = contacts_provision_account,
    .importers = contacts_importers,
    .exporters = contacts_exporters,
    .backfill = contacts_backfill, /* issue 21: search rows for older databases' cards */
};
