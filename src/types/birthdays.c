/*
 * birthdays.c — the birthdays calendar (issue 17 §4): an optional calendar of a
 * user whose events are derived from the anniversaries (RFC 9553 §2.8.1: birth,
 * wedding, death) of the ContactCards of the same account, one all-day event
 * recurring yearly per anniversary. It is a Calendar created with the vendor
 * property BIRTHDAYS_PROP true (Calendar/set, or `jmapd subscribe --birthdays`),
 * at most one per account, read-only as a subscription is (subscription.c): only
 * per-user properties of its events change. Creating it fills it; ContactCard's
 * index hook (called for every card write: JMAP, CardDAV, imports) keeps it in
 * step within the card's own transaction, so clients see the events change in
 * CalendarEvent/changes. Two private object types (never registered) remember
 * which calendar it is (and the titles it uses) and which events each card produced.
 *
 * Titles: BIRTHDAY_TITLES_PROP on the calendar picks a built-in language ("en",
 * "de", "fr", "es", "it", "nl") and/or gives a template per kind in which "{name}"
 * stands for the card's name; changing it retitles every event. Why a vendor
 * property and not a role: calendars-27 §4 gives a Calendar no "role" (roles are
 * for participants), so a client would see an unknown member either way; a
 * property in our namespace (RFC 8620 §1.5 vendor extensions) says whose it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/calendar_event.h"
#include "types/contacts_internal.h"
#include "types/subscription.h"
#include "types/types.h"
#include "util/util.h"

/* "_" -> {"calendarId"}: the account's birthdays calendar (null: none now). */
static const struct jtype marker_type = {.name = "BirthdaysCalendar"};
/* card id -> {"uids": [...]}: the events a card produced. */
static const struct jtype link_type = {.name = "BirthdaysCardLink"};

#define MARKER_ID "_"
/* A year-less birthday (--MMDD) starts in a leap year, so 29 February exists. */
#define NO_YEAR 1604
#define VENDOR_KEY "jmapd.org:anniversary"


/* ---- titles ------------------------------------------------------------------------------- */

static const char *const kinds[3] = {"birth", "wedding", "death"};
static const struct {
    const char *lang, *title[3];
} builtin[] = {
    {"en", {"{name} (birthday)", "{name} (wedding anniversary)", "{name} (anniversary of death)"}},
    {"de", {"{name} (Geburtstag)", "{name} (Hochzeitstag)", "{name} (Todestag)"}},
    {"fr",
     {"{name} (anniversaire)", "{name} (anniversaire de mariage)",
      "{name} (anniversaire de décès)"}},
    {"es",
     {"{name} (cumpleaños)", "{name} (aniversario de boda)",
      "{name} (aniversario de fallecimiento)"}},
    {"it",
     {"{name} (compleanno)", "{name} (anniversario di matrimonio)",
      "{name} (anniversario della morte)"}},
    {"nl", {"{name} (verjaardag)", "{name} (trouwdag)", "{name} (sterfdag)"}},
};

/* The three templates (birth, wedding, death) the property v asks for, as a new
 * array, or NULL with *why: v null is English; a language tag's primary subtag
 * picks a built-in set (RFC 5646 §2.2.1); a template given replaces its kind's. */
