/*
 * dav_schedule.c — CalDAV scheduling (RFC 6638) on the groupware scheduling of
 * types/scheduling.c: the principal's scheduling properties (§2.1, §2.4.1), implicit
 * scheduling of PUT and DELETE (§3.2: the write is a CalendarEvent/set with
 * sendSchedulingMessages, as a JMAP client's would be, so DAV and JMAP schedule alike),
 * and Schedule-Tag with If-Schedule-Tag-Match (§3.2.10, §8.2, §8.3).
 *
 * The Schedule-Tag is a hash of the event without what processing a reply changes: the
 * participation and scheduling status of the participants other than the owner (the
 * user whose calendar it is), and "updated". So an attendee's reply leaves the
 * organizer's tag alone, and every other change, any PUT that changes the event,
 * changes it (§3.2.10).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dav/dav_internal.h"
#include "types/types.h"

/* What a reply changes in a participant (calendars-27 §4.4.6 / RFC 8984 §4.4.6). */
static const char *const reply_fields[] = {"participationStatus", "scheduleStatus",
                                           "scheduleUpdated", "scheduleSequence", NULL};

/* The email of the account's principal (the owner's calendar address without
 * "mailto:"), malloc'd, or NULL. */
static char *owner_email(struct dav_ctx *x, const char *account)
{
    json_t *p = principal_load(x->c, account);
    const char *e = json_string_value(json_object_get(p, "email"));
    char *out = e && *e ? xstrdup(e) : NULL;
    json_decref(p);
    return out;
}

static bool is_owner(const json_t *participant, const char *email)
{
    const char *a = json_string_value(json_object_get(participant, "calendarAddress"));
    return email && a && strncasecmp(a, "mailto:", 7) == 0 && strcasecmp(a + 7, email) == 0;
}

bool dav_schedule_address_mine(struct dav_ctx *x, const char *address)
{
    const char *acct = NULL;
    for (int i = 0; i < x->u->naccounts && !acct; i++)
        if (x->u->accounts[i].is_personal)
            acct = x->u->accounts[i].account_id;
    char *email = acct ? owner_email(x, acct) : NULL;
    bool mine = email && strncasecmp(address, "mailto:", 7) == 0 && !strcasecmp(address + 7, email);
    free(email);
    return mine;
}

/* ---- principal properties (§2.1, §2.4.1, RFC 6638 §9) -------------------------------- */

int dav_schedule_principal_prop(struct dav_ctx *x, const char *name, struct buf *v)
{
    const char *acct = NULL;
    for (int i = 0; i < x->u->naccounts && !acct; i++)
        if (!x->u->accounts[i].shared)
            acct = x->u->accounts[i].account_id;
    if (!acct)
        return 0;
    if (strcmp(name, "schedule-inbox-URL") == 0 || strcmp(name, "schedule-outbox-URL") == 0) {
        buf_puts(v, "<D:href>/dav/calendars/");
        dav_xml_href(v, acct);
        buf_puts(v, name[9] == 'i' ? "/inbox/</D:href>" : "/outbox/</D:href>");
        return 1;
    }
    if (strcmp(name, "calendar-user-address-set") == 0) {
        char *email = owner_email(x, acct);
        if (email) {
            buf_puts(v, "<D:href>mailto:");
            dav_xml_text(v, email);
            buf_puts(v, "</D:href>");
        }
        free(email);
        buf_puts(v, "<D:href>/dav/principals/");
        dav_xml_href(v, x->u->name);
        buf_puts(v, "/</D:href>");
        return 1;
    }
    if (strcmp(name, "calendar-user-type") == 0) {
        buf_puts(v, "INDIVIDUAL");
        return 1;
    }
    return 0;
}

/* ---- implicit scheduling (§3.2) -------------------------------------------------------- */

