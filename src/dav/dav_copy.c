/*
 * dav_copy.c — COPY and MOVE of calendar objects, tasks and vCards between collections of
 * the same account and kind (RFC 4918 §9.8, §9.9; RFC 4791 §5.3.2.1, RFC 6352 §6.3.2.1).
 *
 * An account holds one object per UID (the store keeps it unique), and an event or a
 * card may be in several collections at once (calendarIds, addressBookIds). So a COPY
 * to another collection under the same resource name makes the object a member of the
 * destination too (the same data at both URLs, as the RFC asks); a COPY that would need a
 * second object with the same UID (another name, or a task, which has one list) is
 * refused with no-uid-conflict. A MOVE changes the membership and, when the destination
 * name differs, the resource name, in the object's own write (dav_name_arm_rename).
 * Overwrite: F with an existing destination is 412; T deletes it first (§9.8.4); the
 * answer is 201 for a new destination, 204 for one replaced; a missing destination
 * collection is 409 (§9.8.5); the same URL or another kind 403. Into another account
 * (a collection shared with the user, or out of one) the resource is PUT there as a new
 * object and, for a MOVE, the source deleted (copy_across).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dav/dav_internal.h"
#include "push/hub.h"

/* The path of a Destination header (an absolute URI or a path), url-decoded, into out. */
bool dav_dest_path(const char *dest, char *out, size_t size)
{
    const char *p = dest;
    if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0)
        p = strchr(strchr(p, ':') + 3, '/');
    if (!p || *p != '/')
        return false;
    size_t o = 0;
    for (; *p && *p != '?' && *p != '#' && o + 1 < size; p++) {
        if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char h[3] = {p[1], p[2], 0};
            out[o++] = (char)strtol(h, NULL, 16);
            p += 2;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = 0;
    return o > 0 && memchr(out, 0, o) == NULL;
}

/* Runs the member /set of kind k with args (taken): true when id is in its updated or
 * destroyed list; false with an answer queued otherwise (refused: the privilege priv on
 * the collection of on, RFC 3744 §7.1.1). */
static bool member_set(struct dav_ctx *x, const struct dav_kind *k, const char *id, json_t *args,
                       const struct dav_res *on, const char *priv)
{
    char method[96];
    snprintf(method, sizeof method, "%s/set", k->obj_type);
    json_t *res = dav_jmap_call(x, k, method, args);
    json_decref(args);
    json_t *err = json_object_get(json_object_get(res, "notUpdated"), id);
    if (!err)
        err = json_object_get(json_object_get(res, "notDestroyed"), id);
    const char *type = json_string_value(json_object_get(err, "type"));
    bool ok = res && !err;
    if (!ok && (!type || strcmp(type, "forbidden") == 0 || strcmp(type, "accountReadOnly") == 0))
        dav_need_privilege(x, on, true, NS_DAV, priv); /* RFC 3744 §7.2: on its collection */
    else if (!ok)
        dav_error(x, 409, NULL, NULL, NULL);
    json_decref(res);
    return ok;
}

/* The membership patch of a COPY (add the destination) or MOVE (and leave the source). */
static json_t *membership_patch(const struct dav_res *r, const struct dav_res *d, bool move)
{
    json_t *patch = json_object();
    char key[160];
    if (r->k->single_member) {
        json_object_set_new(patch, r->k->member, json_string(d->coll_id));
        return patch;
    }
    snprintf(key, sizeof key, "%s/%s", r->k->member, d->coll_id);
    json_object_set_new(patch, key, json_true());
    if (move && strcmp(r->coll_id, d->coll_id) != 0) {
        snprintf(key, sizeof key, "%s/%s", r->k->member, r->coll_id);
        json_object_set_new(patch, key, json_null());
    }
    return patch;
}

/* The checks of §9.8.5/§9.9.4 on the destination d of r: 0 when it may go ahead, else the
 * answer is queued. */
static int dest_check(struct dav_ctx *x, const struct dav_res *r, struct dav_res *d, bool move)
{
    char path[1024];
    const char *ow = x->q->overwrite;
    if (!x->q->destination || !dav_dest_path(x->q->destination, path, sizeof path)) {
        dav_reply(x, 400, "text/plain", xstrdup("a Destination header is needed\n"));
        return -1;
    }
    int rc = dav_resolve(x, path, d);
    if (rc == 400 || (ow && strcasecmp(ow, "T") != 0 && strcasecmp(ow, "F") != 0)) {
        dav_reply(x, 400, "text/plain", xstrdup("bad Destination or Overwrite\n"));
        return -1;
    }
    if (rc == 0 && d->t == DR_OBJ && !d->coll) {
        dav_reply(x, 409, "text/plain", xstrdup("no such destination collection\n"));
        return -1;
    }
    if (rc != 0 || d->t != DR_OBJ || d->k != r->k) {
        dav_reply(x, 403, "text/plain",
                  xstrdup("the destination must be a resource in a collection of the same "
                          "kind\n"));
        return -1;
    }
    if (!(d->shared ? d->shared_write : d->acct->may_write)) { /* RFC 3744 §7.1.1, §7.2 */
        dav_need_privilege(x, d, true, NS_DAV, "bind");
        return -1;
    }
    if (d->obj && ow && strcasecmp(ow, "F") == 0) {
        dav_reply(x, 412, NULL, NULL); /* §10.6: Overwrite: F and the destination exists */
        return -1;
    }
    if (strcmp(d->acct->account_id, r->acct->account_id) != 0)
        return 1; /* into another account: copy_across */
    if (strcmp(d->coll_id, r->coll_id) == 0 && strcmp(d->name, r->name) == 0) {
        dav_reply(x, 403, "text/plain", xstrdup("source and destination are the same\n"));
        return -1;
    }
    /* one object per UID in an account (dav_copy.c header): a copy is this object in a
     * second collection under its name, never a second object */
    if (!move && (r->k->single_member || strcmp(d->name, r->name) != 0)) {
        struct buf h = {0};
        dav_res_href(x, r, &h);
        char *href = buf_take(&h);
        dav_error(x, 403, r->k->ns, "no-uid-conflict", href);
        free(href);
        return -1;
    }
    return 0;
}