static json_t *titles_resolve(json_t *v, const char **why)
{
    size_t lang = 0;
    if (v && !json_is_null(v) && !json_is_object(v)) {
        *why = "must be an object or null";
        return NULL;
    }
    const char *tag = json_string_value(json_object_get(v, "language"));
    if (json_object_get(v, "language") && !tag) {
        *why = "language must be a String";
        return NULL;
    }
    for (lang = 0; tag && lang < sizeof builtin / sizeof *builtin; lang++) {
        size_t n = strlen(builtin[lang].lang);
        if (strncasecmp(tag, builtin[lang].lang, n) == 0 && (tag[n] == 0 || tag[n] == '-'))
            break;
    }
    if (lang == sizeof builtin / sizeof *builtin) {
        *why = "language: no titles in that language (en, de, fr, es, it, nl); give templates";
        return NULL;
    }
    json_t *out = json_array();
    for (int k = 0; k < 3; k++) {
        json_t *t = json_object_get(v, kinds[k]);
        const char *s = json_string_value(t);
        if (t && (!s || !strstr(s, "{name}") || strlen(s) > 255)) {
            *why = "a template is a String of at most 255 octets with {name} in it";
            json_decref(out);
            return NULL;
        }
        json_array_append_new(out, json_string(s ? s : builtin[lang].title[k]));
    }
    const char *key;
    json_t *x;
    json_object_foreach(v, key, x)
    {
        if (strcmp(key, "language") && strcmp(key, kinds[0]) && strcmp(key, kinds[1]) &&
            strcmp(key, kinds[2])) {
            *why = "unknown member (language, birth, wedding, death)";
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* The template with every "{name}" replaced by who. */
static char *title_fill(const char *tmpl, const char *who)
{
    struct buf b = {0};
    for (const char *p = tmpl; *p;) {
        const char *at = strstr(p, "{name}");
        if (!at) {
            buf_puts(&b, p);
            break;
        }
        buf_append(&b, p, (size_t)(at - p));
        buf_puts(&b, who);
        p = at + 6;
    }
    buf_append(&b, "", 1);
    return buf_take(&b);
}

/* ---- the events of one card ------------------------------------------------------------ */

/* The name a card is shown by: name.full, else its name components, else a
 * nickname, else an organization (RFC 9553 §2.2). A new string. */
static char *card_display_name(json_t *card)
{
    json_t *name = json_object_get(card, "name");
    const char *full = json_string_value(json_object_get(name, "full"));
    if (full && *full)
        return xstrdup(full);
    struct buf b = {0};
    size_t i;
    json_t *comp;
    json_array_foreach(json_object_get(name, "components"), i, comp)
    {
        const char *v = json_string_value(json_object_get(comp, "value"));
        const char *kind = json_string_value(json_object_get(comp, "kind"));
        if (!v || !*v || (kind && strcmp(kind, "separator") == 0))
            continue;
        if (b.len)
            buf_puts(&b, " ");
        buf_puts(&b, v);
    }
    if (b.len)
        return buf_take(&b);
    buf_free(&b);
    static const char *const maps[] = {"nicknames", "organizations"};
    for (int m = 0; m < 2; m++) {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(card, maps[m]), k, v)
        {
            const char *s = json_string_value(json_object_get(v, "name"));
            if (s && *s)
                return xstrdup(s);
        }
    }
    return xstrdup("Unnamed contact");
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100) || y % 400 == 0;
}

/* The anniversary's Gregorian month and day (and year, 0 if unknown) from a
 * PartialDate or a Timestamp (RFC 9553 §1.4.4, §1.4.5); false if it has none. */
static bool anniversary_date(json_t *date, int *y, int *m, int *d)
{
    const char *utc = json_string_value(json_object_get(date, "utc"));
    *y = *m = *d = 0;
    if (utc) {
        if (sscanf(utc, "%4d-%2d-%2d", y, m, d) != 3)
            return false;
    } else {
        const char *scale = json_string_value(json_object_get(date, "calendarScale"));
        if (scale && strcmp(scale, "gregorian"))
            return false; /* another calendar scale: no Gregorian yearly date */
        *y = (int)json_integer_value(json_object_get(date, "year"));
        *m = (int)json_integer_value(json_object_get(date, "month"));
        *d = (int)json_integer_value(json_object_get(date, "day"));
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (*y < 0 || *y > 9999 || *m < 1 || *m > 12 || *d < 1 || *d > mdays[*m - 1])
        return false;
    return !(*y && *m == 2 && *d == 29 && !leap(*y));
}

/* The event of one anniversary of card id, or NULL for one that is not a birth,
 * wedding or death or has no day and month. titles: titles_resolve's. */
static json_t *anniversary_event(const char *card_id, const char *key, json_t *ann, const char *who,
                                 json_t *titles)
{
    const char *kind = json_string_value(json_object_get(ann, "kind"));
    int k = 0;
    while (k < 3 && (!kind || strcmp(kind, kinds[k])))
        k++;
    int y, m, d;
    if (k == 3 || !anniversary_date(json_object_get(ann, "date"), &y, &m, &d))
        return NULL;
    char start[32], *uid = xasprintf("%s-%s@birthdays.jmapd.org", card_id, key);
    const char *tmpl = json_string_value(json_array_get(titles, (size_t)k));
    char *title = title_fill(tmpl ? tmpl : builtin[0].title[k], who);
    snprintf(start, sizeof start, "%04d-%02d-%02dT00:00:00", y ? y : NO_YEAR, m, d);
    /* JSCalendar 2.0 recurrenceRule (RFC 8984 §4.3.3): yearly; 29 February falls on the last day of
     * February in the years without one */
    json_t *rule = json_pack("{s:s, s:s}", "@type", "RecurrenceRule", "frequency", "yearly");
    if (m == 2 && d == 29)
        json_object_set_new(rule, "byMonthDay", json_pack("[i]", -1));
    json_t *e =
        json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:o, s:s, s:s, s:b, s:{s:s, s:s, s:s, s:o}}",
                  "@type", "Event", "uid", uid, "title", title, "start", start, "showWithoutTime",
                  1, "duration", "P1D", "recurrenceRule", rule, "freeBusyStatus", "free", "privacy",
                  "public", "useDefaultAlerts", 1, VENDOR_KEY, "cardId", card_id, "anniversaryId",
                  key, "kind", kind, "year", y ? json_integer(y) : json_null());
    free(uid);
    free(title);
    return e;
}

