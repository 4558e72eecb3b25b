/*
 * jscontact_validate.c — validates a JSContact Card against RFC 9553 (§1.7 rules:
 * types, mandatory properties, Id maps, enumerated values, case-sensitivity,
 * vendor-specific names; §2 per-object constraints) and the RFC 9555 §2.15
 * properties. Every problem is reported with the path of the offending property,
 * in the form ContactCard/set puts into invalidProperties ("emails/e1/address").
 *
 * The object types are declared once as tables (objdef/field) and walked by one
 * checker; constraints that span properties follow in check_* functions.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/jscontact/jscontact.h"
#include "formats/jscontact/jscontact_internal.h"

typedef enum {
    T_STRING,
    T_NESTR, /* non-empty String */
    T_BOOL,
    T_UINT,
    T_PREF,    /* UnsignedInt 1..100 (§1.5.3) */
    T_UTC,     /* UTCDateTime (§1.4.5) */
    T_ID,      /* Id (§1.4.1) */
    T_TRUESET, /* String[Boolean] with true values */
    T_OBJ,     /* an object of type sub */
    T_IDMAP,   /* Id[sub] */
    T_STRMAP,  /* String[sub] */
    T_ARRAY,   /* sub[] */
    T_DATE,    /* PartialDate|Timestamp */
    T_PATCHES, /* String[PatchObject] */
    T_JCARDPROPS,
    T_VCARDPARAMS,
    T_ENUM, /* String from enums, or vendor-specific */
    T_LANGTAG,
    T_GEO,
    T_MEMBERS,
} ftype;

typedef struct objdef objdef;

typedef struct field {
    const char *name;
    ftype type;
    const objdef *sub;
    int mandatory;
    const char *const *enums;
} field;

struct objdef {
    const char *type;
    const field *fields;
};

/* ---- enumerations (RFC 9553) ----------------------------------------------------- */

static const char *const e_kind[] = {"individual", "group",       "org", "location",
                                     "device",     "application", NULL};
static const char *const e_ncomp[] = {"title",      "given",     "given2",
                                      "surname",    "surname2",  "credential",
                                      "generation", "separator", NULL};
static const char *const e_acomp[] = {
    "room",    "apartment",   "floor",    "building",      "number",    "name",
    "block",   "subdistrict", "district", "locality",      "region",    "postcode",
    "country", "direction",   "landmark", "postOfficeBox", "separator", NULL};
static const char *const e_gramgender[] = {"animate",   "common", "feminine", "inanimate",
                                           "masculine", "neuter", NULL};
static const char *const e_titlekind[] = {"title", "role", NULL};
static const char *const e_calkind[] = {"calendar", "freeBusy", NULL};
static const char *const e_dirkind[] = {"directory", "entry", NULL};
static const char *const e_linkkind[] = {"contact", NULL};
static const char *const e_mediakind[] = {"photo", "sound", "logo", NULL};
static const char *const e_annkind[] = {"birth", "death", "wedding", NULL};
static const char *const e_pikind[] = {"expertise", "hobby", "interest", NULL};
static const char *const e_level[] = {"high", "medium", "low", NULL};
static const char *const e_phsys[] = {"ipa", "jyut", "piny", NULL};

/* ---- object types ---------------------------------------------------------------- */

#define COMMON_VCARD                                                                               \
    {"vCardName", T_STRING, NULL, 0, NULL},                                                        \
    {                                                                                              \
        "vCardParams", T_VCARDPARAMS, NULL, 0, NULL                                                \
    }
#define RESOURCE_FIELDS(kinds, kind_mandatory)                                                     \
    {"kind", T_ENUM, NULL, kind_mandatory, kinds}, {"uri", T_NESTR, NULL, 1, NULL},                \
        {"mediaType", T_STRING, NULL, 0, NULL}, {"contexts", T_TRUESET, NULL, 0, NULL},            \
        {"pref", T_PREF, NULL, 0, NULL}, {"label", T_STRING, NULL, 0, NULL}, COMMON_VCARD

static const field f_namecomp[] = {{"value", T_STRING, NULL, 1, NULL},
                                   {"kind", T_ENUM, NULL, 1, e_ncomp},
                                   {"phonetic", T_STRING, NULL, 0, NULL},
                                   COMMON_VCARD,
                                   {NULL, 0, NULL, 0, NULL}};
static const objdef o_namecomp = {"NameComponent", f_namecomp};

static const field f_name[] = {{"components", T_ARRAY, &o_namecomp, 0, NULL},
                               {"isOrdered", T_BOOL, NULL, 0, NULL},
                               {"defaultSeparator", T_STRING, NULL, 0, NULL},
                               {"full", T_STRING, NULL, 0, NULL},
                               {"sortAs", T_STRMAP, NULL, 0, NULL},
                               {"phoneticScript", T_STRING, NULL, 0, NULL},
                               {"phoneticSystem", T_ENUM, NULL, 0, e_phsys},
                               COMMON_VCARD,
                               {NULL, 0, NULL, 0, NULL}};
static const objdef o_name = {"Name", f_name};

static const field f_nickname[] = {{"name", T_STRING, NULL, 1, NULL},
                                   {"contexts", T_TRUESET, NULL, 0, NULL},
                                   {"pref", T_PREF, NULL, 0, NULL},
                                   COMMON_VCARD,
                                   {NULL, 0, NULL, 0, NULL}};
