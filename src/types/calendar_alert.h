/*
 * calendar_alert.h — alerts of calendar events fired by the server
 * (draft-ietf-jmap-calendars-27 §6; jscalendarbis-08 §4.5.1): which triggers of an
 * event fall in a time window (calendar_alert.c, pure), and the scheduler that fires
 * them as CalendarAlert push objects (§6.4) and alert mail (calendar_alert_run.c).
 *
 * The schedule is one row per (event, user) in the store (store.h "the alert
 * schedule"): the event's owner, and each sharee with alerts of their own (§5.4).
 * Writes only mark rows to look at again; the scheduler thread does the expansion,
 * fires what is due in (fired_until, now] and moves the row on, in one transaction,
 * so a restart neither loses nor repeats an alert.
 */
#ifndef JMAPD_CALENDAR_ALERT_H
#define JMAPD_CALENDAR_ALERT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct jmap_server;
struct store_conn;

/* ---- triggers (calendar_alert.c) ---------------------------------------------------- */

/* One trigger of one alert: recurrence_id is the occurrence's (NULL when the event
 * does not recur or the trigger is absolute in the base event). */
struct alert_fire {
    const char *alert_id;
    const char *recurrence_id;
    int64_t when;
    const char *action; /* "display" (the default), "email", or another value */
    const json_t *alert;
};

/* The alerts that apply to an event or occurrence (§6.1): with useDefaultAlerts, the
 * default alerts (id -> Alert) carrying the event's acknowledgements of them, plus the
 * event's alerts related to one of them (snoozes, §6.3); otherwise the event's own. */
json_t *calendar_alert_effective(const json_t *event, const json_t *defaults);

/* Calls cb for each trigger in (from, to] that is not acknowledged (an alert's
 * acknowledged at or after the trigger suppresses it, §6.2), for every occurrence.
 * defaults_with / _without: the calendars' default alerts (§4, §6.1), chosen by the
 * event's showWithoutTime. Floating times are read in float_tz (NULL: UTC). Unknown
 * trigger types never fire (jscalendarbis §4.5.1). Returns 0, or -1 if the
 * recurrence cannot be expanded. */
int calendar_alert_triggers(const json_t *event, const json_t *defaults_with,
                            const json_t *defaults_without, const char *float_tz, int64_t from,
                            int64_t to, int (*cb)(const struct alert_fire *f, void *ud), void *ud);
/* The earliest trigger after `after` within horizon seconds, or -1. */
int64_t calendar_alert_next(const json_t *event, const json_t *defaults_with,
                            const json_t *defaults_without, const char *float_tz, int64_t after,
                            int64_t horizon);

/* ---- the clock and the scheduler (calendar_alert_run.c) ---------------------------- */

/* The server's time for alerts: the real time, or in test mode the test clock. Test
 * mode is `jmapd serve` started with JMAPD_TEST_CLOCK naming a file owned by the
 * server's user and writable by no one else; the file holds a UTCDateTime, read at
 * every look (no file: the real time). Nothing a JMAP or DAV client sends can move
 * it. calendar_alert_clock_init reads the environment (serve only). */
void calendar_alert_clock_init(void);
int64_t calendar_alert_now(void);

/* Hooks, inside the writer's transaction: an event was written (obj NULL: destroyed);
 * a user's per-user properties of an object changed (§5.4); a calendar changed (its
 * default alerts, isSubscribed, time zone). They mark the rows to look at again. */
void calendar_alert_event_changed(struct store_conn *c, const char *account, const char *id,
                                  json_t *obj);
void calendar_alert_user_changed(struct store_conn *c, const char *account, const char *type,
                                 const char *id, int64_t user_id);
void calendar_alert_calendar_changed(struct store_conn *c, const char *account);
/* The same for tasks (draft-ietf-jmap-tasks-06 "Alerts extension"): a task was
 * written (obj NULL: destroyed); a task list changed. */
void calendar_alert_task_changed(struct store_conn *c, const char *account, const char *id,
                                 json_t *obj);
void calendar_alert_task_list_changed(struct store_conn *c, const char *account);
/* After a request: wakes the scheduler if something was marked. */
void calendar_alert_kick(struct jmap_server *srv);

struct calendar_alerter;
/* Starts the scheduler thread (serve); stop joins it. */
struct calendar_alerter *calendar_alerter_start(struct jmap_server *srv);
void calendar_alerter_stop(struct calendar_alerter *a);

#endif
