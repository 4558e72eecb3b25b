/*
 * imip.c — outgoing iMIP (RFC 6047): scheduling messages for addresses outside
 * this server, mailed through the configured SMTP relay (smtp_url, smtp_user,
 * smtp_password; libcurl). A message is queued in the same transaction as the
 * change it announces (an outbox object under OUTBOX_ACCOUNT, so nothing is sent
 * for a change that did not commit, and nothing queued is lost by a restart);
 * imip_drain(), run after each API request, sends what is queued and removes what
 * the relay accepted.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats/icalendar_jscalendar/ical.h"
#include "jmap/engine.h"
#include "types/types.h"
#include "util/util.h"

/* Real account ids start with "a": never this one. */
#define OUTBOX_ACCOUNT "_outbox"

static const struct jprop outbox_props[] = {
    {"id", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {NULL, 0, NULL},
};

/* Not registered: no methods, no push (written with r NULL). */
static const struct jtype outbox_type = {
    .name = "ImipOutbox",
    .props = outbox_props,
    .id_prefix = 'm',
};

static atomic_bool queued = true; /* something may wait (true at start: a restart) */

/* The event as iCalendar text with METHOD (RFC 5546 §3.2), or NULL. */
static char *itip_text(const char *method, json_t *ev)
{
    json_t *js = json_copy(ev);
    static const char *const jmap_only[] = {"id",       "calendarIds",   "isDraft",
                                            "isOrigin", "baseEventId",   "utcStart",
                                            "utcEnd",   "mayInviteSelf", "mayInviteOthers"};
    for (size_t i = 0; i < sizeof jmap_only / sizeof jmap_only[0]; i++)
        json_object_del(js, jmap_only[i]);
    ical_writer *w = ical_writer_new("-//jmapd//EN", method);
    char *err = NULL, *head = ical_writer_begin(w), *body = ical_writer_add(w, js, &err),
         *tail = ical_writer_end(w);
    char *text = body ? xasprintf("%s%s%s", head ? head : "", body, tail ? tail : "") : NULL;
    if (!body)
        log_warn("iMIP: cannot convert event %s: %s", json_string_value(json_object_get(ev, "uid")),
                 err ? err : "?");
    free(head);
    free(body);
    free(tail);
    free(err);
    ical_writer_free(w);
    json_decref(js);
    return text;
}

static const char *bare(const char *address)
{
    return strncasecmp(address, "mailto:", 7) == 0 ? address + 7 : address;
}

static void mail_date(char date[64])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, 64, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* One message into the outbox, in the caller's transaction. */
static int outbox_put(struct store_conn *c, const char *id, const char *from, const char *to,
                      const char *msg)
{
    json_t *obj = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "from", bare(from), "to", bare(to),
                            "message", msg);
    int rc = jmap_object_write(c, NULL, &outbox_type, OUTBOX_ACCOUNT, id, obj, true);
    json_decref(obj);
    queued = true;
    return rc ? -1 : 0;
}

int imip_queue(struct store_conn *c, const char *method, json_t *ev, const char *from,
               const char *to)
{
    char *ics = itip_text(method, ev);
    if (!ics)
        return -1;
    char date[64], id[16];
    mail_date(date);
    util_random_id(id, 12, outbox_type.id_prefix);
    const char *title = json_string_value(json_object_get(ev, "title"));
    const char *what = !strcmp(method, "REQUEST")          ? "Invitation"
                       : !strcmp(method, "CANCEL")         ? "Cancelled"
                       : !strcmp(method, "COUNTER")        ? "Proposed change"
                       : !strcmp(method, "DECLINECOUNTER") ? "Proposal declined"
                                                           : "Reply";
    /* RFC 6047 §2: one text/calendar body whose method parameter is the iTIP method */
    char *msg =
        xasprintf("From: <%s>\r\nTo: <%s>\r\nSubject: %s: %s\r\nDate: %s\r\n"
                  "Message-ID: <%s@jmapd>\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: text/calendar; charset=utf-8; method=%s\r\n"
                  "Content-Transfer-Encoding: 8bit\r\n\r\n%s",
                  bare(from), bare(to), what, title ? title : "(no title)", date, id, method, ics);
    int rc = outbox_put(c, id, from, to, msg);
    free(msg);
    free(ics);
    return rc;
}