static const objdef o_nickname = {"Nickname", f_nickname};

static const field f_orgunit[] = {{"name", T_STRING, NULL, 1, NULL},
                                  {"sortAs", T_STRING, NULL, 0, NULL},
                                  COMMON_VCARD,
                                  {NULL, 0, NULL, 0, NULL}};
static const objdef o_orgunit = {"OrgUnit", f_orgunit};

static const field f_org[] = {{"name", T_STRING, NULL, 0, NULL},
                              {"units", T_ARRAY, &o_orgunit, 0, NULL},
                              {"sortAs", T_STRING, NULL, 0, NULL},
                              {"contexts", T_TRUESET, NULL, 0, NULL},
                              COMMON_VCARD,
                              {NULL, 0, NULL, 0, NULL}};
static const objdef o_org = {"Organization", f_org};

static const field f_pronouns[] = {{"pronouns", T_STRING, NULL, 1, NULL},
                                   {"contexts", T_TRUESET, NULL, 0, NULL},
                                   {"pref", T_PREF, NULL, 0, NULL},
                                   COMMON_VCARD,
                                   {NULL, 0, NULL, 0, NULL}};
static const objdef o_pronouns = {"Pronouns", f_pronouns};

static const field f_speak[] = {{"grammaticalGender", T_ENUM, NULL, 0, e_gramgender},
                                {"pronouns", T_IDMAP, &o_pronouns, 0, NULL},
                                COMMON_VCARD,
                                {NULL, 0, NULL, 0, NULL}};
static const objdef o_speak = {"SpeakToAs", f_speak};

static const field f_title[] = {{"name", T_STRING, NULL, 1, NULL},
                                {"kind", T_ENUM, NULL, 0, e_titlekind},
                                {"organizationId", T_ID, NULL, 0, NULL},
                                COMMON_VCARD,
                                {NULL, 0, NULL, 0, NULL}};
static const objdef o_title = {"Title", f_title};

static const field f_email[] = {{"address", T_STRING, NULL, 1, NULL},
                                {"contexts", T_TRUESET, NULL, 0, NULL},
                                {"pref", T_PREF, NULL, 0, NULL},
                                {"label", T_STRING, NULL, 0, NULL},
                                COMMON_VCARD,
                                {NULL, 0, NULL, 0, NULL}};
static const objdef o_email = {"EmailAddress", f_email};

static const field f_online[] = {{"service", T_STRING, NULL, 0, NULL},
                                 {"uri", T_NESTR, NULL, 0, NULL},
                                 {"user", T_STRING, NULL, 0, NULL},
                                 {"contexts", T_TRUESET, NULL, 0, NULL},
                                 {"pref", T_PREF, NULL, 0, NULL},
                                 {"label", T_STRING, NULL, 0, NULL},
                                 COMMON_VCARD,
                                 {NULL, 0, NULL, 0, NULL}};
static const objdef o_online = {"OnlineService", f_online};

static const field f_phone[] = {{"number", T_STRING, NULL, 1, NULL},
                                {"features", T_TRUESET, NULL, 0, NULL},
                                {"contexts", T_TRUESET, NULL, 0, NULL},
                                {"pref", T_PREF, NULL, 0, NULL},
                                {"label", T_STRING, NULL, 0, NULL},
                                COMMON_VCARD,
                                {NULL, 0, NULL, 0, NULL}};
static const objdef o_phone = {"Phone", f_phone};

static const field f_langpref[] = {{"language", T_LANGTAG, NULL, 1, NULL},
                                   {"contexts", T_TRUESET, NULL, 0, NULL},
                                   {"pref", T_PREF, NULL, 0, NULL},
                                   COMMON_VCARD,
                                   {NULL, 0, NULL, 0, NULL}};
static const objdef o_langpref = {"LanguagePref", f_langpref};

static const field f_calendar[] = {RESOURCE_FIELDS(e_calkind, 1), {NULL, 0, NULL, 0, NULL}};
static const objdef o_calendar = {"Calendar", f_calendar};
static const field f_sched[] = {{"uri", T_NESTR, NULL, 1, NULL},
                                {"contexts", T_TRUESET, NULL, 0, NULL},
                                {"pref", T_PREF, NULL, 0, NULL},
                                {"label", T_STRING, NULL, 0, NULL},
                                COMMON_VCARD,
                                {NULL, 0, NULL, 0, NULL}};
static const objdef o_sched = {"SchedulingAddress", f_sched};

static const field f_acomp[] = {{"value", T_STRING, NULL, 1, NULL},
                                {"kind", T_ENUM, NULL, 1, e_acomp},
                                {"phonetic", T_STRING, NULL, 0, NULL},
                                COMMON_VCARD,
                                {NULL, 0, NULL, 0, NULL}};
static const objdef o_acomp = {"AddressComponent", f_acomp};

