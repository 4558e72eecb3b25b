/*
 * request.c — processing one JMAP API request (RFC 8620 §3): parse and check the
 * Request object, resolve result references (§3.7), dispatch each call in order to
 * the method registry, collect the responses, and publish state changes to push
 * after each call's commit. Also the error catalogue and argument checking that
 * every method shares.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats/json/patch.h"
#include "formats/json/writer.h"
#include "jmap/engine.h"
#include "jmap/metadata.h"
#include "push/hub.h"
#include "util/answer_mem.h"
#include "util/util.h"

/* ---- errors ----------------------------------------------------------------------- */

char *jmap_problem(const char *type, int status, const char *detail, const char *limit)
{
    /* the detail may quote the client's bytes (a parser's error text): keep it
     * printable ASCII so the document is always valid JSON */
    char clean[512];
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)detail; *c && n < sizeof clean - 1; c++)
        clean[n++] = *c >= 0x20 && *c < 0x7f ? (char)*c : '?';
    clean[n] = 0;
    json_t *p = json_pack("{s:s, s:i, s:s}", "type", type, "status", status, "detail", clean);
    if (limit)
        json_object_set_new(p, "limit", json_string(limit));
    char *s = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    return s;
}

void jmap_respond(struct jmap_req *r, const char *name, json_t *args)
{
    assert(json_is_object(args)); /* stolen: a response's arguments are an object */
    /* RFC 8620 §3.4: the call id comes back exactly as sent */
    json_t *call_id = r->call_id_value ? json_incref(r->call_id_value) : json_string(r->call_id);
    json_array_append_new(r->responses, json_pack("[s, o, o]", name, args, call_id));
}

__attribute__((format(printf, 2, 0))) static json_t *vdescribed(const char *type, const char *fmt,
                                                                va_list ap)
{
    json_t *e = json_pack("{s:s}", "type", type);
    if (fmt) {
        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) >= 0) {
            json_object_set_new(e, "description", json_string(msg));
            free(msg);
        }
    }
    return e;
}

void jmap_error(struct jmap_req *r, const char *type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *e = vdescribed(type, fmt, ap);
    va_end(ap);
    jmap_respond(r, "error", e);
}

json_t *jmap_seterror(const char *type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *e = vdescribed(type, fmt, ap);
    va_end(ap);
    return e;
}

json_t *jmap_seterror_props(json_t *properties, const char *description)
{
    assert(json_is_array(properties)); /* stolen */
    json_t *e = json_pack("{s:s, s:o}", "type", "invalidProperties", "properties", properties);
    if (description)
        json_object_set_new(e, "description", json_string(description));
    return e;
}

/* ---- ids, accounts, states ----------------------------------------------------------- */