/* COPY or MOVE of r into another account d->acct (a collection shared with the user, or
 * from one into their own): the resource as the user reads it is PUT at the destination
 * (a new object there, its own UID's, through the same conversion and checks as a PUT,
 * RFC 4918 §9.8.2 "a new resource"); a MOVE then deletes the source (§9.9.2: a COPY
 * followed by a delete), which the user must be allowed to do before anything is written.
 * The two writes are two transactions: if the delete fails the copy stays and the
 * answer says why the source is still there. */
static void copy_across(struct dav_ctx *x, struct dav_res *r, struct dav_res *d, bool move)
{
    if (move && !(r->shared ? r->shared_write : r->acct->may_write)) {
        dav_need_privilege(x, r, true, NS_DAV, "unbind");
        return;
    }
    if (d->obj && !json_equal(json_object_get(d->obj, "uid"), json_object_get(r->obj, "uid"))) {
        /* §9.8.4 Overwrite: T, another resource there: it goes first */
        json_t *args =
            json_pack("{s:s, s:[s]}", "accountId", d->acct->account_id, "destroy", d->obj_id);
        if (!member_set(x, d->k, d->obj_id, args, d, "unbind"))
            return;
        json_decref(d->obj);
        d->obj = NULL;
        d->obj_id[0] = 0;
    }
    char *text = dav_object_render(x, r, r->obj, false);
    if (!text) {
        dav_reply(x, 500, "text/plain", xstrdup("the source cannot be rendered\n"));
        return;
    }
    struct dav_request put = *x->q;
    put.method = "PUT";
    put.body = text;
    put.len = strlen(text);
    put.content_type = r->k->mime;
    put.if_match = put.if_none_match = put.if_schedule_tag_match = NULL;
    const struct dav_request *saved = x->q;
    x->q = &put;
    dav_object_put(x, d);
    x->q = saved;
    free(text);
    int status = x->out->status;
    if (!move || (status != 201 && status != 204))
        return;
    json_t *args =
        json_pack("{s:s, s:[s]}", "accountId", r->acct->account_id, "destroy", r->obj_id);
    if (member_set(x, r->k, r->obj_id, args, r, "unbind"))
        dav_reply(x, status, NULL, NULL);
}

void dav_object_copy(struct dav_ctx *x, struct dav_res *r, bool move)
{
    if (!r->obj) {
        dav_reply(x, 404, "text/plain", xstrdup("not found\n"));
        return;
    }
    struct dav_res d;
    memset(&d, 0, sizeof d);
    int across = dest_check(x, r, &d, move);
    if (across != 0) {
        if (across > 0)
            copy_across(x, r, &d, move);
        dav_res_clear(&d);
        return;
    }
    const char *a = r->acct->account_id;
    bool replaced = d.obj != NULL;
    if (d.obj && strcmp(d.obj_id, r->obj_id) != 0) { /* §9.8.4: the destination goes first */
        json_t *args = json_pack("{s:s, s:[s]}", "accountId", a, "destroy", d.obj_id);
        if (!member_set(x, r->k, d.obj_id, args, &d, "unbind")) {
            dav_res_clear(&d);
            return;
        }
    }
    bool rename = strcmp(d.name, r->name) != 0;
    char taken[64];
    if (rename &&
        dav_name_lookup(x->c, a, r->k->obj_type, d.coll_id, d.name, r->k->ext, taken, NULL) &&
        strcmp(taken, r->obj_id) != 0) { /* the name is another member's of the destination */
        dav_reply(x, 409, "text/plain", xstrdup("the destination name is in use\n"));
        dav_res_clear(&d);
        return;
    }
    json_t *args = json_pack("{s:s, s:{s:o}}", "accountId", a, "update", r->obj_id,
                             membership_patch(r, &d, move));
    struct dav_rename_hook hook = {.k = r->k,
                                   .id = r->obj_id,
                                   .name = d.name,
                                   .old = r->name,
                                   .coll_id = d.coll_id,
                                   .was_in = json_object_get(r->obj, r->k->member),
                                   .rewrite = strcmp(r->coll_id, d.coll_id) == 0};
    if (rename)
        dav_name_arm_rename(&hook);
    bool ok = member_set(x, r->k, r->obj_id, args, &d, "bind");
    dav_name_disarm();
    if (rename && ok && !hook.written) {
        dav_reply(x, 500, "text/plain", xstrdup("the new name could not be kept\n"));
        ok = false;
    }
    if (rename)
        dav_members_clear(); /* names changed, maybe with no change of the object */
    if (ok && hook.rewrite && hook.written) {
        /* the hook's write of the object is a change the /set did not note: push it
         * (RFC 8620 §7), here and to the other front ends */
        json_t *changed = json_pack("{s:{s:o}}", a, r->k->obj_type,
                                    jmap_state_string(store_state_get(x->c, a, r->k->obj_type)));
        push_hub_publish(x->srv->hub, changed);
        json_decref(changed);
    }
    if (ok)
        dav_reply(x, replaced ? 204 : 201, NULL, NULL);
    dav_res_clear(&d);
}
