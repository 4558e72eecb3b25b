/*
 * subscribe.c — `jmapd subscribe --user NAME URL [--name TEXT]` (issue 17 §1): a
 * new calendar of the user that follows the feed at URL. Works while the server
 * runs (the database is shared; the server's refresher takes the calendar up at
 * its next look); fetches the feed at once and prints the new calendar's id. A
 * fetch that fails leaves the subscription in place with lastError set, says why
 * on stderr and exits 1. `jmapd subscribe --user NAME --refresh ID` refreshes an
 * existing subscription now (conditionally, as the server would) and prints how long
 * it took. `jmapd subscribe --user NAME --birthdays [--name TEXT] [--language TAG]`
 * creates the user's birthdays calendar (issue 17 §4, birthdays.c), filled from their
 * contacts, its events titled in that language (en, de, fr, es, it, nl), and prints
 * its id. What these commands commit is published to the running server's
 * push hub through the store's bus (SQLite: sqlite_bus.c; PostgreSQL: NOTIFY), so
 * its EventSource and WebSocket clients see the change at once.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "push/hub.h"
#include "types/calendar_event.h"
#include "types/subscription.h"
#include "types/types.h"
#include "util/util.h"

/* The CPU time this process has used (every thread), in microseconds: the refresh's
 * own cost, apart from waiting for the network and the disk. */
static int64_t cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* RFC 8620 §7: the account's Calendar and CalendarEvent states after a commit of
 * this process, to the server's clients (a state they have already costs them one
 * /changes that finds nothing). */
static void publish_states(struct push_hub *hub, struct store_conn *c, const char *account)
{
    if (store_begin(c, false) != STORE_OK)
        return;
    json_t *types = json_object();
    const char *const names[] = {calendar_type.name, calendar_event_type.name};
    for (int i = 0; i < 2; i++)
        json_object_set_new(types, names[i],
                            jmap_state_string(store_state_get(c, account, names[i])));
    store_rollback(c);
    json_t *changed = json_pack("{s:o}", account, types);
    push_hub_publish(hub, changed);
    json_decref(changed);
}

/* A calendar created in a write transaction of its own (run again when the database
 * refuses it; issue 15 §1): STORE_EXISTS when birthdays and the account has its
 * birthdays calendar already. */
struct calendar_new {
    const char *account;
    json_t *cal;
    char *id; /* [16] */
    bool birthdays;
};

static int calendar_new(struct store_conn *c, void *ud)
{
    const struct calendar_new *w = ud;
    if (w->birthdays && birthdays_calendar_exists(c, w->account))
        return STORE_EXISTS;
    return types_create_direct(c, &calendar_type, w->account, w->cal, w->id);
}

/* The user's birthdays calendar, created and filled in one transaction; its id on
 * stdout. 0, or 1 if the account has one already. */
static int birthdays_create(struct store_conn *c, const char *account, const char *name,
                            const char *language)
{
    json_t *cal = json_pack("{s:s, s:b, s:n}", "name", name ? name : "Birthdays", BIRTHDAYS_PROP, 1,
                            "defaultAlertsWithoutTime");
    if (language)
        json_object_set_new(cal, BIRTHDAY_TITLES_PROP, json_pack("{s:s}", "language", language));
    json_t *invalid = json_array();
    char id[16] = "";
    int rc = 1;
    birthdays_calendar_validate(NULL, cal, NULL, invalid);
    if (json_array_size(invalid)) {
        fprintf(stderr, "jmapd: no birthday titles in language '%s' (en, de, fr, es, it, nl)\n",
                language ? language : "?");
    } else {
        struct calendar_new w = {account, cal, id, true};
        int wrc = store_write(c, calendar_new, &w, "birthdays calendar");
        if (wrc == STORE_EXISTS)
            fprintf(stderr, "jmapd: the user has a birthdays calendar already\n");
        else if (wrc != STORE_OK)
            fprintf(stderr, "jmapd: %s\n", cli_write_error(c, "cannot create the calendar"));
        else
            printf("%s\n", id);
        rc = wrc != STORE_OK;
    }
    json_decref(invalid);
    json_decref(cal);
    return rc;
}

int cli_subscribe(int argc, char **argv)
{
    struct config cfg;
    if (cli_options(&cfg, &argc, argv))
        return 2;
    const char *user = NULL, *url = NULL, *name = NULL, *refresh = NULL, *language = NULL;
    bool birthdays = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
            user = argv[++i];
        else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strcmp(argv[i], "--language") == 0 && i + 1 < argc)
            language = argv[++i];
        else if (strcmp(argv[i], "--birthdays") == 0)
            birthdays = true;
        else if (strcmp(argv[i], "--refresh") == 0 && i + 1 < argc)
            refresh = argv[++i];
        else if (!url && argv[i][0] != '-')
            url = argv[i];
        else {
            fprintf(stderr, "jmapd subscribe: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!user || (!url + !refresh + !birthdays) != 2) {
        fprintf(stderr,
                "usage: jmapd subscribe --user NAME URL [--name TEXT] | --user NAME "
                "--refresh CALENDAR-ID | --user NAME --birthdays [--name TEXT] [--language TAG]\n");
        return 2;
    }
    struct store *st = cli_store(&cfg);
    if (!st)
        return 1;
    struct store_conn *c = store_conn(st);
    struct push_hub *hub = push_hub_new();
    push_hub_attach(hub, st);
    struct store_user u = {0};
    int rc = 1;
    char id[16] = "";
    if (store_user_get(c, user, &u) != STORE_OK) {
        fprintf(stderr, "jmapd: no such user '%s'\n", user);
        goto done;
    }
    if (birthdays) {
        if (!(rc = birthdays_create(c, u.account_id, name, language)))
            publish_states(hub, c, u.account_id);
        goto done;
    }
    if (refresh) {
        int level = log_level_parse(cfg.log_level); /* the phases' times at debug */
        if (level >= 0)
            log_set_level((enum log_level)level);
        int64_t every, t0 = util_now_us(), cpu0 = cpu_us();
        rc = subscription_refresh(c, &cfg, hub, u.account_id, refresh, &every) == 0 ? 0 : 1;
        printf("%s: %s in %.1f ms (cpu %.1f ms)\n", refresh,
               rc ? "failed (see lastError)" : "refreshed", (double)(util_now_us() - t0) / 1000.0,
               (double)(cpu_us() - cpu0) / 1000.0);
        goto done;
    }
    json_t *cal = json_pack("{s:s, s:{s:s, s:n}}", "name", name ? name : url, SUBSCRIPTION_PROP,
                            "url", url, "refreshInterval");
    json_t *invalid = json_array();
    subscription_calendar_validate(NULL, cal, NULL, invalid);
    if (json_array_size(invalid)) {
        fprintf(stderr, "jmapd: '%s' is not an http, https or webcal URL\n", url);
    } else if (store_write(c, calendar_new, &(struct calendar_new){u.account_id, cal, id, false},
                           "subscribe") != STORE_OK) {
        fprintf(stderr, "jmapd: %s\n", cli_write_error(c, "cannot create the calendar"));
    } else {
        int64_t every;
        printf("%s\n", id);
        fflush(stdout);
        rc = 0;
        publish_states(hub, c, u.account_id); /* the new calendar */
        if (subscription_refresh(c, &cfg, hub, u.account_id, id, &every) != 0) {
            fprintf(stderr, "jmapd: the first fetch failed (see lastError); the server will "
                            "retry\n");
            rc = 1;
        }
    }
    json_decref(invalid);
    json_decref(cal);
done:
    store_user_clear(&u);
    push_hub_free(hub);
    store_close(st);
    return rc;
}