const char *jmap_resolve_id(struct jmap_req *r, const char *id)
{
    if (id[0] != '#')
        return id;
    json_t *v = json_object_get(r->created_ids, id + 1);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const struct store_access *jmap_account(struct jmap_req *r, json_t *args, const char *key,
                                        bool write)
{
    json_t *v = json_object_get(args, key);
    if (!json_is_string(v)) {
        jmap_error(r, "invalidArguments", "%s must be an Id", key);
        return NULL;
    }
    const char *id = json_string_value(v);
    for (int i = 0; i < r->user->naccounts; i++) {
        const struct store_access *a = &r->user->accounts[i];
        if (strcmp(a->account_id, id) != 0)
            continue;
        if (r->capability && !jmap_account_has(r->capability, a)) {
            jmap_error(r, "accountNotSupportedByMethod", "account %s does not support %s", id,
                       r->method);
            return NULL;
        }
        if (write && !a->may_write) {
            jmap_error(r, "accountReadOnly", "account %s is read-only", id);
            return NULL;
        }
        engine_snapshot_scope(a->shared ? r->user->name : "");
        engine_snapshot_user(r->user->name);
        return a;
    }
    /* RFC 8620 §5.4, §6.3: the source account of a copy has its own error */
    jmap_error(r, strcmp(key, "fromAccountId") == 0 ? "fromAccountNotFound" : "accountNotFound",
               "no account %s", id);
    return NULL;
}

void jmap_note_change(struct jmap_req *r, const char *account, const char *type, int64_t state)
{
    json_t *acct = json_object_get(r->changed, account);
    if (!acct) {
        acct = json_object();
        json_object_set_new(r->changed, account, acct);
    }
    json_object_set_new(acct, type, jmap_state_string(state));
}

/* State strings are the decimal modseq: opaque to clients (RFC 8620 §1.2 only asks
 * that they change when data does) and cheap to parse back for /changes. */
json_t *jmap_state_string(int64_t modseq)
{
    char s[32];
    snprintf(s, sizeof s, "%lld", (long long)modseq);
    return json_string(s);
}

int64_t jmap_state_parse(const char *s)
{
    if (!s || !*s || strlen(s) > 18 || (s[0] == '0' && s[1]))
        return -1;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

/* ---- argument checking ------------------------------------------------------------------- */

static const struct argspec *spec_find(const struct argspec *a, const char *name)
{
    for (; a && a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

static bool is_uint(json_t *v)
{
    /* RFC 8620 §1.3: UnsignedInt is 0 <= n <= 2^53-1 */
    return json_is_integer(v) && json_integer_value(v) >= 0 &&
           json_integer_value(v) <= 9007199254740991LL;
}

static bool is_int(json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= -9007199254740991LL &&
           json_integer_value(v) <= 9007199254740991LL;
}

static bool kind_ok(json_t *v, enum arg_kind kind, unsigned flags)
{
    size_t i;
    json_t *item;
    switch (kind) {
    case ARG_ANY:
        return true;
    case ARG_ID:
        /* RFC 8620 §1.2: an Id is 1-255 of [A-Za-z0-9_-], so never a U+0000 */
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
            return false;
        if ((flags & ARG_REF) && json_string_value(v)[0] == '#')
            return util_is_jmap_id(json_string_value(v) + 1);
        return util_is_jmap_id(json_string_value(v));
    case ARG_STRING:
        return json_is_string(v);
    case ARG_BOOL:
        return json_is_boolean(v);
    case ARG_UINT:
        return is_uint(v);
    case ARG_INT:
        return is_int(v);
    case ARG_OBJECT:
        return json_is_object(v);
    case ARG_ARRAY:
        return json_is_array(v);
    case ARG_ID_ARRAY:
    case ARG_STRING_ARRAY:
        if (!json_is_array(v))
            return false;
        json_array_foreach(v, i, item)
        {
            if (!kind_ok(item, kind == ARG_ID_ARRAY ? ARG_ID : ARG_STRING, flags))
                return false;
        }
        return true;
    }
    return false;
}

int jmap_args_check(struct jmap_req *r, json_t *args, const struct argspec *a,
                    const struct argspec *b)
{
    const char *key;
    json_t *v;
    json_object_foreach(args, key, v)
    {
        const struct argspec *s = spec_find(a, key);
        if (!s)
            s = spec_find(b, key);
        if (!s) {
            jmap_error(r, "invalidArguments", "unknown argument '%s'", key);
            return -1;
        }
        if (json_is_null(v) && !(s->flags & ARG_REQUIRED))
            continue; /* omitted and null are the same for optional arguments */
        if (json_is_null(v) && (s->flags & ARG_NULLABLE))
            continue;
        if (!kind_ok(v, s->kind, s->flags)) {
            jmap_error(r, "invalidArguments", "argument '%s' has the wrong type or value", key);
            return -1;
        }
    }
    for (int pass = 0; pass < 2; pass++)
        for (const struct argspec *s = pass ? b : a; s && s->name; s++)
            if ((s->flags & ARG_REQUIRED) && !json_object_get(args, s->name)) {
                jmap_error(r, "invalidArguments", "argument '%s' is required", s->name);
                return -1;
            }
    return 0;
}

/* ---- result references (RFC 8620 §3.7) ------------------------------------------------------ */

/* Replaces every "#name" argument by the value its ResultReference points at.
 * Returns 0, or -1 after emitting the method error. */
static int resolve_references(struct jmap_req *r, json_t *args)
{
    const char *key;
    json_t *ref;
    void *tmp;
    json_object_foreach_safe(args, tmp, key, ref)
    {
        if (key[0] != '#')
            continue;
        if (json_object_get(args, key + 1)) {
            jmap_error(r, "invalidArguments", "both '%s' and '%s' given", key, key + 1);
            return -1;
        }
        json_t *of = json_object_get(ref, "resultOf"), *name = json_object_get(ref, "name"),
               *path = json_object_get(ref, "path");
        if (!json_is_object(ref) || !json_is_string(of) || !json_is_string(name) ||
            !json_is_string(path)) {
            jmap_error(r, "invalidResultReference", "'%s' is not a ResultReference", key);
            return -1;
        }
        json_t *found = NULL;
        size_t i;
        json_t *resp;
        json_array_foreach(r->responses, i, resp)
        {
            if (strcmp(json_string_value(json_array_get(resp, 2)), json_string_value(of)) == 0) {
                found = resp;
                break; /* the first response with that call id */
            }
        }
        if (!found ||
            strcmp(json_string_value(json_array_get(found, 0)), json_string_value(name)) != 0) {
            jmap_error(r, "invalidResultReference", "no %s response for call '%s'",
                       json_string_value(name), json_string_value(of));
            return -1;
        }
        json_t *value = jpointer_eval(json_array_get(found, 1), json_string_value(path));
        if (!value) {
            jmap_error(r, "invalidResultReference", "path '%s' does not resolve",
                       json_string_value(path));
            return -1;
        }
        char *plain = xstrdup(key + 1);
        json_object_del(args, key);
        json_object_set_new(args, plain, value);
        free(plain);
    }
    return 0;
}

/* ---- the method registry ---------------------------------------------------------------------- */

struct method {
    const char *name;
    const char *capability;
    jmap_method_fn fn;
    const struct jtype *type;
    int (*std)(struct jmap_req *, const struct jtype *, json_t *);
    int64_t cost_ns; /* its late calls' running time, smoothed (method_cost_note); 0: none yet */
};

#define MAX_METHODS 256
static struct method methods[MAX_METHODS];
static size_t nmethods;
static const struct jtype *types[64];
static size_t ntypes;

static void add_method(const char *name, const char *cap, jmap_method_fn fn, const struct jtype *t,
                       int (*std)(struct jmap_req *, const struct jtype *, json_t *))
{
    assert(nmethods < MAX_METHODS); /* a fixed table, sized for the server's methods */
    methods[nmethods++] = (struct method){name, cap, fn, t, std, 0};
}

void jmap_register_method(const char *name, const char *capability, jmap_method_fn fn)
{
    add_method(name, capability, fn, NULL, NULL);
}

void jmap_register_type(const struct jtype *t)
{
    static const struct {
        unsigned bit;
        const char *suffix;
        int (*fn)(struct jmap_req *, const struct jtype *, json_t *);
    } std[] = {
        {JM_GET, "get", jmap_std_get},
        {JM_SET, "set", jmap_std_set},
        {JM_CHANGES, "changes", jmap_std_changes},
        {JM_QUERY, "query", jmap_std_query},
        {JM_QUERYCHANGES, "queryChanges", jmap_std_query_changes},
        {JM_COPY, "copy", jmap_std_copy},
    };
    assert(ntypes < sizeof types / sizeof types[0]);
    types[ntypes++] = t;
    for (size_t i = 0; i < sizeof std / sizeof std[0]; i++) {
        if (!(t->methods & std[i].bit))
            continue;
        char *name = NULL;
        name = xasprintf("%s/%s", t->name, std[i].suffix);
        add_method(name, t->capability, NULL, t, std[i].fn); /* lives for the process */
    }
}

const struct jtype *jmap_type_find(const char *name)
{
    for (size_t i = 0; i < ntypes; i++)
        if (strcmp(types[i]->name, name) == 0)
            return types[i];
    return NULL;
}

size_t jmap_type_count(void)
{
    return ntypes;
}

const struct jtype *jmap_type_at(size_t i)
{
    return i < ntypes ? types[i] : NULL;
}

static const struct method *method_find(const char *name)
{
    for (size_t i = 0; i < nmethods; i++)
        if (strcmp(methods[i].name, name) == 0)
            return &methods[i];
    return NULL;
}

static bool using_has(json_t *using, const char *cap)
{
    size_t i;
    json_t *v;
    json_array_foreach(using, i, v)
    {
        if (strcmp(json_string_value(v), cap) == 0)
            return true;
    }
    return false;
}

/* ---- the request ----------------------------------------------------------------------------- */

static void set_result_n(struct jmap_result *out, int status, char *body, size_t len, bool problem)
{
    out->status = status;
    out->body = body;
    out->len = len;
    out->problem = problem;
}

static void set_result(struct jmap_result *out, int status, char *body, bool problem)
{
    set_result_n(out, status, body, body ? strlen(body) : 0, problem);
}

static void problem(struct jmap_result *out, const char *type, const char *detail,
                    const char *limit)
{
    set_result(out, 400, jmap_problem(type, 400, detail, limit), true);
}

/* RFC 8620 §3.3: {using: String[], methodCalls: Invocation[], createdIds?: Id[Id]} */
static const char *request_shape_error(json_t *req)
{
    if (!json_is_object(req))
        return "the request is not a JSON object";
    json_t *using = json_object_get(req, "using"), *calls = json_object_get(req, "methodCalls"),
           *created = json_object_get(req, "createdIds");
    if (!json_is_array(using))
        return "'using' must be an array of capability URIs";
    size_t i;
    json_t *v;
    json_array_foreach(using, i, v)
    {
        if (!json_is_string(v))
            return "'using' must be an array of strings";
    }
    if (!json_is_array(calls))
        return "'methodCalls' must be an array";
    json_array_foreach(calls, i, v)
    {
        if (!json_is_array(v) || json_array_size(v) != 3 || !json_is_string(json_array_get(v, 0)) ||
            !json_is_object(json_array_get(v, 1)) || !json_is_string(json_array_get(v, 2)))
            return "each method call must be [name, arguments object, call id]";
    }
    if (created) {
        if (!json_is_object(created))
            return "'createdIds' must be an object";
        const char *k;
        json_object_foreach(created, k, v)
        {
            if (!json_is_string(v) || !util_is_jmap_id(json_string_value(v)))
                return "'createdIds' values must be Ids";
        }
    }
    return NULL;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A call of m took ns: a dearer call than the smoothed cost counts at once, a cheaper one
 * moves it a quarter of the way (so one slow call sends the next ones to the workers until
 * cheap calls have brought it down again). Relaxed atomics: two threads noting at once may
 * lose one note. */
static void method_cost_note(const struct method *m, int64_t ns)
{
    int64_t *cost = &methods[m - methods].cost_ns;
    int64_t old = __atomic_load_n(cost, __ATOMIC_RELAXED);
    if (ns < 1)
        ns = 1;
    __atomic_store_n(cost, ns >= old ? ns : old + (ns - old) / 4, __ATOMIC_RELAXED);
}

struct call {
    const struct method *m;
    json_t *args;
};

static void call_method(struct jmap_req *r, void *ud)
{
    const struct call *call = ud;
    if (call->m->std)
        call->m->std(r, call->m->type, call->args);
    else
        call->m->fn(r, call->args);
}

static void run_call(struct jmap_req *r, const char *name, json_t *args)
{
    if (resolve_references(r, args) != 0)
        return;
    /* a name holding U+0000 names no method (its C string would stop early) */
    const struct method *m =
        strlen(name) == json_string_length(json_array_get(r->call, 0)) ? method_find(name) : NULL;
    /* A method whose capability is not in `using` does not exist for this request. */
    if (!m || !using_has(r->using, m->capability)) {
        jmap_error(r, "unknownMethod", "unknown method '%s'", name);
        return;
    }
    r->capability = m->capability;
    int64_t t0 = now_ns();
    struct call call = {m, args};
    jmap_call_run(r, call_method, &call); /* again if the database refused it (issue 15) */
    method_cost_note(m, now_ns() - t0);
    metadata_query_done(); /* a query's metadata rows live for its call alone */
}

/* A copy of the JSON text body[len] with ".0" after every integer literal of more
 * than 18 digits (all that may not fit in int64) outside strings, so that jansson reads it as a
 * real (a number no Int or UnsignedInt argument accepts) instead of refusing the request. */
static char *widen_big_integers(const char *body, size_t len, size_t *out_len)
{
    struct buf b = {0};
    bool in_string = false;
    for (size_t i = 0; i < len;) {
        char ch = body[i];
        if (in_string) {
            size_t n = ch == '\\' && i + 1 < len ? 2 : 1;
            in_string = ch != '"';
            buf_append(&b, body + i, n);
            i += n;
            continue;
        }
        if (ch == '"') {
            in_string = true;
            buf_append(&b, body + i++, 1);
            continue;
        }
        bool starts = (ch >= '0' && ch <= '9') &&
                      (i == 0 || !strchr("0123456789.eE+-", body[i - 1]) ||
                       (body[i - 1] == '-' && (i < 2 || !strchr("eE", body[i - 2]))));
        if (!starts) {
            buf_append(&b, body + i++, 1);
            continue;
        }
        size_t j = i;
        while (j < len && body[j] >= '0' && body[j] <= '9')
            j++;
        buf_append(&b, body + i, j - i);
        if (j - i > 18 && (j == len || !strchr(".eE", body[j])))
            buf_puts(&b, ".0");
        i = j;
    }
    *out_len = b.len;
    return b.data ? buf_take(&b) : xstrdup("");
}

/* ---- resource bounds (RFC 8620 §8.5) ------------------------------------------------------- */

/* Estimates the memory the parsed form of a JSON text takes, without parsing it:
 * jansson spends about 256 bytes on an object or array and 48 on another value,
 * so "[{},{},...]" of 4 MB would hold a gigabyte. Counts value starts outside
 * strings ('{', '[' and the ',' / ':' that precede a value); stops once past max. */
static size_t request_memory_estimate(const char *body, size_t len, size_t max)
{
    size_t est = len;
    bool in_string = false;
    for (size_t i = 0; i < len && est <= max; i++) {
        char ch = body[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = false;
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '{' || ch == '[') {
            est += 256;
        } else if (ch == ',' || ch == ':') {
            est += 48;
        }
    }
    return est;
}

/* Appends the responses from index from on to text (the response up to the members of
 * methodResponses so far) with the fast writer; returns the octets they take. */
static size_t write_responses(json_t *responses, size_t from, jbuf *text)
{
    size_t n = 0;
    for (size_t i = from; i < json_array_size(responses); i++) {
        if (text->s[text->len - 1] != '[') /* after the first member */
            jbuf_addc(text, ',');
        size_t start = text->len;
        jwriter_append(json_array_get(responses, i), text);
        n += text->len - start;
    }
    return n;
}

/* RFC 8620 §8.5: the responses of one request stay within max_size_response. Each
 * call's responses are written to text as soon as the call is done (issue 21 §2: each
 * once, and the size is exact; the response is this text); *used is their size so far.
 * A call whose responses would pass the limit gets one serverFail instead (its writes,
 * if any, are committed: a client resyncs with /changes); later calls still run. */
static void bound_response(struct jmap_req *r, size_t from, jbuf *text, size_t *used)
{
    size_t max = (size_t)r->srv->cfg->max_size_response, mark = text->len;
    size_t n = write_responses(r->responses, from, text);
    if (*used + n <= max) {
        *used += n;
        return;
    }
    text->len = mark;
    text->s[mark] = 0;
    while (json_array_size(r->responses) > from)
        json_array_remove(r->responses, json_array_size(r->responses) - 1);
    jmap_error(r, "serverFail",
               "the response to this call would make the whole response larger than "
               "max_size_response (%zu octets)",
               max);
    *used += write_responses(r->responses, from, text);
}

/* Whether a call after index i refers to the result of the call with id (RFC 8620
 * §3.7): JSON Pointer then walks that call's response, which must be a plain tree. */
static bool result_referenced(json_t *calls, size_t i, const char *id)
{
    for (size_t k = i + 1; k < json_array_size(calls); k++) {
        const char *key;
        json_t *ref;
        json_object_foreach(json_array_get(json_array_get(calls, k), 1), key, ref)
        {
            const char *of = json_string_value(json_object_get(ref, "resultOf"));
            if (key[0] == '#' && of && id && strcmp(of, id) == 0)
                return true;
        }
    }
    return false;
}

json_t *jmap_api_parse(struct jmap_server *srv, const char *body, size_t len,
                       struct jmap_result *out)
{
    if ((int64_t)len > srv->cfg->max_size_request) {
        problem(out, "urn:ietf:params:jmap:error:limit", "request body too large",
                "maxSizeRequest");
        return NULL;
    }
    if (request_memory_estimate(body, len, (size_t)srv->cfg->max_request_memory) >
        (size_t)srv->cfg->max_request_memory) {
        problem(out, "urn:ietf:params:jmap:error:limit",
                "the request holds too many JSON values (max_request_memory)", "maxSizeRequest");
        return NULL;
    }
    json_error_t jerr;
    /* I-JSON (RFC 7493): valid UTF-8, no duplicate member names; escaped control
     * characters, U+0000 included, are valid string content (RFC 8259 §7). */
    json_t *req = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL,
                             &jerr);
    char *widened = NULL;
    if (!req && strstr(jerr.text, "too big")) {
        /* RFC 8620 §1.3: an integer beyond ±2^53-1 is valid JSON but no Int: read
         * it as a number that no Int argument accepts (invalidArguments) */
        widened = widen_big_integers(body, len, &len);
        req = json_loadb(widened, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL,
                         &jerr);
        free(widened);
    }
    if (!req) {
        char detail[300];
        snprintf(detail, sizeof detail, "not valid I-JSON: %s at offset %d", jerr.text,
                 jerr.position);
        problem(out, "urn:ietf:params:jmap:error:notJSON", detail, NULL);
        return NULL;
    }
    const char *shape = request_shape_error(req);
    if (shape) {
        problem(out, "urn:ietf:params:jmap:error:notRequest", shape, NULL);
        json_decref(req);
        return NULL;
    }
    json_t *using = json_object_get(req, "using"), *calls = json_object_get(req, "methodCalls");
    size_t i;
    json_t *v;
    json_array_foreach(using, i, v)
    {
        if (!jmap_capability_known(json_string_value(v))) {
            char detail[600];
            snprintf(detail, sizeof detail, "the server does not support capability '%.500s'",
                     json_string_value(v));
            problem(out, "urn:ietf:params:jmap:error:unknownCapability", detail, NULL);
            json_decref(req);
            return NULL;
        }
    }
    if ((int64_t)json_array_size(calls) > srv->cfg->max_calls_in_request) {
        problem(out, "urn:ietf:params:jmap:error:limit", "too many method calls",
                "maxCallsInRequest");
        json_decref(req);
        return NULL;
    }
    return req;
}

/* A standard /get (of at most QUICK_GET_IDS ids) or /query whose late calls took less than
 * quick_read_us (config, 1 ms) runs on the connection's thread: what it holds up there (that
 * thread's other connections) is bounded by about as much, and it saves the hand-over to a worker
 * and back, which at two connections left a quarter of two cores idle (issue 21 §1: /get of 50
 * ids 1.45x one connection, 1.75x inline). */
#define QUICK_GET_IDS 256

/* Whether a call costs little and is bounded: Core/echo (§4); a standard /changes (§5.2, at
 * most maxChanges ids from an index range), where the store is in this process (SQLite: no
 * network round trip) always, elsewhere (PostgreSQL: one round trip, issue 15 §1 W5) while
 * its late calls, the wait included, took under quick_read_us (config); and on SQLite a standard
 * /get of at most QUICK_GET_IDS listed ids (or a reference) or a standard /query while its method's
 * late calls took under quick_read_us. */
static bool call_quick(struct jmap_server *srv, json_t *call)
{
    const char *name = json_string_value(json_array_get(call, 0));
    if (name && strcmp(name, "Core/echo") == 0)
        return true;
    const struct method *m = name ? method_find(name) : NULL;
    if (!m)
        return false;
    int64_t cost = __atomic_load_n(&methods[m - methods].cost_ns, __ATOMIC_RELAXED);
    /* unknown until a worker has run one */
    bool cheap = cost > 0 && cost <= srv->cfg->quick_read_us * 1000;
    /* on a store in another process each read waits for its round trips: only /changes,
     * whose one round trip is in its measured cost */
    if (strcmp(store_backend_name(srv->store), "sqlite") != 0)
        return m->std == jmap_std_changes && cheap;
    if (m->std == jmap_std_changes)
        return true;
    json_t *args = json_array_get(call, 1), *ids = json_object_get(args, "ids");
    if (m->std == jmap_std_get && !json_object_get(args, "#ids") &&
        (!json_is_array(ids) || json_array_size(ids) > QUICK_GET_IDS))
        return false; /* every object of the account, or more than a page */
    if (m->std != jmap_std_get && m->std != jmap_std_query)
        return false;
    return cheap;
}

bool jmap_api_quick(struct jmap_server *srv, json_t *req)
{
    json_t *calls = json_object_get(req, "methodCalls");
    if (json_array_size(calls) > 4)
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(calls, i, v) if (!call_quick(srv, v)) return false;
    return true;
}

void jmap_api_handle(struct jmap_server *srv, const struct jmap_user *user, const char *body,
                     size_t len, struct jmap_result *out)
{
    json_t *req = jmap_api_parse(srv, body, len, out);
    if (req)
        jmap_api_run(srv, user, req, out, false);
}

void jmap_api_run(struct jmap_server *srv, const struct jmap_user *user, json_t *req,
                  struct jmap_result *out, bool quick)
{
    json_t *using = json_object_get(req, "using"), *calls = json_object_get(req, "methodCalls");
    size_t i;
    json_t *v;
    json_t *given_ids = json_object_get(req, "createdIds");
    struct jmap_req r = {
        .srv = srv,
        .conn = store_conn(srv->store),
        .user = user,
        .using = using,
        .responses = json_array(),
        .created_ids = given_ids ? json_copy(given_ids) : json_object(),
        .changed = json_object(),
    };
    if (!r.conn) {
        set_result(out, 503, jmap_problem("about:blank", 503, "database unavailable", NULL), true);
        json_decref(r.responses);
        json_decref(r.created_ids);
        json_decref(r.changed);
        json_decref(req);
        return;
    }
    size_t used = 0;
    /* {"methodResponses":[...],"createdIds":{...},"sessionState":"..."}: the responses are
     * written as they come (bound_response) */
    jbuf text = {0};
    text.s = answer_mem_take(&text.cap); /* a large answer's pages are not new (answer_mem.h) */
    jbuf_adds(&text, "{\"methodResponses\":[");
    util_deadline_set(util_now_ms() + srv->cfg->request_timeout);
    json_array_foreach(calls, i, v)
    {
        r.method = json_string_value(json_array_get(v, 0));
        r.call_id = json_string_value(json_array_get(v, 2));
        r.call_id_value = json_array_get(v, 2);
        r.call = v;
        r.referenced = result_referenced(calls, i, r.call_id);
        size_t from = json_array_size(r.responses);
        if (util_deadline_passed()) {
            jmap_error(&r, "serverFail", "not run: the request passed its time limit (%lld ms)",
                       (long long)srv->cfg->request_timeout);
            bound_response(&r, from, &text, &used);
            continue;
        }
        /* the arguments are the request's own (no copy: it is freed below), so
         * resolving references in place costs no memory */
        json_t *args = json_incref(json_array_get(v, 1));
        run_call(&r, r.method, args);
        json_decref(args);
        bound_response(&r, from, &text, &used);
        store_rollback(r.conn); /* a method that failed midway leaves nothing open */
        /* a share made by the call is seen at once, here and (over the push bus) on
         * the other front ends (issue 14) */
        if (jmap_accounts_flush())
            json_object_set_new(r.changed, "#accounts", json_true());
        if (json_object_size(r.changed)) {
            push_hub_publish(srv->hub, r.changed); /* after the call's commit, §7 */
            json_object_clear(r.changed);
        }
    }

    jbuf_addc(&text, ']');
    if (given_ids) {
        jbuf_adds(&text, ",\"createdIds\":");
        jwriter_append(r.created_ids, &text);
    }
    json_t *state = json_string(jmap_session_state(user));
    jbuf_adds(&text, ",\"sessionState\":");
    jwriter_append(state, &text);
    json_decref(state);
    jbuf_addc(&text, '}');
    size_t len = text.len; /* the answer's length without a strlen of megabytes */
    set_result_n(out, 200, jbuf_take(&text), len, false);
    jwriter_raw_clear(); /* the raw placeholders the responses held (metadata /get) */
    util_deadline_set(0);
    /* after the commits: e.g. the iMIP outbox; a quick request wrote nothing, and its
     * thread may not wait on SMTP */
    if (!quick)
        jmap_after_request(srv);
    json_decref(r.responses);
    json_decref(r.created_ids);
    json_decref(r.changed);
    json_decref(req);
}
