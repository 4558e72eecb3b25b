/*
 * cli.h — the subcommands of the jmapd binary (DESIGN.md §5). main.c parses the first
 * word and hands the remaining arguments to one of these. Each returns the process
 * exit status: 0 on success, 1 on bad input (with a message on stderr), 2 on usage.
 */
#ifndef JMAPD_CLI_H
#define JMAPD_CLI_H

int cli_serve(int argc, char **argv);
/* The allocator's settings of `jmapd serve` for its threads (serve.c; issue 19 §8), for
 * a program that runs the server's requests in-process (bench/scale/api_threads.c). */
void cli_malloc_tune(int threads);
/* `jmapd push-key PATH`: the WebPush VAPID key made there if absent, its public half
 * printed (serve runs it apart on its first start: no OpenSSL in the server until a push) */
int cli_push_key(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_group(int argc, char **argv); /* groups: principals whose shares reach members */
int cli_deliver(int argc, char **argv); /* an incoming iMIP message on stdin (RFC 6047) */
int cli_token(int argc, char **argv);
int cli_feed(int argc, char **argv);
int cli_import(int argc, char **argv);
int cli_export(int argc, char **argv);
/* `jmapd migrate --to postgresql://…`: SQLite to PostgreSQL (issue 15) */
int cli_migrate(int argc, char **argv);
int cli_subscribe(int argc, char **argv); /* a calendar that follows a feed (issue 17) */

/* `jmapd convert FILE [--to ics|vcf|json]`: convert.c picks the format by the file's
 * extension (or, for stdin, by --to and by sniffing) and calls one of these. */
int cli_convert(int argc, char **argv);
int cli_convert_ical(int argc, char **argv);  /* .ics <-> JSCalendar JSON */
int cli_convert_vcard(int argc, char **argv); /* .vcf <-> JSContact JSON */

/* `jmapd expand FILE --from UTC --to UTC [--tz ZONE]` */
int cli_expand(int argc, char **argv);

#endif
