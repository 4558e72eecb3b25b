/*
 * tz_windows.c — Microsoft/Windows time zone names (as Outlook, Exchange and Teams write
 * them in TZID parameters) mapped to IANA ids, following the "001" (golden zone) rows of the
 * Unicode CLDR windowsZones table. draft-ietf-calext-jscalendar-icalendar-25 §2.1.4 leaves
 * the mapping of non-IANA TZIDs to the implementation and names this kind of table.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/timezone/tz.h"

static const struct {
    const char *win, *iana;
} win_zones[] = {
    {"Dateline Standard Time", "Etc/GMT+12"},
    {"UTC-11", "Etc/GMT+11"},
    {"Aleutian Standard Time", "America/Adak"},
    {"Hawaiian Standard Time", "Pacific/Honolulu"},
    {"Marquesas Standard Time", "Pacific/Marquesas"},
    {"Alaskan Standard Time", "America/Anchorage"},
    {"UTC-09", "Etc/GMT+9"},
    {"Pacific Standard Time (Mexico)", "America/Tijuana"},
    {"UTC-08", "Etc/GMT+8"},
    {"Pacific Standard Time", "America/Los_Angeles"},
    {"US Mountain Standard Time", "America/Phoenix"},
    {"Mountain Standard Time (Mexico)", "America/Mazatlan"},
    {"Mountain Standard Time", "America/Denver"},
    {"Yukon Standard Time", "America/Whitehorse"},
    {"Central America Standard Time", "America/Guatemala"},
    {"Central Standard Time", "America/Chicago"},
    {"Easter Island Standard Time", "Pacific/Easter"},
    {"Central Standard Time (Mexico)", "America/Mexico_City"},
    {"Canada Central Standard Time", "America/Regina"},
    {"SA Pacific Standard Time", "America/Bogota"},
    {"Eastern Standard Time (Mexico)", "America/Cancun"},
    {"Eastern Standard Time", "America/New_York"},
    {"Haiti Standard Time", "America/Port-au-Prince"},
    {"Cuba Standard Time", "America/Havana"},
    {"US Eastern Standard Time", "America/Indiana/Indianapolis"},
    {"Turks And Caicos Standard Time", "America/Grand_Turk"},
    {"Paraguay Standard Time", "America/Asuncion"},
    {"Atlantic Standard Time", "America/Halifax"},
    {"Venezuela Standard Time", "America/Caracas"},
    {"Central Brazilian Standard Time", "America/Cuiaba"},
    {"SA Western Standard Time", "America/La_Paz"},
    {"Pacific SA Standard Time", "America/Santiago"},
    {"Newfoundland Standard Time", "America/St_Johns"},
    {"Tocantins Standard Time", "America/Araguaina"},
    {"E. South America Standard Time", "America/Sao_Paulo"},
    {"SA Eastern Standard Time", "America/Cayenne"},
    {"Argentina Standard Time", "America/Buenos_Aires"},
    {"Greenland Standard Time", "America/Godthab"},
    {"Montevideo Standard Time", "America/Montevideo"},
    {"Magallanes Standard Time", "America/Punta_Arenas"},
    {"Saint Pierre Standard Time", "America/Miquelon"},
    {"Bahia Standard Time", "America/Bahia"},
    {"UTC-02", "Etc/GMT+2"},
    {"Mid-Atlantic Standard Time", "Etc/GMT+2"},
    {"Azores Standard Time", "Atlantic/Azores"},
    {"Cape Verde Standard Time", "Atlantic/Cape_Verde"},
    {"UTC", "Etc/UTC"},
    {"Coordinated Universal Time", "Etc/UTC"},
    {"GMT Standard Time", "Europe/London"},
    {"Greenwich Standard Time", "Atlantic/Reykjavik"},
    {"Sao Tome Standard Time", "Africa/Sao_Tome"},
    {"Morocco Standard Time", "Africa/Casablanca"},
    {"W. Europe Standard Time", "Europe/Berlin"},
    {"Central Europe Standard Time", "Europe/Budapest"},
    {"Romance Standard Time", "Europe/Paris"},
    {"Central European Standard Time", "Europe/Warsaw"},
    {"W. Central Africa Standard Time", "Africa/Lagos"},
    {"Jordan Standard Time", "Asia/Amman"},
    {"GTB Standard Time", "Europe/Bucharest"},
    {"Middle East Standard Time", "Asia/Beirut"},
    {"Egypt Standard Time", "Africa/Cairo"},
    {"E. Europe Standard Time", "Europe/Chisinau"},
    {"Syria Standard Time", "Asia/Damascus"},
    {"West Bank Standard Time", "Asia/Hebron"},
    {"South Africa Standard Time", "Africa/Johannesburg"},
    {"FLE Standard Time", "Europe/Kiev"},
    {"Israel Standard Time", "Asia/Jerusalem"},
    {"South Sudan Standard Time", "Africa/Juba"},
    {"Kaliningrad Standard Time", "Europe/Kaliningrad"},
    {"Sudan Standard Time", "Africa/Khartoum"},
    {"Libya Standard Time", "Africa/Tripoli"},
    {"Namibia Standard Time", "Africa/Windhoek"},
    {"Arabic Standard Time", "Asia/Baghdad"},
    {"Turkey Standard Time", "Europe/Istanbul"},
    {"Arab Standard Time", "Asia/Riyadh"},
    {"Belarus Standard Time", "Europe/Minsk"},
    {"Russian Standard Time", "Europe/Moscow"},
    {"E. Africa Standard Time", "Africa/Nairobi"},
    {"Volgograd Standard Time", "Europe/Volgograd"},
    {"Iran Standard Time", "Asia/Tehran"},
    {"Arabian Standard Time", "Asia/Dubai"},
    {"Astrakhan Standard Time", "Europe/Astrakhan"},
    {"Azerbaijan Standard Time", "Asia/Baku"},
    {"Russia Time Zone 3", "Europe/Samara"},
    {"Mauritius Standard Time", "Indian/Mauritius"},
    {"Saratov Standard Time", "Europe/Saratov"},
    {"Georgian Standard Time", "Asia/Tbilisi"},
    {"Caucasus Standard Time", "Asia/Yerevan"},
    {"Afghanistan Standard Time", "Asia/Kabul"},
    {"West Asia Standard Time", "Asia/Tashkent"},
    {"Ekaterinburg Standard Time", "Asia/Yekaterinburg"},
    {"Pakistan Standard Time", "Asia/Karachi"},
    {"Qyzylorda Standard Time", "Asia/Qyzylorda"},
    {"India Standard Time", "Asia/Calcutta"},
    {"Sri Lanka Standard Time", "Asia/Colombo"},
    {"Nepal Standard Time", "Asia/Katmandu"},
    {"Central Asia Standard Time", "Asia/Almaty"},
    {"Bangladesh Standard Time", "Asia/Dhaka"},
    {"Omsk Standard Time", "Asia/Omsk"},
    {"Myanmar Standard Time", "Asia/Rangoon"},
    {"SE Asia Standard Time", "Asia/Bangkok"},
    {"Altai Standard Time", "Asia/Barnaul"},
    {"W. Mongolia Standard Time", "Asia/Hovd"},
    {"North Asia Standard Time", "Asia/Krasnoyarsk"},
    {"N. Central Asia Standard Time", "Asia/Novosibirsk"},
    {"Tomsk Standard Time", "Asia/Tomsk"},
    {"China Standard Time", "Asia/Shanghai"},
    {"North Asia East Standard Time", "Asia/Irkutsk"},
    {"Singapore Standard Time", "Asia/Singapore"},
    {"Malay Peninsula Standard Time", "Asia/Singapore"},
    {"W. Australia Standard Time", "Australia/Perth"},
    {"Taipei Standard Time", "Asia/Taipei"},
    {"Ulaanbaatar Standard Time", "Asia/Ulaanbaatar"},
    {"Aus Central W. Standard Time", "Australia/Eucla"},
    {"Transbaikal Standard Time", "Asia/Chita"},
    {"Tokyo Standard Time", "Asia/Tokyo"},
    {"North Korea Standard Time", "Asia/Pyongyang"},
    {"Korea Standard Time", "Asia/Seoul"},
    {"Yakutsk Standard Time", "Asia/Yakutsk"},
    {"Cen. Australia Standard Time", "Australia/Adelaide"},
    {"AUS Central Standard Time", "Australia/Darwin"},
    {"E. Australia Standard Time", "Australia/Brisbane"},
    {"AUS Eastern Standard Time", "Australia/Sydney"},
    {"West Pacific Standard Time", "Pacific/Port_Moresby"},
    {"Tasmania Standard Time", "Australia/Hobart"},
    {"Vladivostok Standard Time", "Asia/Vladivostok"},
    {"Lord Howe Standard Time", "Australia/Lord_Howe"},
    {"Bougainville Standard Time", "Pacific/Bougainville"},
    {"Russia Time Zone 10", "Asia/Srednekolymsk"},
    {"Magadan Standard Time", "Asia/Magadan"},
    {"Norfolk Standard Time", "Pacific/Norfolk"},
    {"Sakhalin Standard Time", "Asia/Sakhalin"},
    {"Central Pacific Standard Time", "Pacific/Guadalcanal"},
    {"Russia Time Zone 11", "Asia/Kamchatka"},
    {"New Zealand Standard Time", "Pacific/Auckland"},
    {"UTC+12", "Etc/GMT-12"},
    {"Fiji Standard Time", "Pacific/Fiji"},
    {"Chatham Islands Standard Time", "Pacific/Chatham"},
    {"UTC+13", "Etc/GMT-13"},
    {"Tonga Standard Time", "Pacific/Tongatapu"},
    {"Samoa Standard Time", "Pacific/Apia"},
    {"Line Islands Standard Time", "Pacific/Kiritimati"},
};

/* Outlook also writes display names, "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, ...". */
static const struct {
    const char *prefix, *iana;
} win_display[] = {
    {"(UTC+01:00) Amsterdam, Berlin", "Europe/Berlin"},
    {"(UTC+01:00) Belgrade, Bratislava", "Europe/Budapest"},
    {"(UTC+01:00) Brussels, Copenhagen", "Europe/Paris"},
    {"(UTC+01:00) Sarajevo, Skopje", "Europe/Warsaw"},
    {"(UTC+01:00) West Central Africa", "Africa/Lagos"},
    {"(UTC+00:00) Dublin, Edinburgh", "Europe/London"},
    {"(UTC) Dublin, Edinburgh", "Europe/London"},
    {"(UTC+00:00) Monrovia, Reykjavik", "Atlantic/Reykjavik"},
    {"(UTC) Coordinated Universal Time", "Etc/UTC"},
    {"(UTC+02:00) Athens, Bucharest", "Europe/Bucharest"},
    {"(UTC+02:00) Helsinki, Kyiv", "Europe/Kiev"},
    {"(UTC+02:00) Jerusalem", "Asia/Jerusalem"},
    {"(UTC+03:00) Moscow, St. Petersburg", "Europe/Moscow"},
    {"(UTC+03:00) Istanbul", "Europe/Istanbul"},
    {"(UTC+05:30) Chennai, Kolkata", "Asia/Calcutta"},
    {"(UTC+08:00) Beijing, Chongqing", "Asia/Shanghai"},
    {"(UTC+09:00) Osaka, Sapporo, Tokyo", "Asia/Tokyo"},
    {"(UTC+10:00) Canberra, Melbourne, Sydney", "Australia/Sydney"},
    {"(UTC+12:00) Auckland, Wellington", "Pacific/Auckland"},
    {"(UTC-05:00) Eastern Time (US & Canada)", "America/New_York"},
    {"(UTC-06:00) Central Time (US & Canada)", "America/Chicago"},
    {"(UTC-07:00) Mountain Time (US & Canada)", "America/Denver"},
    {"(UTC-08:00) Pacific Time (US & Canada)", "America/Los_Angeles"},
    {"(UTC-07:00) Arizona", "America/Phoenix"},
    {"(UTC-10:00) Hawaii", "Pacific/Honolulu"},
    {"(UTC-09:00) Alaska", "America/Anchorage"},
    {"(UTC-03:00) Brasilia", "America/Sao_Paulo"},
};

const char *tz_windows_to_iana(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof win_zones / sizeof *win_zones; i++)
        if (!strcasecmp(win_zones[i].win, name))
            return win_zones[i].iana;
    /* Older Outlook versions write "(GMT+01:00) Amsterdam, Berlin, ...". */
    int gmt = !strncasecmp(name, "(GMT", 4);
    for (size_t i = 0; i < sizeof win_display / sizeof *win_display; i++) {
        const char *pre = win_display[i].prefix;
        if (gmt && !strncmp(pre, "(UTC", 4) && !strncasecmp(pre + 4, name + 4, strlen(pre) - 4))
            return win_display[i].iana;
        if (!strncasecmp(pre, name, strlen(pre)))
            return win_display[i].iana;
    }
    /* Lotus Notes drops the suffix: "W. Europe", "Eastern". */
    size_t n = strlen(name);
    for (size_t i = 0; n >= 3 && i < sizeof win_zones / sizeof *win_zones; i++) {
        const char *w = win_zones[i].win;
        if (!strncasecmp(w, name, n) && !strcmp(w + n, " Standard Time"))
            return win_zones[i].iana;
    }
    return NULL;
}