int imip_queue_mail(struct store_conn *c, const char *from, const char *to, const char *subject,
                    const char *body)
{
    char date[64], id[16];
    mail_date(date);
    util_random_id(id, 12, outbox_type.id_prefix);
    char *msg = xasprintf("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nDate: %s\r\n"
                          "Message-ID: <%s@jmapd>\r\nMIME-Version: 1.0\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n"
                          "Content-Transfer-Encoding: 8bit\r\n\r\n%s",
                          bare(from), bare(to), subject, date, id, body);
    int rc = outbox_put(c, id, from, to, msg);
    free(msg);
    return rc;
}

/* ---- sending --------------------------------------------------------------------------- */

struct reader {
    const char *data;
    size_t len, off;
};

static size_t read_cb(char *out, size_t size, size_t n, void *ud)
{
    struct reader *r = ud;
    size_t k = size * n < r->len - r->off ? size * n : r->len - r->off;
    memcpy(out, r->data + r->off, k);
    r->off += k;
    return k;
}

static bool smtp_send(const struct config *cfg, json_t *m)
{
    const char *from = json_string_value(json_object_get(m, "from")),
               *to = json_string_value(json_object_get(m, "to")),
               *msg = json_string_value(json_object_get(m, "message"));
    if (!from || !to || !msg)
        return true; /* unusable: dropped */
    CURL *h = curl_easy_init();
    if (!h)
        return false;
    char *mfrom = xasprintf("<%s>", from), *mto = xasprintf("<%s>", to);
    struct curl_slist *rcpt = curl_slist_append(NULL, mto);
    struct reader rd = {msg, strlen(msg), 0};
    curl_easy_setopt(h, CURLOPT_URL, cfg->smtp_url);
    if (cfg->smtp_user[0]) {
        curl_easy_setopt(h, CURLOPT_USERNAME, cfg->smtp_user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->smtp_password);
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, mfrom);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, &rd);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK)
        log_warn("iMIP: sending to %s failed: %s (kept for a later try)", to,
                 curl_easy_strerror(rc));
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    free(mfrom);
    free(mto);
    return rc == CURLE_OK;
}

static int collect_cb(const char *id, json_t *obj, void *ud)
{
    json_array_append(ud, obj);
    return json_array_size(ud) >= 100; /* a batch at a time */
}

static pthread_mutex_t drain_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void imip_retry(struct jmap_server *srv)
{
    queued = true; /* another process (`jmapd deliver`) may have queued some */
    imip_drain(srv);
}

static int outbox_del(struct store_conn *c, void *id)
{
    return jmap_object_write(c, NULL, &outbox_type, OUTBOX_ACCOUNT, id, NULL, false);
}

void imip_drain(struct jmap_server *srv)
{
    if (!srv->cfg->smtp_url[0] || !atomic_exchange(&queued, false))
        return;
    if (pthread_mutex_trylock(&drain_lock) != 0) {
        queued = true; /* another thread is sending: it may miss this one */
        return;
    }
    pthread_once(&curl_once, curl_start);
    struct store_conn *c = store_conn(srv->store);
    json_t *batch = json_array();
    if (c && store_begin(c, false) == STORE_OK) {
        store_object_foreach(c, OUTBOX_ACCOUNT, outbox_type.name, collect_cb, batch);
        store_rollback(c);
    }
    size_t i;
    json_t *m;
    json_array_foreach(batch, i, m)
    {
        if (!smtp_send(srv->cfg, m)) {
            queued = true;
            continue;
        }
        const char *id = json_string_value(json_object_get(m, "id"));
        /* sent: a refused destroy is run again, else the next drain sends it twice */
        if (id)
            store_write(c, outbox_del, (void *)id, "imip");
    }
    if (json_array_size(batch) >= 100)
        queued = true;
    json_decref(batch);
    pthread_mutex_unlock(&drain_lock);
}
