/*
 * admin.c — `jmapd user`, `jmapd group` and `jmapd token`: accounts, groups and
 * credentials, straight on the store. A new user gets an account with its default
 * calendar and identity, and a principal (RFC 9670 §2); a group is a principal
 * whose shares reach its members.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "http/auth.h"
#include "jmap/jmap.h"
#include "types/types.h"
#include "util/util.h"

static int usage_user(void)
{
    fputs("usage: jmapd user add NAME [--password-stdin] [--email ADDRESS]\n"
          "       jmapd user list\n"
          "       jmapd user del NAME\n"
          "       jmapd user passwd NAME [--password-stdin]\n"
          "       jmapd user share OWNER --with NAME [--read-only]\n",
          stderr);
    return 2;
}

static bool has_flag(int argc, char **argv, const char *flag)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return true;
    return false;
}

static const char *flag_value(int argc, char **argv, const char *flag)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return argv[i + 1];
    return NULL;
}

/* The password from stdin, or a new random one that is printed. */
static char *get_password(int argc, char **argv, bool *generated)
{
    *generated = false;
    if (has_flag(argc, argv, "--password-stdin")) {
        char *p = cli_read_line();
        if (!*p) {
            fprintf(stderr, "jmapd: empty password\n");
            free(p);
            return NULL;
        }
        return p;
    }
    unsigned char raw[12];
    util_random_bytes(raw, sizeof raw);
    *generated = true;
    return util_base64url_encode(raw, sizeof raw);
}

static bool valid_name(const char *name)
{
    if (!*name || strlen(name) > 200)
        return false;
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == ':' || *p == '/' || (unsigned char)*p == 0x7f)
            return false;
    return true;
}

static int print_name(const char *name, void *ud)
{
    printf("%s\n", name);
    return 0;
}

/* The calendar address of a new user (draft-ietf-jmap-calendars §3 calendarAddress, a
 * URI): --email ADDRESS, else NAME if it is an address, else NAME@default_domain.
 * NULL if ADDRESS is not an addr-spec-like local@domain without spaces. */
static char *user_address(const char *name, const char *email, const struct config *cfg)
{
    char *addr = NULL;
    if (email && strncasecmp(email, "mailto:", 7) == 0)
        email += 7;
    if (!email && strchr(name, '@'))
        email = name;
    if (email) {
        const char *at = strchr(email, '@');
        if (!at || at == email || !at[1] || strchr(at + 1, '@'))
            return NULL;
        for (const char *p = email; *p; p++)
            if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("<>\"(),;:", *p))
                return NULL;
        return asprintf(&addr, "mailto:%s", email) < 0 ? NULL : addr;
    }
    return asprintf(&addr, "mailto:%s@%s", name, cfg->default_domain) < 0 ? NULL : addr;
}

struct user_new {
    const char *name, *hash, *address, *account;
};

static int user_new(struct store_conn *c, void *ud)
{
    const struct user_new *w = ud;
    int rc = store_user_add(c, w->name, w->hash, w->account);
    if (!rc)
        rc = jmap_account_provision(NULL, c, &(struct jmap_owner){w->account, w->name, w->address});
    return rc;
}

/* Creates a user with their account (its id in account[16]); shared by `user add`
 * and `make run`. One write transaction, run again when the database refuses it. */
static int user_add(struct store *st, const char *name, const char *password,
                    const char *address, char account[16])
{
    char *hash = auth_hash_password(password);
    if (!hash) {
        fprintf(stderr, "jmapd: cannot hash the password\n");
        return 1;
    }
    struct store_conn *c = store_conn(st);
    util_random_id(account, 11, 'a');
    struct user_new w = {name, hash, address, account};
    int rc = store_write(c, user_new, &w, "user add");
    free(hash);
    if (rc) {
        fprintf(stderr, "jmapd: %s\n",
                rc == STORE_EXISTS ? "a user with that name exists"
                                   : cli_write_error(c, "cannot add the user"));
        return 1;
    }
    return 0;
}