/* uid -> event for every anniversary of the card (an empty object for NULL). */
static json_t *card_events(const char *card_id, json_t *card, json_t *titles)
{
    json_t *out = json_object();
    if (!card)
        return out;
    char *who = card_display_name(card);
    const char *key;
    json_t *ann;
    json_object_foreach(json_object_get(card, "anniversaries"), key, ann)
    {
        json_t *e = anniversary_event(card_id, key, ann, who, titles);
        if (e)
            json_object_set_new(out, json_string_value(json_object_get(e, "uid")), e);
    }
    free(who);
    return out;
}

/* ---- applying them ------------------------------------------------------------------------ */

struct find {
    struct store_conn *c;
    const char *account, *cal;
    json_t *found; /* the event of the calendar with the uid, or NULL */
};

static int find_cb(const char *id, void *ud)
{
    struct find *f = ud;
    json_t *o = store_object_get(f->c, f->account, calendar_event_type.name, id);
    if (o && json_object_get(json_object_get(o, "calendarIds"), f->cal) &&
        !json_object_get(o, "recurrenceId")) {
        f->found = o;
        return 1;
    }
    json_decref(o);
    return 0;
}

static json_t *find_event(struct store_conn *c, const char *account, const char *cal,
                          const char *uid)
{
    struct find f = {c, account, cal, NULL};
    store_index_find_uid(c, account, calendar_event_type.name, uid, find_cb, &f);
    return f.found;
}

/* Whether the stored event already says what the card does (its per-user
 * properties are the user's). */
static bool up_to_date(json_t *want, json_t *have)
{
    const char *k;
    json_t *v;
    json_object_foreach(want, k, v)
    {
        if (!types_in_list(types_per_user, k) && !json_equal(v, json_object_get(have, k)))
            return false;
    }
    return true;
}

static int put_event(struct store_conn *c, const char *account, const char *cal, json_t *want)
{
    json_t *have = find_event(c, account, cal, json_string_value(json_object_get(want, "uid")));
    int rc = 0;
    if (!have || !up_to_date(want, have)) {
        json_t *obj = types_with_per_user(want, have);
        char *why = NULL;
        rc = event_import_one(c, account, cal, obj, NULL, &why);
        if (rc)
            log_warn("birthdays %s: %s", cal, why ? why : "cannot store an event");
        free(why);
        json_decref(obj);
    }
    json_decref(have);
    return rc;
}

