/*
 * id.h — the Id type shared by JMAP (RFC 8620 §1.2), JSCalendar (jscalendarbis §1.4.1)
 * and JSContact (RFC 9553 §1.4.1): 1 to 255 octets of the base64url alphabet
 * (A-Z a-z 0-9 "-" "_"). One check for all of them.
 */
#ifndef JMAPD_FORMATS_JSON_ID_H
#define JMAPD_FORMATS_JSON_ID_H

/* 1 if s is a valid Id; 0 otherwise (and for NULL). */
int jid_valid(const char *s);

#endif