static int user_del(struct store_conn *c, void *name)
{
    struct store_user u = {0};
    int rc = store_user_get(c, name, &u);
    if (!rc)
        rc = store_user_del(c, name);
    if (!rc && principal_remove(c, u.account_id) == STORE_ERR)
        rc = STORE_ERR;
    store_user_clear(&u);
    return rc;
}

int cli_user(int argc, char **argv)
{
    struct config cfg;
    if (cli_options(&cfg, &argc, argv))
        return 2;
    if (argc < 2)
        return usage_user();
    const char *sub = argv[1];
    if (strcmp(sub, "list") && argc < 3)
        return usage_user();
    struct store *st = cli_store(&cfg);
    if (!st)
        return 1;
    struct store_conn *c = store_conn(st);
    int status = 0;
    if (strcmp(sub, "add") == 0) {
        if (!valid_name(argv[2])) {
            fprintf(stderr, "jmapd: invalid user name\n");
            status = 1;
        } else {
            bool gen;
            char *addr = user_address(argv[2], flag_value(argc, argv, "--email"), &cfg);
            char *pw = addr ? get_password(argc, argv, &gen) : NULL;
            if (!addr)
                fprintf(stderr, "jmapd: --email needs an address like name@example.com\n");
            char account[16];
            status = pw ? user_add(st, argv[2], pw, addr, account) : 1;
            if (status == 0 && gen)
                printf("password: %s\n", pw);
            if (status == 0)
                printf("added user %s with account %s: a default calendar, a default address "
                       "book and the identity %s (the organizer address of the user's "
                       "invitations)\n",
                       argv[2], account, addr);
            free(pw);
            free(addr);
        }
    } else if (strcmp(sub, "list") == 0) {
        store_user_list(c, print_name, NULL);
    } else if (strcmp(sub, "del") == 0) {
        int rc = store_write(c, user_del, argv[2], "user del");
        if (rc) {
            fprintf(stderr, "jmapd: %s\n",
                    rc == STORE_NOTFOUND ? "no such user" : cli_write_error(c, "cannot delete"));
            status = 1;
        }
    } else if (strcmp(sub, "passwd") == 0) {
        bool gen;
        char *pw = get_password(argc, argv, &gen);
        char *hash = pw ? auth_hash_password(pw) : NULL;
        int rc = hash ? store_user_set_password(c, argv[2], hash) : STORE_ERR;
        if (rc) {
            fprintf(stderr, "jmapd: %s\n", rc == STORE_NOTFOUND ? "no such user" : "cannot set it");
            status = 1;
        } else if (gen) {
            printf("password: %s\n", pw);
        }
        free(hash);
        free(pw);
    } else if (strcmp(sub, "share") == 0) {
        const char *with = flag_value(argc, argv, "--with");
        struct store_user owner = {0}, other = {0};
        if (!with || store_user_get(c, argv[2], &owner) || store_user_get(c, with, &other)) {
            fprintf(stderr, "jmapd: share needs two existing users (OWNER --with NAME)\n");
            status = 1;
        } else if (store_access_grant(c, other.id, owner.account_id,
                                      !has_flag(argc, argv, "--read-only"))) {
            status = 1;
        }
        store_user_clear(&owner);
        store_user_clear(&other);
    } else {
        status = usage_user();
    }
    store_close(st);
    return status;
}

/* ---- groups (RFC 9670 §2 principals of type "group") ---------------------------------- */

static int usage_group(void)
{
    fputs("usage: jmapd group add NAME [--description TEXT]\n"
          "       jmapd group del NAME\n"
          "       jmapd group member NAME --add USER | --del USER\n"
          "       jmapd group list\n",
          stderr);
    return 2;
}

static int print_member(int64_t user_id, void *ud)
{
    struct store_user u = {0};
    if (store_user_get_by_id(ud, user_id, &u) == STORE_OK)
        printf(" %s", u.name);
    store_user_clear(&u);
    return 0;
}

struct group_list {
    struct store_conn *c;
    json_t *groups;
};

static int collect_group(const char *id, json_t *obj, void *ud)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (type && strcmp(type, "group") == 0)
        json_array_append(ud, obj);
    return 0;
}