static int drop_event(struct store_conn *c, const char *account, const char *cal, const char *uid)
{
    json_t *have = find_event(c, account, cal, uid);
    int rc = 0;
    if (have) {
        subscription_refresher_destroyed(c, account, have); /* for the feed's delta */
        rc = jmap_object_write(c, NULL, &calendar_event_type, account,
                               json_string_value(json_object_get(have, "id")), NULL, false);
    }
    json_decref(have);
    return rc;
}

/* Brings calendar cal in step with one card (NULL: destroyed). */
static int sync_card(struct store_conn *c, const char *account, const char *cal, json_t *titles,
                     const char *card_id, json_t *card)
{
    json_t *want = card_events(card_id, card, titles);
    json_t *link = store_object_get(c, account, link_type.name, card_id);
    int rc = 0;
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(link, "uids"), i, u)
    {
        if (!json_object_get(want, json_string_value(u)) &&
            drop_event(c, account, cal, json_string_value(u)))
            rc = -1;
    }
    const char *uid;
    json_t *e, *uids = json_array();
    json_object_foreach(want, uid, e)
    {
        json_array_append_new(uids, json_string(uid));
        if (put_event(c, account, cal, e))
            rc = -1;
    }
    /* the store never re-creates an id it destroyed: a link is destroyed with its
     * card only (card ids are never reused), else emptied */
    json_t *now = json_pack("{s:o}", "uids", uids);
    if (!card) {
        if (link && jmap_object_write(c, NULL, &link_type, account, card_id, NULL, false))
            rc = -1;
    } else if ((link || json_array_size(uids)) && !json_equal(now, link) &&
               jmap_object_write(c, NULL, &link_type, account, card_id, now, !link)) {
        rc = -1;
    }
    json_decref(now);
    json_decref(link);
    json_decref(want);
    return rc;
}

/* The account's birthdays calendar id into out[64] (and its titles into *titles, a
 * new reference, if asked), or false. */
static bool birthdays_calendar(struct store_conn *c, const char *account, char out[64],
                               json_t **titles)
{
    json_t *m = store_object_get(c, account, marker_type.name, MARKER_ID);
    const char *id = json_string_value(json_object_get(m, "calendarId"));
    bool ok = id && store_object_exists(c, account, calendar_type.name, id);
    if (ok)
        snprintf(out, 64, "%s", id);
    if (ok && titles)
        *titles = json_incref(json_object_get(m, "titles"));
    json_decref(m);
    return ok;
}

int birthdays_card_index(struct store_conn *c, const char *account, const char *id, json_t *obj)
{
    char cal[64];
    json_t *titles = NULL;
    if (!birthdays_calendar(c, account, cal, &titles))
        return 0;
    int rc = sync_card(c, account, cal, titles, id, obj);
    json_decref(titles);
    return rc;
}

/* ---- the calendar --------------------------------------------------------------------------- */

static int collect_card(const char *id, json_t *obj, void *ud)
{
    json_object_set(ud, id, obj);
    return 0;
}