static const field f_address[] = {{"components", T_ARRAY, &o_acomp, 0, NULL},
                                  {"isOrdered", T_BOOL, NULL, 0, NULL},
                                  {"countryCode", T_STRING, NULL, 0, NULL},
                                  {"coordinates", T_GEO, NULL, 0, NULL},
                                  {"timeZone", T_NESTR, NULL, 0, NULL},
                                  {"contexts", T_TRUESET, NULL, 0, NULL},
                                  {"full", T_STRING, NULL, 0, NULL},
                                  {"defaultSeparator", T_STRING, NULL, 0, NULL},
                                  {"pref", T_PREF, NULL, 0, NULL},
                                  {"phoneticScript", T_STRING, NULL, 0, NULL},
                                  {"phoneticSystem", T_ENUM, NULL, 0, e_phsys},
                                  COMMON_VCARD,
                                  {NULL, 0, NULL, 0, NULL}};
static const objdef o_address = {"Address", f_address};

static const field f_cryptokey[] = {RESOURCE_FIELDS(NULL, 0), {NULL, 0, NULL, 0, NULL}};
static const objdef o_cryptokey = {"CryptoKey", f_cryptokey};
static const field f_directory[] = {
    RESOURCE_FIELDS(e_dirkind, 1), {"listAs", T_UINT, NULL, 0, NULL}, {NULL, 0, NULL, 0, NULL}};
static const objdef o_directory = {"Directory", f_directory};
static const field f_link[] = {RESOURCE_FIELDS(e_linkkind, 0), {NULL, 0, NULL, 0, NULL}};
static const objdef o_link = {"Link", f_link};
static const field f_media[] = {RESOURCE_FIELDS(e_mediakind, 1), {NULL, 0, NULL, 0, NULL}};
static const objdef o_media = {"Media", f_media};

static const field f_anniv[] = {{"kind", T_ENUM, NULL, 1, e_annkind},
                                {"date", T_DATE, NULL, 1, NULL},
                                {"place", T_OBJ, &o_address, 0, NULL},
                                COMMON_VCARD,
                                {NULL, 0, NULL, 0, NULL}};
static const objdef o_anniv = {"Anniversary", f_anniv};

static const field f_author[] = {{"name", T_STRING, NULL, 0, NULL},
                                 {"uri", T_NESTR, NULL, 0, NULL},
                                 COMMON_VCARD,
                                 {NULL, 0, NULL, 0, NULL}};
static const objdef o_author = {"Author", f_author};
static const field f_note[] = {{"note", T_STRING, NULL, 1, NULL},
                               {"created", T_UTC, NULL, 0, NULL},
                               {"author", T_OBJ, &o_author, 0, NULL},
                               COMMON_VCARD,
                               {NULL, 0, NULL, 0, NULL}};
static const objdef o_note = {"Note", f_note};

static const field f_persinfo[] = {{"kind", T_ENUM, NULL, 1, e_pikind},
                                   {"value", T_STRING, NULL, 1, NULL},
                                   {"level", T_ENUM, NULL, 0, e_level},
                                   {"listAs", T_UINT, NULL, 0, NULL},
                                   {"label", T_STRING, NULL, 0, NULL},
                                   COMMON_VCARD,
                                   {NULL, 0, NULL, 0, NULL}};
static const objdef o_persinfo = {"PersonalInfo", f_persinfo};

static const field f_relation[] = {
    {"relation", T_TRUESET, NULL, 0, NULL}, COMMON_VCARD, {NULL, 0, NULL, 0, NULL}};
static const objdef o_relation = {"Relation", f_relation};

static const field f_card[] = {{"@type", T_STRING, NULL, 1, NULL},
                               {"version", T_STRING, NULL, 1, NULL},
                               {"created", T_UTC, NULL, 0, NULL},
                               {"kind", T_ENUM, NULL, 0, e_kind},
                               {"language", T_LANGTAG, NULL, 0, NULL},
                               {"members", T_MEMBERS, NULL, 0, NULL},
                               {"prodId", T_NESTR, NULL, 0, NULL},
                               {"relatedTo", T_STRMAP, &o_relation, 0, NULL},
                               {"uid", T_STRING, NULL, 0, NULL},
                               {"updated", T_UTC, NULL, 0, NULL},
                               {"name", T_OBJ, &o_name, 0, NULL},
                               {"nicknames", T_IDMAP, &o_nickname, 0, NULL},
                               {"organizations", T_IDMAP, &o_org, 0, NULL},
                               {"speakToAs", T_OBJ, &o_speak, 0, NULL},
                               {"titles", T_IDMAP, &o_title, 0, NULL},
                               {"emails", T_IDMAP, &o_email, 0, NULL},
                               {"onlineServices", T_IDMAP, &o_online, 0, NULL},
                               {"phones", T_IDMAP, &o_phone, 0, NULL},
                               {"preferredLanguages", T_IDMAP, &o_langpref, 0, NULL},
                               {"calendars", T_IDMAP, &o_calendar, 0, NULL},
                               {"schedulingAddresses", T_IDMAP, &o_sched, 0, NULL},
                               {"addresses", T_IDMAP, &o_address, 0, NULL},
                               {"cryptoKeys", T_IDMAP, &o_cryptokey, 0, NULL},
                               {"directories", T_IDMAP, &o_directory, 0, NULL},
                               {"links", T_IDMAP, &o_link, 0, NULL},
                               {"media", T_IDMAP, &o_media, 0, NULL},
                               {"localizations", T_PATCHES, NULL, 0, NULL},
                               {"anniversaries", T_IDMAP, &o_anniv, 0, NULL},
                               {"keywords", T_TRUESET, NULL, 0, NULL},
                               {"notes", T_IDMAP, &o_note, 0, NULL},
                               {"personalInfo", T_IDMAP, &o_persinfo, 0, NULL},
                               {"vCardProps", T_JCARDPROPS, NULL, 0, NULL},
                               COMMON_VCARD,
                               {NULL, 0, NULL, 0, NULL}};