static int group_list(struct store_conn *c)
{
    json_t *groups = json_array();
    if (store_begin(c, false))
        return 1;
    store_object_foreach(c, "_principals", principal_type.name, collect_group, groups);
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        const char *id = json_string_value(json_object_get(g, "id"));
        printf("%s\t%s:", json_string_value(json_object_get(g, "name")), id);
        store_group_members(c, id, print_member, c);
        printf("\n");
    }
    store_rollback(c);
    json_decref(groups);
    return 0;
}

struct group_write {
    int argc;
    char **argv;
    char id[64];
    const char *why;
};

static int group_write(struct store_conn *c, void *ud)
{
    struct group_write *g = ud;
    const char *sub = g->argv[1], *name = g->argv[2];
    int rc = STORE_OK;
    g->why = "cannot change the group";
    if (strcmp(sub, "add") == 0) {
        util_random_id(g->id, 12, 'g');
        rc = store_group_add(c, g->id, name);
        g->why = rc == STORE_EXISTS ? "a group with that name exists" : g->why;
        if (!rc)
            rc = principal_put(c, g->id, "group", name, NULL);
        const char *desc = flag_value(g->argc, g->argv, "--description");
        json_t *p = !rc && desc ? principal_load(c, g->id) : NULL;
        if (p) {
            json_object_set_new(p, "description", json_string(desc));
            rc = jmap_object_write(c, NULL, &principal_type, "_principals", g->id, p, false);
            json_decref(p);
        }
    } else {
        rc = store_group_get(c, name, g->id);
        g->why = rc == STORE_NOTFOUND ? "no such group" : g->why;
    }
    if (!rc && strcmp(sub, "del") == 0) {
        rc = store_group_del(c, g->id);
        if (!rc)
            rc = principal_remove(c, g->id);
    } else if (!rc && strcmp(sub, "member") == 0) {
        const char *add = flag_value(g->argc, g->argv, "--add");
        const char *del = flag_value(g->argc, g->argv, "--del");
        struct store_user u = {0};
        rc = (add || del) ? store_user_get(c, add ? add : del, &u) : STORE_NOTFOUND;
        g->why = rc == STORE_NOTFOUND ? "member needs --add USER or --del USER of an existing user"
                                      : g->why;
        if (!rc) {
            rc = store_group_member(c, g->id, u.id, add != NULL);
            g->why = rc == STORE_NOTFOUND ? "the user is not in the group" : g->why;
        }
        store_user_clear(&u);
    }
    return rc;
}

/* One write transaction for a group change (run again when the database refuses it);
 * prints why it failed. */
static int group_change(struct store_conn *c, int argc, char **argv)
{
    struct group_write g = {argc, argv, "", "cannot change the group"};
    if (store_write(c, group_write, &g, "group change")) {
        fprintf(stderr, "jmapd: %s\n", cli_write_error(c, g.why));
        return 1;
    }
    if (strcmp(argv[1], "add") == 0)
        printf("added group %s with principal id %s\n", argv[2], g.id);
    return 0;
}

int cli_group(int argc, char **argv)
{
    struct config cfg;
    if (cli_options(&cfg, &argc, argv))
        return 2;
    if (argc < 2)
        return usage_group();
    const char *sub = argv[1];
    bool list = strcmp(sub, "list") == 0;
    if (!list && (argc < 3 || (strcmp(sub, "add") && strcmp(sub, "del") &&
                               strcmp(sub, "member"))))
        return usage_group();
    if (!list && !valid_name(argv[2])) {
        fprintf(stderr, "jmapd: invalid group name\n");
        return 1;
    }
    struct store *st = cli_store(&cfg);
    if (!st)
        return 1;
    struct store_conn *c = store_conn(st);
    int status = list ? group_list(c) : group_change(c, argc, argv);
    store_close(st);
    return status;
}

static int print_token(const char *id, const char *label, int64_t created, void *ud)
{
    char ts[21];
    util_utc_format(created, ts);
    printf("%s\t%s\t%s\n", id, ts, label);
    return 0;
}

