/*
 * deliver.c — `jmapd deliver --user NAME`: one incoming iMIP message (RFC 6047) on
 * stdin, as an MTA's pipe or an LMTP wrapper hands it over (RFC 5322 with MIME,
 * RFC 2045/2046). The text/calendar part's iTIP method (RFC 5546) is applied to the
 * user's data by scheduling_apply(); a message that does not match an event of the
 * user or cannot be trusted is refused with a message on stderr and changes nothing.
 * Exit status: 0 applied, 1 refused or unreadable, 2 usage.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "formats/icalendar_jscalendar/ical.h"
#include "jmap/jmap.h"
#include "types/types.h"
#include "util/util.h"

#define MAX_MESSAGE (16u << 20)

/* The value of header name in the header block [h, end) (unfolded, new), or NULL. */
static char *header_get(const char *h, const char *end, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = h; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        eol = eol ? eol : end;
        if ((size_t)(eol - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            struct buf b = {0};
            const char *v = line + n + 1;
            for (;;) {
                const char *e = eol > v && eol[-1] == '\r' ? eol - 1 : eol;
                buf_append(&b, v, (size_t)(e - v));
                if (eol >= end || (eol[1] != ' ' && eol[1] != '\t'))
                    break;
                v = eol + 1; /* RFC 5322 §2.2.3 unfolding */
                eol = memchr(v, '\n', (size_t)(end - v));
                eol = eol ? eol : end;
            }
            buf_puts(&b, "");
            char *s = b.data;
            while (*s == ' ' || *s == '\t')
                s++;
            char *out = xstrdup(s);
            buf_free(&b);
            return out;
        }
        line = eol + 1;
    }
    return NULL;
}

/* The end of the header block starting at p (the empty line), or NULL. */
static const char *headers_end(const char *p, const char *end, const char **body)
{
    for (const char *q = p; q < end; q++) {
        if (*q != '\n')
            continue;
        const char *r = q + 1;
        if (r < end && *r == '\r')
            r++;
        if (r < end && *r == '\n') {
            *body = r + 1;
            return q + 1;
        }
        if (r >= end) {
            *body = end;
            return end;
        }
    }
    return NULL;
}

/* A Content-Type parameter (boundary, method), new, or NULL. */
static char *ct_param(const char *ct, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = ct; (p = strchr(p, ';'));) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, name, n) || p[n] != '=')
            continue;
        p += n + 1;
        bool q = *p == '"';
        p += q;
        size_t len = strcspn(p, q ? "\"" : "; \t");
        return xstrndup(p, len);
    }
    return NULL;
}

/* The decoded body of a part (RFC 2045 §6: base64, quoted-printable, 7bit, 8bit). */
static char *decode(const char *body, const char *end, const char *cte, size_t *len)
{
    struct buf b = {0};
    if (cte && strcasecmp(cte, "base64") == 0) {
        for (const char *p = body; p < end; p++) /* lines of base64: the text alone */
            if (!isspace((unsigned char)*p))
                buf_append(&b, p, 1);
        buf_puts(&b, "");
        unsigned char *raw = util_base64_decode(b.data, b.len, len);
        buf_free(&b);
        if (!raw)
            return NULL;
        char *out = xmalloc(*len + 1); /* text: NUL-terminated */
        memcpy(out, raw, *len);
        out[*len] = 0;
        free(raw);
        return out;
    }
    if (cte && strcasecmp(cte, "quoted-printable") == 0) {
        for (const char *p = body; p < end; p++) {
            if (*p == '=' && p + 1 < end && (p[1] == '\n' || p[1] == '\r')) {
                p += p[1] == '\r' && p + 2 < end && p[2] == '\n' ? 2 : 1; /* soft break */
            } else if (*p == '=' && p + 2 < end && isxdigit((unsigned char)p[1]) &&
                       isxdigit((unsigned char)p[2])) {
                char hex[3] = {p[1], p[2], 0};
                char ch = (char)strtol(hex, NULL, 16);
                buf_append(&b, &ch, 1);
                p += 2;
            } else {
                buf_append(&b, p, 1);
            }
        }
    } else {
        buf_append(&b, body, (size_t)(end - body));
    }
    buf_puts(&b, "");
    *len = b.len;
    return b.data;
}