static const objdef o_card = {"Card", f_card};

/* Every type name known, for the case-sensitivity rule of §1.7.1. */
static const objdef *const all_types[] = {
    &o_namecomp, &o_name,    &o_nickname,  &o_orgunit,   &o_org,      &o_pronouns, &o_speak,
    &o_title,    &o_email,   &o_online,    &o_phone,     &o_langpref, &o_calendar, &o_sched,
    &o_acomp,    &o_address, &o_cryptokey, &o_directory, &o_link,     &o_media,    &o_anniv,
    &o_author,   &o_note,    &o_persinfo,  &o_relation,  &o_card,     NULL};

/* ---- the walk ------------------------------------------------------------------- */

/* The path is kept as a stack of (unencoded) keys and only spelled out when a
 * problem is reported: most Cards are valid. */
#define MAX_DEPTH 32

typedef struct vctx {
    json_t *paths, *msgs;
    size_t n;
    const char *segs[MAX_DEPTH];
    size_t depth;
} vctx;

static void bad(vctx *v, const char *key, const char *why)
{
    jbuf b = {0};
    jbuf_adds(&b, "");
    size_t d = v->depth < MAX_DEPTH ? v->depth : MAX_DEPTH;
    for (size_t i = 0; i < d; i++) {
        if (b.len)
            jbuf_addc(&b, '/');
        jptr_token_encode(&b, v->segs[i]);
    }
    if (key) {
        if (b.len)
            jbuf_addc(&b, '/');
        jptr_token_encode(&b, key);
    }
    v->n++;
    if (v->paths)
        json_array_append_new(v->paths, json_string(b.s));
    if (v->msgs) {
        char m[400];
        snprintf(m, sizeof m, "%s: %s", *b.s ? b.s : "(card)", why);
        json_array_append_new(v->msgs, json_string(m));
    }
    jbuf_free(&b);
}

/* Pushes key (which must outlive the matching pop) and returns the old depth. */
static size_t push(vctx *v, const char *key)
{
    size_t mark = v->depth;
    if (v->depth < MAX_DEPTH)
        v->segs[v->depth] = key;
    v->depth++;
    return mark;
}

static void pop(vctx *v, size_t mark)
{
    v->depth = mark;
}

/* §1.8.1 v-extension: prefix ":" name */
static int is_vendor_name(const char *s)
{
    const char *colon = strchr(s, ':');
    if (!colon || colon == s || !colon[1])
        return 0;
    for (const char *p = s; p < colon; p++) {
        unsigned char c = (unsigned char)*p;
        if (!(isalnum(c) || c >= 0x80 || c == '-' || c == '.'))
            return 0;
        if ((c == '-' || c == '.') && (p == s || p + 1 == colon))
            return 0;
    }
    /* §1.8.1 excludes "/" and "~" from v-name, but RFC 9555 §3.2.1 shows
     * "example.com:foo/bar" as a property to preserve: only what no JSON pointer
     * can carry is rejected. */
    for (const char *p = colon + 1; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7F || c == '"')
            return 0;
    }
    return 1;
}

/* §1.7.2: ALPHA / DIGIT / "@" */
static int is_iana_style(const char *s)
{
    if (!*s)
        return 0;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '@')
            return 0;
    return 1;
}

static int is_uint(const json_t *j)
{
    if (json_is_integer(j))
        return json_integer_value(j) >= 0 && json_integer_value(j) <= 9007199254740991LL;
    if (json_is_real(j)) {
        double d = json_real_value(j);
        return d >= 0 && d <= 9007199254740991.0 && floor(d) == d;
    }
    return 0;
}

static json_int_t uint_value(const json_t *j)
{
    return json_is_integer(j) ? json_integer_value(j) : (json_int_t)json_real_value(j);
}

static int is_langtag(const char *s)
{
    /* RFC 5646 shape: alphanumeric subtags of 1..8, the first alphabetic */
    if (!isalpha((unsigned char)*s))
        return 0;
    size_t n = 0;
    for (const char *p = s;; p++) {
        if (*p == '-' || !*p) {
            if (n < 1 || n > 8)
                return 0;
            if (!*p)
                return 1;
            n = 0;
        } else if (isalnum((unsigned char)*p)) {
            n++;
        } else {
            return 0;
        }
    }
}

static void check_obj(vctx *v, const json_t *o, const objdef *def);

static void check_enum(vctx *v, const char *key, const json_t *j, const char *const *enums)
{
    if (!json_is_string(j)) {
        bad(v, key, "must be a String");
        return;
    }
    const char *s = json_string_value(j);
    if (!enums)
        return;
    for (const char *const *e = enums; *e; e++)
        if (!strcmp(*e, s))
            return;
    for (const char *const *e = enums; *e; e++)
        if (!strcasecmp(*e, s)) {
            bad(v, key, "enumerated value differs only in case (RFC 9553 §1.7.1)");
            return;
        }
    if (!is_vendor_name(s))
        bad(v, key, "unknown value: not registered and not vendor-specific (§1.8.2)");
}