bool dav_schedule_wanted(const json_t *obj)
{
    const char *pid;
    json_t *p;
    json_object_foreach(json_object_get(obj, "participants"), pid, p)
    {
        /* §7.1 SCHEDULE-AGENT=CLIENT or NONE: the server sends nothing for them */
        const char *agent = json_string_value(json_object_get(p, "scheduleAgent"));
        if (!agent || strcmp(agent, "server") == 0)
            return true;
    }
    return false;
}

/* ---- Schedule-Tag (§3.2.10) ------------------------------------------------------------ */

/* Drops the reply fields of participant pid from an override patch (its pointer keys). */
static void strip_patch(json_t *patch, const char *pid)
{
    char prefix[200];
    snprintf(prefix, sizeof prefix, "participants/%s/", pid);
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(patch, tmp, key, v)
    {
        for (int i = 0; reply_fields[i]; i++)
            if (strncmp(key, prefix, strlen(prefix)) == 0 &&
                strcmp(key + strlen(prefix), reply_fields[i]) == 0)
                json_object_del(patch, key);
    }
}

bool dav_schedule_tag(struct dav_ctx *x, const struct dav_res *r, const json_t *obj, char out[48])
{
    if (r->k != &dav_calendars || !obj || !json_object_size(json_object_get(obj, "participants")))
        return false;
    char *email = owner_email(x, r->acct->account_id);
    json_t *copy = json_deep_copy(obj);
    json_object_del(copy, "updated");
    const char *pid;
    json_t *p;
    json_object_foreach(json_object_get(copy, "participants"), pid, p)
    {
        if (is_owner(p, email))
            continue;
        for (int i = 0; reply_fields[i]; i++)
            json_object_del(p, reply_fields[i]);
        const char *rid;
        json_t *patch;
        json_object_foreach(json_object_get(copy, "recurrenceOverrides"), rid, patch)
            strip_patch(patch, pid);
    }
    char *text = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT);
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
    for (const unsigned char *c = (const unsigned char *)text; c && *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    snprintf(out, 48, "\"s%016llx\"", (unsigned long long)h);
    free(text);
    free(email);
    json_decref(copy);
    return true;
}

bool dav_schedule_tag_matches(struct dav_ctx *x, const struct dav_res *r)
{
    const char *want = x->q->if_schedule_tag_match;
    if (!want)
        return true;
    char tag[48];
    bool ok = r->obj && dav_schedule_tag(x, r, r->obj, tag);
    while (*want == ' ' || *want == '\t')
        want++;
    size_t n = strlen(want);
    while (n && (want[n - 1] == ' ' || want[n - 1] == '\t'))
        n--;
    ok = ok && n == strlen(tag) && strncmp(want, tag, n) == 0;
    if (!ok) /* §3.2.10.1, §3.2.10.2 */
        dav_reply(x, 412, "text/plain", xstrdup("schedule tag does not match\n"));
    return ok;
}

/* The participant of list with calendar address addr, or NULL. */
static json_t *by_address(json_t *list, const char *addr)
{
    const char *pid;
    json_t *p;
    json_object_foreach(list, pid, p)
    {
        const char *a = json_string_value(json_object_get(p, "calendarAddress"));
        if (a && addr && strcasecmp(a, addr) == 0)
            return p;
    }
    return NULL;
}

void dav_schedule_merge_replies(struct dav_ctx *x, const struct dav_res *r, json_t *obj)
{
    char *email = owner_email(x, r->acct->account_id);
    json_t *old = json_object_get(r->obj, "participants");
    const char *pid;
    json_t *p;
    json_object_foreach(json_object_get(obj, "participants"), pid, p)
    {
        const char *addr = json_string_value(json_object_get(p, "calendarAddress"));
        json_t *was = is_owner(p, email) ? NULL : by_address(old, addr);
        if (!was)
            continue;
        /* §3.2.10.1: the other attendees' status as the server has it */
        for (int i = 0; reply_fields[i]; i++) {
            json_t *v = json_object_get(was, reply_fields[i]);
            if (v)
                json_object_set(p, reply_fields[i], v);
            else
                json_object_del(p, reply_fields[i]);
        }
    }
    free(email);
}