/* Finds the text/calendar part of the entity [p, end) (depth-first through
 * multiparts): its decoded text, and the METHOD parameter into *method. */
static char *find_calendar(const char *p, const char *end, int depth, char **method, size_t *len)
{
    const char *body;
    const char *hend = headers_end(p, end, &body);
    if (!hend || depth > 8)
        return NULL;
    char *ct = header_get(p, hend, "Content-Type");
    char *cte = header_get(p, hend, "Content-Transfer-Encoding");
    char *out = NULL;
    if (ct && (strncasecmp(ct, "text/calendar", 13) == 0 ||
               strncasecmp(ct, "application/ics", 15) == 0)) {
        *method = ct_param(ct, "method");
        out = decode(body, end, cte, len);
    } else if (ct && strncasecmp(ct, "multipart/", 10) == 0) {
        char *boundary = ct_param(ct, "boundary");
        char *delim = boundary ? xasprintf("--%s", boundary) : NULL;
        size_t dl = delim ? strlen(delim) : 0;
        const char *part = NULL;
        for (const char *q = body; delim && q && q < end && !out;) {
            const char *hit = memmem(q, (size_t)(end - q), delim, dl);
            if (!hit)
                break;
            if (part) /* the part ends before the CRLF that precedes the delimiter */
                out = find_calendar(part, hit > part && hit[-1] == '\n' ? hit - 1 : hit, depth + 1,
                                    method, len);
            const char *after = hit + dl;
            if (after + 1 < end && after[0] == '-' && after[1] == '-')
                break;
            const char *nl = memchr(after, '\n', (size_t)(end - after));
            part = nl ? nl + 1 : NULL;
            q = part;
        }
        free(delim);
        free(boundary);
    }
    free(ct);
    free(cte);
    return out;
}

/* The address in a From header ("Name <a@b>" or "a@b") as mailto:, new. */
static char *from_address(const char *from)
{
    const char *lt = strchr(from, '<');
    const char *a = lt ? lt + 1 : from;
    size_t n = strcspn(a, lt ? ">" : " \t\r\n");
    return n ? xasprintf("mailto:%.*s", (int)n, a) : NULL;
}

/* Applies each event and task of the calendar; 0 when all applied. */
static int apply_all(struct store_conn *c, const char *account, json_t *group, const char *from,
                     const char *method)
{
    json_t *entries = json_object_get(group, "entries");
    size_t i;
    json_t *ev;
    int n = 0;
    json_array_foreach(entries, i, ev)
    {
        const char *type = json_string_value(json_object_get(ev, "@type"));
        if (!type || (strcmp(type, "Event") && strcmp(type, "Task")))
            continue; /* VEVENT, and VTODO for tasks' assignees (RFC 5546 §3.4) */
        const char *why = NULL;
        if (scheduling_apply(c, account, method, ev, from, &why) != 0) {
            fprintf(stderr, "jmapd deliver: refused %s from %s: %s\n", method, from + 7,
                    why ? why : "cannot apply it");
            return -1;
        }
        n++;
    }
    if (!n)
        fprintf(stderr, "jmapd deliver: the calendar holds no event or task\n");
    return n ? 0 : -1;
}

/* One message applied in a write transaction of its own, run again from a copy of the
 * converted calendar when the database refuses it (issue 15 §1). */
struct delivery {
    const char *user;
    json_t *group;
    const char *from, *method;
    int user_rc;
    bool ran; /* the transaction began */
};

static int deliver_write(struct store_conn *c, void *ud)
{
    struct delivery *d = ud;
    struct store_user u = {0};
    d->ran = true;
    d->user_rc = store_user_get(c, d->user, &u);
    int rc = d->user_rc;
    if (rc == STORE_OK) {
        json_t *group = json_deep_copy(d->group); /* the run may change it */
        rc = apply_all(c, u.account_id, group, d->from, d->method) ? STORE_ERR : STORE_OK;
        json_decref(group);
    }
    store_user_clear(&u);
    return rc;
}