static void check_date(vctx *v, const char *key, const json_t *d)
{
    if (!json_is_object(d)) {
        bad(v, key, "must be a PartialDate or Timestamp");
        return;
    }
    size_t mark = push(v, key);
    const char *t = json_string_value(json_object_get(d, "@type"));
    if (t && !strcmp(t, "Timestamp")) {
        const json_t *u = json_object_get(d, "utc");
        if (!json_is_string(u) || !jsc_is_utcdatetime(json_string_value(u)))
            bad(v, "utc", "mandatory UTCDateTime");
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)d, k, e) if (strcmp(k, "@type") && strcmp(k, "utc") &&
                                                   is_iana_style(k)) bad(v, k,
                                                                         "not a Timestamp "
                                                                         "property");
    } else if (t && strcmp(t, "PartialDate")) {
        bad(v, "@type", "must be \"PartialDate\" or \"Timestamp\"");
    } else {
        /* §2.8.1 PartialDate */
        const json_t *y = json_object_get(d, "year"), *m = json_object_get(d, "month"),
                     *dd = json_object_get(d, "day"), *cs = json_object_get(d, "calendarScale");
        if (y && !is_uint(y))
            bad(v, "year", "must be an UnsignedInt");
        if (m && (!is_uint(m) || uint_value(m) < 1 || uint_value(m) > 12))
            bad(v, "month", "must be 1..12");
        if (dd && (!is_uint(dd) || uint_value(dd) < 1 || uint_value(dd) > 31))
            bad(v, "day", "must be 1..31");
        if (m && !y && !dd)
            bad(v, "month", "needs year or day");
        if (dd && !m)
            bad(v, "day", "needs month");
        if (!y && !m && !dd)
            bad(v, NULL, "a PartialDate needs year, month or day");
        if (cs && !json_is_string(cs))
            bad(v, "calendarScale", "must be a String");
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)d, k, e)
        {
            if (strcmp(k, "@type") && strcmp(k, "year") && strcmp(k, "month") && strcmp(k, "day") &&
                strcmp(k, "calendarScale") && is_iana_style(k) &&
                (!strcasecmp(k, "utc") || !strcasecmp(k, "year") || !strcasecmp(k, "month") ||
                 !strcasecmp(k, "day")))
                bad(v, k, "property name differs only in case");
        }
    }
    pop(v, mark);
}

/* A String[Boolean] (TrueSet, members): every value must be true. */
static void check_trueset(vctx *v, const char *key, const json_t *j)
{
    if (!json_is_object(j)) {
        bad(v, key, "must be a String[Boolean]");
        return;
    }
    size_t mark = push(v, key);
    const char *k;
    json_t *e;
    json_object_foreach((json_t *)j, k, e) if (!json_is_true(e))
        bad(v, k, "the value must be true");
    pop(v, mark);
}

/* A single nested object checked against the field's sub-table. */
static void check_nested_obj(vctx *v, const field *f, const char *key, const json_t *j)
{
    if (!json_is_object(j)) {
        bad(v, key, "must be an object");
        return;
    }
    size_t mark = push(v, key);
    check_obj(v, j, f->sub);
    pop(v, mark);
}

/* A map (Id[...] or String[...]) whose values are objects of the field's
 * sub-table, or plain Strings when the field has none; Id keys per §1.4.1. */
static void check_map(vctx *v, const field *f, const char *key, const json_t *j)
{
    if (!json_is_object(j)) {
        bad(v, key, "must be an object");
        return;
    }
    size_t mark = push(v, key);
    const char *k;
    json_t *e;
    json_object_foreach((json_t *)j, k, e)
    {
        if (f->type == T_IDMAP && !jid_valid(k)) {
            bad(v, k, "map key must be an Id (§1.4.1)");
            continue;
        }
        if (!f->sub) {
            if (!json_is_string(e))
                bad(v, k, "must be a String");
            continue;
        }
        if (!json_is_object(e)) {
            bad(v, k, "must be an object");
            continue;
        }
        size_t m2 = push(v, k);
        check_obj(v, e, f->sub);
        pop(v, m2);
    }
    pop(v, mark);
}

/* An array of objects of the field's sub-table; paths use the index. */
static void check_obj_array(vctx *v, const field *f, const char *key, const json_t *j)
{
    if (!json_is_array(j)) {
        bad(v, key, "must be an array");
        return;
    }
    size_t mark = push(v, key);
    size_t i;
    json_t *e;
    json_array_foreach(j, i, e)
    {
        char ix[24];
        snprintf(ix, sizeof ix, "%zu", i);
        if (!json_is_object(e)) {
            bad(v, ix, "must be an object");
            continue;
        }
        size_t m2 = push(v, ix);
        check_obj(v, e, f->sub);
        pop(v, m2);
    }
    pop(v, mark);
}

/* The pointers of one localizations PatchObject (§2.7.1), under language
 * tag k: none may target localizations or hold a control character. */
