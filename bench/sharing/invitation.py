"""Driver of invitation.sh: one invitation to N local attendees to warm the server, then
three more (CalendarEvent/set create with sendSchedulingMessages) between
callgrind_control's zero and dump."""
import json
import subprocess
import sys
import time

import requests

CORE, CAL = "urn:ietf:params:jmap:core", "urn:ietf:params:jmap:calendars"


def main():
    base, pid, n_att = sys.argv[1], sys.argv[2], int(sys.argv[3])
    s = requests.Session()
    s.auth = ("owner", "owner-pw")

    def api(calls):
        r = s.post(base + "/jmap/api/", data=json.dumps({"using": [CORE, CAL], "methodCalls": calls}),
                   headers={"Content-Type": "application/json"})
        r.raise_for_status()
        return r.json()["methodResponses"]

    owner = s.get(base + "/jmap/session").json()["primaryAccounts"][CAL]
    cal = [c["id"] for c in api([["Calendar/get", {"accountId": owner}, "0"]])[0][1]["list"]
           if c["isDefault"]][0]
    parts = {"o": {"@type": "Participant", "calendarAddress": "mailto:owner@localhost",
                   "roles": {"owner": True, "attendee": True}}}
    for i in range(n_att):
        parts[f"p{i}"] = {"@type": "Participant", "roles": {"attendee": True},
                          "calendarAddress": f"mailto:att{i:03d}@localhost"}

    def invite(k):
        t = time.perf_counter()
        r = api([["CalendarEvent/set", {"accountId": owner, "sendSchedulingMessages": True,
                                         "create": {"e": {
                                             "calendarIds": {cal: True}, "title": f"all hands {k}",
                                             "start": "2026-09-01T10:00:00",
                                             "timeZone": "Europe/Paris",
                                             "organizerCalendarAddress": "mailto:owner@localhost",
                                             "participants": parts}}}, "0"]])
        assert r[0][1].get("created"), r
        return (time.perf_counter() - t) * 1000

    def ctl(*a):
        subprocess.run(["callgrind_control", *a, pid], stdout=subprocess.DEVNULL, check=True)

    invite(0)
    ctl("-z")
    ctl("-i", "on")
    for k in range(1, 4):
        invite(k)
    ctl("-i", "off")
    ctl("-d", "invitations")


main()