int cli_token(int argc, char **argv)
{
    struct config cfg;
    if (cli_options(&cfg, &argc, argv))
        return 2;
    if (argc < 3) {
        fputs("usage: jmapd token create NAME [--label TEXT] | list NAME | revoke TOKEN-ID\n",
              stderr);
        return 2;
    }
    struct store *st = cli_store(&cfg);
    if (!st)
        return 1;
    struct store_conn *c = store_conn(st);
    int status = 0;
    const char *sub = argv[1];
    if (strcmp(sub, "revoke") == 0) {
        int rc = store_token_revoke(c, argv[2]);
        if (rc) {
            fprintf(stderr, "jmapd: %s\n", rc == STORE_NOTFOUND ? "no such token" : "cannot revoke");
            status = 1;
        }
    } else if (strcmp(sub, "create") == 0 || strcmp(sub, "list") == 0) {
        struct store_user u = {0};
        if (store_user_get(c, argv[2], &u) != STORE_OK) {
            fprintf(stderr, "jmapd: no such user\n");
            status = 1;
        } else if (strcmp(sub, "list") == 0) {
            store_token_list(c, u.id, print_token, NULL);
        } else {
            char *token, hash[65], id[16];
            auth_token_new(&token, hash, id);
            const char *label = flag_value(argc, argv, "--label");
            if (store_token_add(c, u.id, hash, id, label ? label : "")) {
                status = 1;
            } else {
                printf("%s\n", token);
                fprintf(stderr, "token id %s (for revoke)\n", id);
            }
            free(token);
        }
        store_user_clear(&u);
    } else {
        fputs("jmapd: unknown token command\n", stderr);
        status = 2;
    }
    store_close(st);
    return status;
}

/* `jmapd feed create --user NAME --calendar ID | revoke FEED-ID`: a read-only
 * subscription URL for one calendar, GET /feed/SECRET.ics without credentials
 * (the base for draft-ietf-calext-subscription-upgrade). */
int cli_feed(int argc, char **argv)
{
    struct config cfg;
    if (cli_options(&cfg, &argc, argv))
        return 2;
    const char *user = flag_value(argc, argv, "--user"), *cal = flag_value(argc, argv, "--calendar");
    bool create = argc >= 2 && strcmp(argv[1], "create") == 0;
    bool revoke = argc >= 3 && strcmp(argv[1], "revoke") == 0;
    if ((!create || !user || !cal) && !revoke) {
        fputs("usage: jmapd feed create --user NAME --calendar ID | revoke FEED-ID\n", stderr);
        return 2;
    }
    struct store *st = cli_store(&cfg);
    if (!st)
        return 1;
    struct store_conn *c = store_conn(st);
    int status = 0;
    if (revoke) {
        int rc = store_feed_revoke(c, argv[2]);
        if (rc) {
            fprintf(stderr, "jmapd: %s\n", rc == STORE_NOTFOUND ? "no such feed" : "cannot revoke");
            status = 1;
        }
    } else {
        struct store_user u = {0};
        json_t *calendar = NULL;
        if (store_user_get(c, user, &u) != STORE_OK ||
            !(calendar = store_object_get(c, u.account_id, "Calendar", cal))) {
            fprintf(stderr, "jmapd: no such user or calendar\n");
            status = 1;
        } else {
            unsigned char raw[24];
            util_random_bytes(raw, sizeof raw);
            char *secret = util_base64url_encode(raw, sizeof raw), hash[65], id[16];
            util_sha256_hex(secret, strlen(secret), hash);
            util_random_id(id, 10, 'f');
            if (store_feed_add(c, hash, id, u.account_id, "calendar", cal) != STORE_OK) {
                status = 1;
            } else {
                const char *base = cfg.base_url[0] ? cfg.base_url : NULL;
                if (base)
                    printf("%s/feed/%s.ics\n", base, secret);
                else
                    printf("http://%s/feed/%s.ics\n", cfg.listen, secret);
                fprintf(stderr, "feed id %s (for revoke)\n", id);
            }
            free(secret);
        }
        json_decref(calendar);
        store_user_clear(&u);
    }
    store_close(st);
    return status;
}