static void check_patch_pointers(vctx *v, const char *k, const json_t *e)
{
    const char *pk;
    json_t *pv;
    json_object_foreach((json_t *)e, pk, pv)
    {
        size_t m2 = push(v, k);
        if (!strncmp(pk, "localizations", 13) && (pk[13] == 0 || pk[13] == '/'))
            bad(v, pk, "a patch must not target localizations (§2.7.1)");
        /* no property name or Id holds a control character, and no vCard
         * parameter (JSPTR) could carry one */
        for (const unsigned char *c = (const unsigned char *)pk; *c; c++)
            if (*c < 0x20 || *c == 0x7F) {
                bad(v, pk, "a patch pointer must not hold control characters");
                break;
            }
        pop(v, m2);
    }
}

/* localizations: String[PatchObject] keyed by language tag (§2.7.1). */
static void check_patches(vctx *v, const char *key, const json_t *j)
{
    if (!json_is_object(j)) {
        bad(v, key, "must be a String[PatchObject]");
        return;
    }
    size_t mark = push(v, key);
    const char *k;
    json_t *e;
    json_object_foreach((json_t *)j, k, e)
    {
        if (!is_langtag(k))
            bad(v, k, "key must be a language tag");
        else if (!json_is_object(e))
            bad(v, k, "must be a PatchObject");
        else
            check_patch_pointers(v, k, e);
    }
    pop(v, mark);
}

/* An array of jCard properties (RFC 7095 §3.3): [name, params, type, value...]. */
static void check_jcardprops(vctx *v, const char *key, const json_t *j)
{
    size_t i;
    json_t *e;
    if (!json_is_array(j)) {
        bad(v, key, "must be a JCardProp[]");
        return;
    }
    size_t mark = push(v, key);
    json_array_foreach(j, i, e)
    {
        char ix[24];
        snprintf(ix, sizeof ix, "%zu", i);
        if (!json_is_array(e) || json_array_size(e) < 4 || !json_is_string(json_array_get(e, 0)) ||
            !json_is_object(json_array_get(e, 1)) || !json_is_string(json_array_get(e, 2)))
            bad(v, ix, "must be a jCard property (RFC 7095 §3.3)");
    }
    pop(v, mark);
}

/* vCard parameters: each value a String or an array of Strings. */
static void check_vcardparams(vctx *v, const char *key, const json_t *j)
{
    if (!json_is_object(j)) {
        bad(v, key, "must be a String[String|String[]]");
        return;
    }
    size_t mark = push(v, key);
    const char *k;
    json_t *e;
    json_object_foreach((json_t *)j, k, e)
    {
        int ok = json_is_string(e);
        if (json_is_array(e)) {
            ok = 1;
            size_t i;
            json_t *s;
            json_array_foreach(e, i, s) if (!json_is_string(s)) ok = 0;
        }
        if (!ok)
            bad(v, k, "must be a String or String[]");
    }
    pop(v, mark);
}

/* Check one property value j (named key) against its field type f; the
 * structured types are handled by the helpers above. */
static void check_value(vctx *v, const field *f, const char *key, const json_t *j)
{
    switch (f->type) {
    case T_STRING:
        if (!json_is_string(j))
            bad(v, key, "must be a String");
        break;
    case T_NESTR:
        if (!json_is_string(j) || !*json_string_value(j))
            bad(v, key, "must be a non-empty String");
        break;
    case T_BOOL:
        if (!json_is_boolean(j))
            bad(v, key, "must be a Boolean");
        break;
    case T_UINT:
        if (!is_uint(j))
            bad(v, key, "must be an UnsignedInt");
        break;
    case T_PREF:
        if (!is_uint(j) || uint_value(j) < 1 || uint_value(j) > 100)
            bad(v, key, "must be an UnsignedInt in 1..100 (§1.5.3)");
        break;
    case T_UTC:
        if (!json_is_string(j) || !jsc_is_utcdatetime(json_string_value(j)))
            bad(v, key, "must be a UTCDateTime (§1.4.5)");
        break;
    case T_ID:
        if (!json_is_string(j) || !jid_valid(json_string_value(j)))
            bad(v, key, "must be an Id (§1.4.1)");
        break;
    case T_LANGTAG:
        if (!json_is_string(j) || !is_langtag(json_string_value(j)))
            bad(v, key, "must be a language tag (RFC 5646)");
        break;
    case T_GEO:
        if (!json_is_string(j) || strncasecmp(json_string_value(j), "geo:", 4) != 0)
            bad(v, key, "must be a geo: URI (RFC 5870)");
        break;
    case T_ENUM:
        check_enum(v, key, j, f->enums);
        break;
    case T_TRUESET:
    case T_MEMBERS:
        check_trueset(v, key, j);
        break;
    case T_OBJ:
        check_nested_obj(v, f, key, j);
        break;
    case T_IDMAP:
    case T_STRMAP:
        check_map(v, f, key, j);
        break;
    case T_ARRAY:
        check_obj_array(v, f, key, j);
        break;
    case T_DATE:
        check_date(v, key, j);
        break;
    case T_PATCHES:
        check_patches(v, key, j);
        break;
    case T_JCARDPROPS:
        check_jcardprops(v, key, j);
        break;
    case T_VCARDPARAMS:
        check_vcardparams(v, key, j);
        break;
    }
}

