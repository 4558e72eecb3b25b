/*
 * cal_address.c — which participant a calendar user address names, and which one is the
 * organizer's (see cal_address.h). Used by ical_to_jscal*.c and jscal_to_ical*.c alike.
 */
#include "formats/icalendar_jscalendar/cal_address.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/jscalendar/jscal_util.h"

int cal_address_same(const char *a, const char *b)
{
    return a && b && !strcasecmp(a, b);
}

static int is_owner(const json_t *pt)
{
    return json_is_true(json_object_get(json_object_get(pt, "roles"), "owner"));
}

/* How well pt fits addr: 0 not at all, else higher is better. */
static int rank(const json_t *pt, const char *addr, int owner_first)
{
    const char *a = json_string_value(json_object_get(pt, "calendarAddress"));
    if (!cal_address_same(a, addr))
        return 0;
    return 1 + 2 * !strcmp(a, addr) + (owner_first && is_owner(pt));
}

int cal_address_any_owner(const json_t *parts)
{
    const char *k;
    json_t *pt;
    json_object_foreach((json_t *)parts, k, pt)
    {
        if (is_owner(pt))
            return 1;
    }
    return 0;
}

const char *cal_address_participant(const json_t *parts, const char *addr, int owner_first)
{
    const char *best = NULL, *k;
    int best_rank = 0;
    json_t *pt;
    if (!addr)
        return NULL;
    json_object_foreach((json_t *)parts, k, pt)
    {
        int r = rank(pt, addr, owner_first);
        if (r > best_rank || (r && r == best_rank && strcmp(k, best) < 0)) {
            best = k;
            best_rank = r;
        }
    }
    return best;
}

const char *cal_address_organizer(const json_t *parts, const char *org, const char *jsid)
{
    if (jsid && rank(json_object_get(parts, jsid), org, 0))
        return json_object_iter_key(json_object_iter_at((json_t *)parts, jsid));
    return cal_address_participant(parts, org, 1);
}

int cal_address_organizer_needs_jsid(const json_t *parts, const char *org, const char *key)
{
    char u5[37];
    jscal_uuidv5(org, u5);
    if (strcmp(u5, key))
        return 1;
    const char *k;
    json_t *pt;
    json_object_foreach((json_t *)parts, k, pt)
    {
        if (strcmp(k, key) && (rank(pt, org, 0) || is_owner(pt)))
            return 1;
    }
    return 0;
}

/* addr in lower case (ASCII, as strcasecmp compares), malloc'd. */
static char *user_key(const char *addr)
{
    char *l = strdup(addr);
    for (char *c = l; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c += 'a' - 'A';
    return l;
}

json_t *cal_address_shared_users(const json_t *parts)
{
    json_t *seen = NULL, *shared = NULL, *pt;
    const char *k;
    json_object_foreach((json_t *)parts, k, pt)
    {
        const char *a = json_string_value(json_object_get(pt, "calendarAddress"));
        if (!a)
            continue;
        char *l = user_key(a);
        if (!seen)
            seen = json_object();
        if (!json_object_get(seen, l)) {
            json_object_set_new(seen, l, json_true());
        } else {
            if (!shared)
                shared = json_object();
            json_object_set_new(shared, l, json_true());
        }
        free(l);
    }
    json_decref(seen);
    return shared;
}

int cal_address_is_shared(const json_t *users, const char *addr)
{
    if (!users || !addr)
        return 0;
    char *l = user_key(addr);
    int r = json_object_get(users, l) != NULL;
    free(l);
    return r;
}
