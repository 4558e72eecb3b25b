/*
 * dav_inbox.c — the scheduling inbox and outbox of a calendar home (RFC 6638 §2.2, §2.1):
 * /dav/calendars/{account}/inbox/ and /outbox/. The inbox holds the scheduling messages
 * the account received: each CalendarEventNotification (draft-ietf-jmap-calendars-27 §7)
 * that scheduling left there is one resource, an iTIP message (RFC 5546) rendered from
 * it — REQUEST for an invitation or an update, CANCEL for a cancellation, REPLY for an
 * attendee's answer to an event this account organises. PROPFIND (Depth 0/1), GET and
 * DELETE (the notification goes, as a JMAP client's dismissal) work; the outbox is an
 * empty collection (the server schedules implicitly, §3.2) that answers busy time
 * requests POSTed to it (§5, dav_outbox.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dav/dav_internal.h"
#include "formats/icalendar_jscalendar/ical.h"
#include "formats/json/patch.h"
#include "types/calendar_event.h"
#include "types/types.h"

#define NOTE_TYPE "CalendarEventNotification"

struct box {
    const struct store_access *acct;
    bool inbox;
    char item[256]; /* a member's name ("" for the collection) */
};

/* Recognises /dav/calendars/{account}/inbox/[item] and /outbox/. */
static bool box_parse(struct dav_ctx *x, const char *path, struct box *b)
{
    static const char prefix[] = "/dav/calendars/";
    memset(b, 0, sizeof *b);
    if (strncmp(path, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *p = path + sizeof prefix - 1;
    size_t n = strcspn(p, "/");
    for (int i = 0; i < x->u->naccounts && !b->acct; i++)
        if (strlen(x->u->accounts[i].account_id) == n &&
            strncmp(x->u->accounts[i].account_id, p, n) == 0)
            b->acct = &x->u->accounts[i];
    if (!b->acct || p[n] != '/')
        return false;
    p += n + 1;
    if (strncmp(p, "inbox/", 6) == 0)
        b->inbox = true;
    else if (strncmp(p, "outbox/", 7) != 0)
        return false;
    p += b->inbox ? 6 : 7;
    if (strchr(p, '/') || strlen(p) >= sizeof b->item || (*p && !b->inbox))
        return false;
    snprintf(b->item, sizeof b->item, "%s", p);
    return true;
}

static void box_href(const struct box *b, const char *item, struct buf *out)
{
    buf_puts(out, "/dav/calendars/");
    dav_xml_href(out, b->acct->account_id);
    buf_puts(out, b->inbox ? "/inbox/" : "/outbox/");
    if (item)
        dav_xml_href(out, item);
}

/* ---- the iTIP message of a notification ------------------------------------------------ */

static char *note_itip(struct dav_ctx *x, const struct box *b, json_t *note)
{
    /* the message as it arrived: the notification's event, with its patch for an update
     * (the event may have changed since) */
    const char *type = json_string_value(json_object_get(note, "type"));
    json_t *ev = json_deep_copy(json_object_get(note, "event"));
    json_t *patch = json_object_get(note, "eventPatch");
    if (!json_is_object(ev)) {
        json_decref(ev);
        return NULL;
    }
    if (type && strcmp(type, "updated") == 0 && json_is_object(patch))
        patch_apply(ev, patch, NULL);
    const char *eid = json_string_value(json_object_get(note, "calendarEventId"));
    json_t *now = eid ? store_object_get(x->c, b->acct->account_id, "CalendarEvent", eid) : NULL;
    bool origin = json_is_true(json_object_get(ev, "isOrigin")) ||
                  json_is_true(json_object_get(now, "isOrigin"));
    json_decref(now);
    const char *status = json_string_value(json_object_get(ev, "status"));
    const char *method = "REQUEST";
    if ((type && strcmp(type, "destroyed") == 0) || (status && strcmp(status, "cancelled") == 0))
        method = "CANCEL"; /* RFC 5546 §3.2.5: the organizer's DELETE cancels the copy */
    else if (origin)
        method = "REPLY"; /* an attendee answered the organizer (RFC 5546 §3.2.3) */
    static const char *const jmap_only[] = {"id",       "calendarIds", "isDraft",    "isOrigin",
                                            "utcStart", "utcEnd",      "baseEventId"};
    for (size_t i = 0; i < sizeof jmap_only / sizeof jmap_only[0]; i++)
        json_object_del(ev, jmap_only[i]);
    if (strcmp(method, "CANCEL") == 0)
        json_object_set_new(ev, "status", json_string("cancelled"));
    ical_writer *w = dav_ical_writer(x, method);
    struct buf out = {0};
    char *err = NULL, *s = ical_writer_begin(w);
    buf_puts(&out, s ? s : "");
    free(s);
    s = ical_writer_add(w, ev, &err);
    buf_puts(&out, s ? s : "");
    free(s);
    free(err);
    s = ical_writer_end(w);
    buf_puts(&out, s ? s : "");
    free(s);
    ical_writer_free(w);
    json_decref(ev);
    return buf_take(&out);
}

/* ---- PROPFIND ------------------------------------------------------------------------- */

/* The value of ns:name of the box (item NULL) or of an item (its modseq): 1, or 0. */
static int box_prop(struct dav_ctx *x, const struct box *b, const char *item, int64_t modseq,
                    const char *ns, const char *name, struct buf *v)
{
    bool dav = strcmp(ns, NS_DAV) == 0;
    char cal[64], seg[256];
    if (strcmp(ns, NS_CALDAV) == 0 && strcmp(name, "schedule-default-calendar-URL") == 0 &&
        b->inbox && !item && event_default_calendar(x->c, b->acct->account_id, cal) == 0) {
        /* §9.2: where the scheduling code puts invitations */
        dav_name_of(x->c, b->acct->account_id, "Calendar", cal, "", seg);
        buf_puts(v, "<D:href>/dav/calendars/");
        dav_xml_href(v, b->acct->account_id);
        buf_puts(v, "/");
        dav_xml_href(v, seg);
        buf_puts(v, "/</D:href>");
        return 1;
    }
    if (dav && strcmp(name, "resourcetype") == 0) {
        if (!item)
            buf_puts(v, b->inbox ? "<D:collection/><C:schedule-inbox/>"
                                 : "<D:collection/><C:schedule-outbox/>");
        return 1;
    }
    if (dav && strcmp(name, "displayname") == 0 && !item) {
        buf_puts(v, b->inbox ? "Inbox" : "Outbox");
        return 1;
    }
    if (dav && strcmp(name, "getetag") == 0) {
        buf_printf(
            v, "\"%lld\"",
            (long long)(item ? modseq : store_state_get(x->c, b->acct->account_id, NOTE_TYPE)));
        return 1;
    }
    if (dav && strcmp(name, "getcontenttype") == 0 && item) {
        buf_puts(v, "text/calendar; charset=utf-8");
        return 1;
    }
    if (dav && strcmp(name, "current-user-privilege-set") == 0) {
        buf_puts(v, "<D:privilege><D:read/></D:privilege>");
        if (b->acct->may_write)
            buf_puts(v, b->inbox ? "<D:privilege><D:unbind/></D:privilege><D:privilege>"
                                   "<C:schedule-deliver/></D:privilege>"
                                 : "<D:privilege><C:schedule-send/></D:privilege>");
        return 1;
    }
    return 0;
}

static void box_response(struct dav_ctx *x, const struct box *b, const char *item, int64_t modseq,
                         const xmlNode *prop, struct buf *out)
{
    struct buf ok = {0}, missing = {0}, v = {0};
    buf_puts(out, "<D:response><D:href>");
    box_href(b, item, out);
    buf_puts(out, "</D:href>");
    static const char *const all[][2] = {
        {NS_DAV, "resourcetype"}, {NS_DAV, "displayname"}, {NS_DAV, "getetag"}};
    bool allprop = !prop || !dav_xml_is(prop, NS_DAV, "prop");
    size_t n = allprop ? sizeof all / sizeof all[0] : 0;
    const xmlNode *p = allprop ? NULL : dav_xml_child(prop, NULL, NULL);
    for (size_t i = 0; allprop ? i < n : p != NULL; i++) {
        const char *ns = allprop ? all[i][0] : p->ns ? (const char *)p->ns->href : "";
        const char *name = allprop ? all[i][1] : (const char *)p->name;
        v.len = 0;
        if (box_prop(x, b, item, modseq, ns, name, &v)) {
            dav_prop_open(&ok, ns, name, !v.len);
            if (v.len) {
                buf_append(&ok, v.data, v.len);
                dav_prop_close(&ok, ns, name);
            }
        } else {
            dav_prop_open(&missing, ns, name, true);
        }
        if (!allprop)
            p = dav_xml_next((xmlNode *)p);
    }
    if (ok.len)
        buf_printf(out,
                   "<D:propstat><D:prop>%.*s</D:prop><D:status>HTTP/1.1 200 OK</D:status>"
                   "</D:propstat>",
                   (int)ok.len, ok.data);
    if (missing.len)
        buf_printf(out,
                   "<D:propstat><D:prop>%.*s</D:prop><D:status>HTTP/1.1 404 Not Found"
                   "</D:status></D:propstat>",
                   (int)missing.len, missing.data);
    buf_puts(out, "</D:response>");
    buf_free(&ok);
    buf_free(&missing);
    buf_free(&v);
}

struct listing {
    struct dav_ctx *x;
    const struct box *b;
    const xmlNode *prop;
    struct buf *out;
};

static int list_cb(const char *id, int64_t created, int64_t updated, bool destroyed, void *ud)
{
    struct listing *l = ud;
    (void)created;
    if (destroyed)
        return 0;
    char name[80];
    snprintf(name, sizeof name, "%s.ics", id);
    box_response(l->x, l->b, name, updated, l->prop, l->out);
    return 0;
}

static void box_propfind(struct dav_ctx *x, const struct box *b)
{
    const char *depth = x->q->depth;
    if (!depth || (strcmp(depth, "0") != 0 && strcmp(depth, "1") != 0)) {
        dav_error(x, 403, NS_DAV, "propfind-finite-depth", NULL);
        return;
    }
    xmlDoc *d = NULL;
    const xmlNode *prop = NULL;
    if (x->q->len) {
        const char *why;
        if (!(d = dav_xml_parse(x->q->body, x->q->len, &why))) {
            dav_reply(x, 400, "text/plain", xstrdup(why));
            return;
        }
        prop = dav_xml_child(xmlDocGetRootElement(d), NULL, NULL);
    }
    struct buf out = {0};
    dav_ms_begin(&out);
    int64_t modseq = b->item[0] ? -1 : 0;
    char id[64] = "";
    if (b->item[0]) {
        snprintf(id, sizeof id, "%.*s", (int)strcspn(b->item, "."), b->item);
        modseq = store_object_modseq(x->c, b->acct->account_id, NOTE_TYPE, id);
    }
    if (modseq < 0) {
        buf_free(&out);
        xmlFreeDoc(d);
        dav_reply(x, 404, "text/plain", xstrdup("not found\n"));
        return;
    }
    box_response(x, b, b->item[0] ? b->item : NULL, modseq, prop, &out);
    if (depth[0] == '1' && !b->item[0] && b->inbox) {
        struct listing l = {x, b, prop, &out};
        store_changes(x->c, b->acct->account_id, NOTE_TYPE, 0, 0, list_cb, &l);
    }
    dav_ms_end(&out);
    xmlFreeDoc(d);
    dav_reply_xml(x, 207, &out);
}

/* ---- GET and DELETE of an inbox item ------------------------------------------------ */

static void box_item(struct dav_ctx *x, const struct box *b, bool del)
{
    char id[64];
    snprintf(id, sizeof id, "%.*s", (int)strcspn(b->item, "."), b->item);
    json_t *note = store_object_get(x->c, b->acct->account_id, NOTE_TYPE, id);
    if (!note) {
        dav_reply(x, 404, "text/plain", xstrdup("not found\n"));
        return;
    }
    if (del) {
        if (!b->acct->may_write) {
            dav_need_privilege(x, NULL, true, NS_DAV, "unbind"); /* RFC 3744 §7.2 DELETE */
        } else {
            json_t *args =
                json_pack("{s:s, s:[s]}", "accountId", b->acct->account_id, "destroy", id);
            json_t *res = dav_jmap_call(x, &dav_calendars, NOTE_TYPE "/set", args);
            bool ok = res && !json_object_get(json_object_get(res, "notDestroyed"), id);
            dav_reply(x, ok ? 204 : 403, NULL, NULL);
            json_decref(args);
            json_decref(res);
        }
        json_decref(note);
        return;
    }
    char *text = note_itip(x, b, note);
    snprintf(x->out->etag, sizeof x->out->etag, "\"%lld\"",
             (long long)store_object_modseq(x->c, b->acct->account_id, NOTE_TYPE, id));
    if (text)
        dav_reply(x, 200, "text/calendar; charset=utf-8", text);
    else
        dav_reply(x, 500, "text/plain", xstrdup("the message cannot be rendered\n"));
    json_decref(note);
}

bool dav_inbox_handle(struct dav_ctx *x, const char *path)
{
    struct box b;
    if (!box_parse(x, path, &b))
        return false;
    const char *m = x->q->method;
    if (strcmp(m, "PROPFIND") == 0)
        box_propfind(x, &b);
    else if (b.item[0] && (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0))
        box_item(x, &b, false);
    else if (b.item[0] && strcmp(m, "DELETE") == 0)
        box_item(x, &b, true);
    else if (!b.inbox && strcmp(m, "POST") == 0)
        dav_outbox_post(x, b.acct); /* RFC 6638 §5: busy time */
    else if (strcmp(m, "REPORT") == 0)
        dav_error(x, 403, NS_DAV, "supported-report", NULL);
    else
        dav_reply(x, 405, "text/plain", xstrdup("method not allowed here\n"));
    return true;
}