/* RFC 5546 §3.2.6: a REFRESH has no DTSTART, which a JSCalendar Event needs; one is put
 * in so it can be read (REFRESH uses only the UID and the sender). New text or NULL. */
static char *refresh_fill(const char *ics, size_t *len)
{
    if (!strcasestr(ics, "METHOD:REFRESH") || strcasestr(ics, "DTSTART"))
        return NULL;
    const char *at = strstr(ics, "BEGIN:VEVENT");
    const char *eol = at ? strchr(at, '\n') : NULL;
    if (!eol)
        return NULL;
    char *out = xasprintf("%.*sDTSTART:19700101T000000Z\r\n%s", (int)(eol + 1 - ics), ics, eol + 1);
    *len = strlen(out);
    return out;
}

static int deliver_message(struct store *st, const char *user, const char *msg, size_t len)
{
    const char *end = msg + len, *body;
    const char *hend = headers_end(msg, end, &body);
    char *from_h = hend ? header_get(msg, hend, "From") : NULL;
    char *from = from_h ? from_address(from_h) : NULL;
    char *method = NULL;
    size_t ics_len = 0;
    char *ics = hend ? find_calendar(msg, end, 0, &method, &ics_len) : NULL;
    char *filled = ics ? refresh_fill(ics, &ics_len) : NULL;
    if (filled) {
        free(ics);
        ics = filled;
    }
    char *err = NULL;
    json_t *group = ics ? ical_to_jscal(ics, ics_len, ICAL_TO_JSCAL_GROUP, &err) : NULL;
    /* the METHOD of the VCALENDAR wins over the Content-Type parameter (RFC 6047 §2.4) */
    const char *m = json_string_value(json_object_get(group, "method"));
    m = m ? m : method;
    int status = 1;
    struct store_conn *c = store_conn(st);
    if (!from || !ics)
        fprintf(stderr, "jmapd deliver: %s\n",
                !from ? "the message has no From address"
                      : "the message has no text/calendar part");
    else if (!group)
        fprintf(stderr, "jmapd deliver: the calendar cannot be read: %s\n", err ? err : "?");
    else if (!m)
        fprintf(stderr, "jmapd deliver: the calendar has no METHOD (not an iTIP message)\n");
    else {
        struct delivery d = {user, group, from, m, STORE_OK, false};
        int rc = store_write(c, deliver_write, &d, "deliver"); /* nothing changes unless 0 */
        if (!d.ran)
            fprintf(stderr, "jmapd deliver: the database is busy\n");
        else if (d.user_rc == STORE_NOTFOUND)
            fprintf(stderr, "jmapd deliver: no such user\n");
        else if (rc && store_retryable(c))
            fprintf(stderr, "jmapd deliver: %s\n", cli_write_error(c, NULL));
        else if (rc == STORE_OK) {
            printf("applied %s from %s for %s\n", m, from + 7, user);
            status = 0;
        }
    }
    json_decref(group);
    free(err);
    free(ics);
    free(method);
    free(from);
    free(from_h);
    return status;
}

int cli_deliver(int argc, char **argv)
{
    struct config cfg;
    if (cli_options(&cfg, &argc, argv))
        return 2;
    const char *user = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--user") == 0)
            user = argv[i + 1];
    if (!user) {
        fputs("usage: jmapd deliver --user NAME < MESSAGE\n", stderr);
        return 2;
    }
    struct buf msg = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0 && msg.len <= MAX_MESSAGE)
        buf_append(&msg, chunk, n);
    if (msg.len > MAX_MESSAGE) {
        buf_free(&msg);
        fputs("jmapd deliver: the message is too large\n", stderr);
        return 1;
    }
    buf_puts(&msg, "");
    struct store *st = cli_store(&cfg);
    int status = st ? deliver_message(st, user, msg.data, msg.len) : 1;
    if (st)
        store_close(st);
    buf_free(&msg);
    return status;
}
