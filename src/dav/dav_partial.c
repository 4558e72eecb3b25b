/*
 * dav_partial.c — partial retrieval in the reports: the components and properties a
 * CALDAV:calendar-data element names with comp, allcomp, prop and allprop (RFC 4791
 * §9.6.1-§9.6.4) and the vCard properties a CARDDAV:address-data names with prop and
 * allprop (RFC 6352 §10.4), "novalue" keeping a property's name and parameters alone.
 * The member's rendered text is parsed and a pruned copy written (ical_syntax.h, vcard.h);
 * the whole text when the element asks for all of it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dav/dav_internal.h"
#include "formats/icalendar/ical_syntax.h"
#include "formats/json/buffer.h"
#include "formats/vcard/vcard.h"

static bool no_value(const xmlNode *p)
{
    return dav_xml_attr_is(p, "novalue", "yes", false);
}

static bool named(const xmlNode *n, const char *name)
{
    return dav_xml_attr_is(n, "name", name, true);
}

bool dav_partial_wanted(const xmlNode *data, bool calendar)
{
    if (!data)
        return false;
    if (calendar)
        return dav_xml_child(data, NS_CALDAV, "comp") != NULL;
    return dav_xml_child(data, NS_CARDDAV, "prop") != NULL;
}

/* ---- iCalendar (RFC 4791 §9.6.1-§9.6.4) ------------------------------------------------------ */

/* The CALDAV:prop of spec that names property name, or NULL. */
static const xmlNode *prop_spec(const xmlNode *spec, const char *name)
{
    for (xmlNode *p = dav_xml_child(spec, NULL, NULL); p; p = dav_xml_next(p))
        if (dav_xml_is(p, NS_CALDAV, "prop") && named(p, name))
            return p;
    return NULL;
}

/* A copy of c with what the comp element spec asks for (spec NULL: all of it). */
static ical_comp *pruned(const ical_comp *c, const xmlNode *spec)
{
    ical_comp *out = ical_comp_new(c->name);
    bool all_props = !spec || dav_xml_child(spec, NS_CALDAV, "allprop"),
         all_comps = !spec || dav_xml_child(spec, NS_CALDAV, "allcomp");
    for (size_t i = 0; i < c->nprops; i++) {
        const ical_prop *p = &c->props[i];
        const xmlNode *ps = all_props ? NULL : prop_spec(spec, p->name);
        if (!all_props && !ps)
            continue;
        ical_prop *q = ical_comp_add_prop(out, p->name, ps && no_value(ps) ? "" : p->value);
        for (size_t k = 0; k < p->nparams; k++)
            for (size_t v = 0; v < p->params[k].nvalues; v++)
                ical_prop_add_param(q, p->params[k].name, p->params[k].values[v]);
    }
    for (size_t i = 0; i < c->ncomps; i++) {
        const xmlNode *cs = NULL;
        for (xmlNode *n = all_comps ? NULL : dav_xml_child(spec, NULL, NULL); n && !cs;
             n = dav_xml_next(n))
            if (dav_xml_is(n, NS_CALDAV, "comp") && named(n, c->comps[i]->name))
                cs = n;
        if (all_comps || cs)
            ical_comp_add_comp(out, pruned(c->comps[i], cs));
    }
    return out;
}

/* ---- vCard (RFC 6352 §10.4) ------------------------------------------------------------------ */

/* The CARDDAV:prop of data naming p: "TEL" in any group, "X-ABC.TEL" in that one. */
static const xmlNode *card_spec(const xmlNode *data, const vcard_prop *p)
{
    for (xmlNode *n = dav_xml_child(data, NULL, NULL); n; n = dav_xml_next(n)) {
        if (!dav_xml_is(n, NS_CARDDAV, "prop"))
            continue;
        xmlChar *v = xmlGetProp(n, (const xmlChar *)"name");
        const char *name = v ? (const char *)v : "", *dot = strchr(name, '.');
        size_t g = dot ? (size_t)(dot - name) : 0;
        bool is = dot ? p->group && strlen(p->group) == g && strncasecmp(p->group, name, g) == 0 &&
                            strcasecmp(p->name, dot + 1) == 0
                      : strcasecmp(p->name, name) == 0;
        xmlFree(v);
        if (is)
            return n;
    }
    return NULL;
}

static char *partial_vcard(const char *text, const xmlNode *data)
{
    vcard *cards = NULL;
    size_t n = 0;
    if (vcard_parse(text, strlen(text), &cards, &n, NULL) != 0 || n == 0) {
        vcard_list_free(cards, n);
        return NULL;
    }
    vcard out = {0};
    out.version = cards[0].version;
    for (size_t i = 0; i < cards[0].nprops; i++) {
        const vcard_prop *p = &cards[0].props[i];
        const xmlNode *spec = card_spec(data, p);
        if (!spec)
            continue;
        vcard_prop *q = vcard_prop_add(&out, p->group, p->name, no_value(spec) ? "" : p->value);
        for (size_t k = 0; k < p->nparams; k++)
            for (size_t v = 0; v < p->params[k].nvalues; v++)
                vcard_param_add(q, p->params[k].name, p->params[k].values[v]);
    }
    char *s = vcard_write(&out, 1, out.version == 30 ? VCARD_WRITE_V3 : 0);
    vcard_free(&out);
    vcard_list_free(cards, n);
    return s;
}

char *dav_partial(const char *text, const xmlNode *data, bool calendar)
{
    if (!calendar)
        return partial_vcard(text, data);
    ical_comp **comps = NULL;
    char *err = NULL;
    int n = ical_parse(text, strlen(text), &comps, &err);
    free(err);
    if (n < 0)
        return NULL;
    const xmlNode *top = dav_xml_child(data, NS_CALDAV, "comp");
    jbuf b = {0};
    for (int i = 0; i < n; i++) {
        if (named(top, comps[i]->name)) {
            ical_comp *c = pruned(comps[i], top);
            ical_comp_write(c, &b);
            ical_comp_free(c);
        }
        ical_comp_free(comps[i]);
    }
    free(comps);
    return jbuf_take(&b);
}