/* Constraints that span properties of one object. */
static void check_components(vctx *v, const json_t *o, int need_components)
{
    const json_t *comps = json_object_get(o, "components");
    int ordered = json_is_true(json_object_get(o, "isOrdered"));
    if (json_is_array(comps)) {
        size_t i, nonsep = 0;
        json_t *c;
        json_array_foreach(comps, i, c)
        {
            const char *k = json_string_value(json_object_get(c, "kind"));
            if (k && strcmp(k, "separator"))
                nonsep++;
            if (k && !strcmp(k, "separator") && !ordered) {
                char ix[24];
                snprintf(ix, sizeof ix, "%zu", i);
                size_t m1 = push(v, "components"), m2 = push(v, ix);
                bad(v, "kind", "separator components need isOrdered true");
                pop(v, m2);
                pop(v, m1);
            }
        }
        if (!nonsep)
            bad(v, "components", "needs at least one component that is not a separator");
    } else if (need_components) {
        bad(v, "components", "mandatory if full is not set");
    }
    if (json_object_get(o, "defaultSeparator") && !ordered)
        bad(v, "defaultSeparator", "must not be set unless isOrdered is true");
}

static void check_obj(vctx *v, const json_t *o, const objdef *def)
{
    const char *k;
    json_t *j;
    const json_t *t = json_object_get(o, "@type");
    if (def != &o_card && t && (!json_is_string(t) || strcmp(json_string_value(t), def->type)))
        bad(v, "@type", "does not match the object type");
    for (const field *f = def->fields; f->name; f++)
        if (f->mandatory && !json_object_get(o, f->name))
            bad(v, f->name, "mandatory property is missing");
    json_object_foreach((json_t *)o, k, j)
    {
        if (!strcmp(k, "@type"))
            continue;
        const field *f = def->fields;
        while (f->name && (f->name[0] != k[0] || strcmp(f->name, k)))
            f++;
        if (f->name) {
            check_value(v, f, k, j);
            continue;
        }
        if (!strcmp(k, "extra")) {
            bad(v, k, "reserved property (§1.7.3)");
            continue;
        }
        if (strchr(k, ':')) {
            if (!is_vendor_name(k))
                bad(v, k, "invalid vendor-specific property name (§1.8.1)");
            continue;
        }
        if (!is_iana_style(k)) {
            bad(v, k, "invalid property name (§1.7.2)");
            continue;
        }
        /* §1.7.1: unknown names must not differ only in case from a known one */
        for (const objdef *const *td = all_types; *td; td++)
            for (const field *g = (*td)->fields; g->name; g++)
                if (tolower((unsigned char)g->name[0]) == tolower((unsigned char)k[0]) &&
                    !strcasecmp(g->name, k) && strcmp(g->name, k) != 0) {
                    bad(v, k, "property name differs only in case from a known one (§1.7.1)");
                    goto next;
                }
    next:;
    }
    /* per-type rules */
    if (def == &o_name) {
        check_components(v, o, !json_object_get(o, "full"));
    } else if (def == &o_address) {
        if (!json_object_get(o, "components") && !json_object_get(o, "coordinates") &&
            !json_object_get(o, "countryCode") && !json_object_get(o, "full") &&
            !json_object_get(o, "timeZone"))
            bad(v, NULL,
                "an Address needs components, coordinates, countryCode, full or "
                "timeZone (§2.5.1.1)");
        check_components(v, o, 0);
    } else if (def == &o_org) {
        if (!json_object_get(o, "name") && !json_object_get(o, "units"))
            bad(v, "name", "an Organization needs name or units");
        const json_t *u = json_object_get(o, "units");
        if (json_is_array(u) && json_array_size(u) == 0)
            bad(v, "units", "must contain at least one entry");
    }
}

/* The patch key of a localization that a problem path of the patched Card comes from:
 * the key is the path or one of its ancestors (or descendants). NULL if none. */
static const char *patch_key_of(const json_t *patch, const char *problem)
{
    const char *pk;
    json_t *pv;
    json_object_foreach((json_t *)patch, pk, pv)
    {
        const char *k = pk[0] == '/' ? pk + 1 : pk;
        size_t n = strlen(k), m = strlen(problem);
        size_t l = n < m ? n : m;
        if (!strncmp(k, problem, l) && (n == m || (n < m ? problem[n] : k[m]) == '/'))
            return pk;
    }
    return NULL;
}

/* RFC 9553 §2.7.1: a localization must apply to the Card, and "its value MUST be a
 * valid value according to the definition of the patched property": the patched Card
 * follows the same rules as the Card itself ("extra" is reserved there too, issue 12
 * §4.5). What the Card already breaks is not reported again. */
