/*
 * test_store_util.h — a fresh SQLite store in a temporary directory for the store's
 * unit tests, and its removal. Header-only: each test binary is one translation unit.
 */
#ifndef TEST_STORE_UTIL_H
#define TEST_STORE_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/store.h"

/* A store opened in a new directory /tmp/jmapd-<what>-XXXXXX, written into dir. */
static __attribute__((unused)) struct store *ts_open(char dir[64], const char *what)
{
    snprintf(dir, 64, "/tmp/jmapd-%s-XXXXXX", what);
    assert_non_null(mkdtemp(dir));
    char *err = NULL;
    struct store *st = store_open(dir, &err);
    assert_non_null(st);
    return st;
}

static int ts_remove(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* The store closed and its directory removed. */
static __attribute__((unused)) void ts_close(struct store *st, const char *dir)
{
    store_close(st);
    assert_int_equal(nftw(dir, ts_remove, 16, FTW_DEPTH | FTW_PHYS), 0);
}

#endif