int birthdays_calendar_index(struct store_conn *c, const char *account, const char *id, json_t *obj)
{
    json_t *m = store_object_get(c, account, marker_type.name, MARKER_ID);
    const char *was = json_string_value(json_object_get(m, "calendarId"));
    bool mine = was && strcmp(was, id) == 0;
    int rc = 0;
    if (!json_is_true(json_object_get(obj, BIRTHDAYS_PROP))) {
        if (mine) { /* it was destroyed: the account has none now (the marker stays) */
            json_t *none = json_pack("{s:n}", "calendarId");
            rc = jmap_object_write(c, NULL, &marker_type, account, MARKER_ID, none, false);
            json_decref(none);
        }
        json_decref(m);
        return rc;
    }
    const char *why = NULL;
    json_t *titles = titles_resolve(json_object_get(obj, BIRTHDAY_TITLES_PROP), &why);
    if (!titles) /* validated on /set: only an old stored value can be wrong */
        titles = titles_resolve(NULL, &why);
    if (mine && json_equal(titles, json_object_get(m, "titles"))) {
        /* renamed, recoloured, ...: already in step */
        json_decref(titles);
        json_decref(m);
        return 0;
    }
    /* new, or retitled: every card's events again */
    json_t *now = json_pack("{s:s, s:O}", "calendarId", id, "titles", titles);
    rc = jmap_object_write(c, NULL, &marker_type, account, MARKER_ID, now, !m);
    json_decref(now);
    json_decref(m);
    /* filled from every card of the account (read first: no write while iterating) */
    json_t *cards = json_object();
    store_object_foreach(c, account, contact_card_type.name, collect_card, cards);
    const char *cid;
    json_t *card;
    json_object_foreach(cards, cid, card)
    {
        if (sync_card(c, account, id, titles, cid, card))
            rc = -1;
    }
    json_decref(cards);
    json_decref(titles);
    return rc;
}

bool birthdays_calendar_exists(struct store_conn *c, const char *account)
{
    char cal[64];
    return birthdays_calendar(c, account, cal, NULL);
}

/* BIRTHDAY_TITLES_PROP: only on the birthdays calendar, and one titles_resolve takes. */
static void titles_validate(struct jset *s, json_t *obj, json_t *invalid)
{
    json_t *t = json_object_get(obj, BIRTHDAY_TITLES_PROP);
    if (!t) {
        json_object_set_new(obj, BIRTHDAY_TITLES_PROP, json_null());
        return;
    }
    if (json_is_null(t))
        return;
    const char *why = NULL;
    json_t *ok = titles_resolve(t, &why);
    if (!json_is_true(json_object_get(obj, BIRTHDAYS_PROP)))
        jset_invalid(s, invalid, BIRTHDAY_TITLES_PROP, "only the birthdays calendar has titles");
    else if (!ok)
        jset_invalid(s, invalid, BIRTHDAY_TITLES_PROP, "%s", why);
    json_decref(ok);
}

void birthdays_calendar_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    titles_validate(s, obj, invalid);
    json_t *v = json_object_get(obj, BIRTHDAYS_PROP);
    bool was = old && json_is_true(json_object_get(old, BIRTHDAYS_PROP));
    if (!v || json_is_null(v) || json_is_false(v)) {
        json_object_set_new(obj, BIRTHDAYS_PROP, json_false());
        if (was)
            jset_invalid(s, invalid, BIRTHDAYS_PROP,
                         "the birthdays calendar stays one: destroy it to turn it off");
        return;
    }
    if (!json_is_true(v)) {
        jset_invalid(s, invalid, BIRTHDAYS_PROP, "must be a Boolean");
        return;
    }
    if (was)
        return;
    if (old) {
        jset_invalid(s, invalid, BIRTHDAYS_PROP, "only a new calendar can be the birthdays one");
        return;
    }
    if (json_is_object(json_object_get(obj, SUBSCRIPTION_PROP)))
        jset_invalid(s, invalid, BIRTHDAYS_PROP, "a subscription cannot be the birthdays calendar");
    else if (s && birthdays_calendar_exists(jset_conn(s), jset_account(s)))
        jset_invalid(s, invalid, BIRTHDAYS_PROP, "the account has a birthdays calendar already");
    /* issue 17 §4: a default all-day alert, 09:00 on the day, unless the client
     * chose its own */
    if (json_is_null(json_object_get(obj, "defaultAlertsWithoutTime")) ||
        !json_object_get(obj, "defaultAlertsWithoutTime")) {
        char aid[16];
        util_random_id(aid, 12, 'a');
        json_object_set_new(obj, "defaultAlertsWithoutTime",
                            json_pack("{s:{s:s, s:{s:s, s:s, s:s}, s:s}}", aid, "@type", "Alert",
                                      "trigger", "@type", "OffsetTrigger", "offset", "PT9H",
                                      "relativeTo", "start", "action", "display"));
    }
}