static void check_localization(vctx *v, const json_t *card, const char *lang,
                               const json_t *patch)
{
    json_t *plain = json_deep_copy(card);
    json_object_del(plain, "localizations");
    json_t *patched = jscontact_patch_apply(plain, patch);
    size_t m1 = push(v, "localizations");
    if (!patched) {
        bad(v, lang, "PatchObject does not apply to the Card (§1.4.3)");
    } else {
        json_t *before = NULL, *after = NULL, *msgs = NULL;
        jscontact_card_validate(plain, &before, NULL);
        jscontact_card_validate(patched, &after, &msgs);
        size_t i;
        json_t *pe;
        json_array_foreach(after, i, pe)
        {
            const char *path = json_string_value(pe);
            size_t j;
            json_t *be;
            int old = 0;
            json_array_foreach(before, j, be) old |= json_equal(be, pe);
            if (old)
                continue;
            const char *pk = patch_key_of(patch, path);
            const char *why = json_string_value(json_array_get(msgs, i));
            const char *colon = why ? strstr(why, ": ") : NULL;
            size_t m2 = push(v, lang);
            bad(v, pk, colon ? colon + 2 : "invalid value (§2.7.1)");
            pop(v, m2);
        }
        json_decref(before);
        json_decref(after);
        json_decref(msgs);
    }
    pop(v, m1);
    json_decref(patched);
    json_decref(plain);
}

size_t jscontact_card_validate(const json_t *card, json_t **invalid, json_t **messages)
{
    vctx v = {0};
    v.paths = invalid ? json_array() : NULL;
    v.msgs = messages ? json_array() : NULL;
    if (!json_is_object(card)) {
        bad(&v, NULL, "a Card must be a JSON object");
    } else {
        const json_t *t = json_object_get(card, "@type");
        if (!json_is_string(t) || strcmp(json_string_value(t), "Card"))
            bad(&v, "@type", "must be \"Card\"");
        const char *ver = json_string_value(json_object_get(card, "version"));
        int v2 = ver && !strcmp(ver, "2.0");
        if (!ver || (strcmp(ver, "1.0") && !v2))
            bad(&v, "version", "must be a registered JSContact version (\"1.0\" or \"2.0\")");
        /* RFC 9553 §2.1.9 uid is mandatory; JSContact 2.0 (RFC 9982) made it optional */
        if (!json_object_get(card, "uid") && !v2)
            bad(&v, "uid", "mandatory property is missing");
        check_obj(&v, card, &o_card);
        /* §2.1.6 members requires kind "group" */
        const json_t *mem = json_object_get(card, "members");
        const char *kind = json_string_value(json_object_get(card, "kind"));
        if (mem && (!kind || strcmp(kind, "group")))
            bad(&v, "members", "members requires kind \"group\" (§2.1.6)");
        /* §2.2.5 organizationId names an existing organization */
        const char *k;
        json_t *e;
        json_object_foreach(json_object_get(card, "titles"), k, e)
        {
            const char *oid = json_string_value(json_object_get(e, "organizationId"));
            if (oid && !json_object_get(json_object_get(card, "organizations"), oid)) {
                size_t m1 = push(&v, "titles"), m2 = push(&v, k);
                bad(&v, "organizationId", "no organization has this id");
                pop(&v, m2);
                pop(&v, m1);
            }
        }
        /* §2.7.1 every localization must apply to the Card */
        json_object_foreach(json_object_get(card, "localizations"), k, e)
        {
            if (json_is_object(e))
                check_localization(&v, card, k, e);
        }
    }
    if (invalid)
        *invalid = v.paths;
    if (messages)
        *messages = v.msgs;
    return v.n;
}

/* ---- normalisation ---------------------------------------------------------------- */

/* Removes "@type" where it only repeats the type its place implies (RFC 9553
 * §1.3.4), walking the known properties only: unknown and vendor-specific values
 * are kept exactly as they are. */
static void drop_implied(json_t *o, const objdef *def)
{
    if (!json_is_object(o))
        return;
    const char *t = json_string_value(json_object_get(o, "@type"));
    if (t && def != &o_card && !strcmp(t, def->type))
        json_object_del(o, "@type");
    for (const field *f = def->fields; f->name; f++) {
        json_t *v = json_object_get(o, f->name);
        if (!v)
            continue;
        const char *k;
        json_t *e;
        size_t i;
        switch (f->type) {
        case T_OBJ:
            drop_implied(v, f->sub);
            break;
        case T_IDMAP:
        case T_STRMAP:
            if (f->sub)
                json_object_foreach(v, k, e) drop_implied(e, f->sub);
            break;
        case T_ARRAY:
            json_array_foreach(v, i, e) drop_implied(e, f->sub);
            break;
        case T_DATE: {
            /* PartialDate is the defaultType (§2.8.1); Timestamp must stay */
            const char *dt = json_string_value(json_object_get(v, "@type"));
            if (json_is_object(v) && dt && !strcmp(dt, "PartialDate"))
                json_object_del(v, "@type");
            break;
        }
        default:
            break;
        }
    }
}

void jsc_drop_implied_types(json_t *card)
{
    drop_implied(card, &o_card);
}

int jscontact_card_normalise(json_t *card)
{
    if (!json_is_object(card))
        return -1;
    if (!json_object_get(card, "@type"))
        json_object_set_new(card, "@type", json_string("Card"));
    /* RFC 9982 §2: a valid "1.0" Card is a valid "2.0" Card, and new data is "2.0" */
    const char *ver = json_string_value(json_object_get(card, "version"));
    if (!ver || !strcmp(ver, "1.0"))
        json_object_set_new(card, "version", json_string("2.0"));
    jsc_drop_implied_types(card);
    const char *lang = json_string_value(json_object_get(card, "language"));
    if (lang) {
        char *c = jscontact_langtag_canon(lang);
        json_object_set_new(card, "language", json_string(c));
        free(c);
    }
    return 0;
}
