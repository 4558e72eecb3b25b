"""callgrind_get.sh's client: sets up 50 events without and 50 with 1 KB metadata each,
then, between zeroing and dumping callgrind's counters, sends ROUNDS CalendarEvent/get of
one set (argv[2]: plain or rich). Instructions, not wall time: the machine is shared."""
import subprocess
import sys

import bench as b

MODE, ROUNDS, PID = sys.argv[2], int(sys.argv[3]), sys.argv[4]


def main():
    s, acct = b.session("bench")
    kb = {"acme.example.com": {"notes": "n" * 900, "color": "blue", "tags": ["a", "b", "c"],
                               "project": {"id": "ALPHA-2024", "deadline": "2024-12-31"}}}
    ids = b.events(s, acct, 50, metadata=kb if MODE == "rich" else None)
    get = lambda: b.one(s, "CalendarEvent/get", {"accountId": acct, "ids": ids})
    get()
    subprocess.run(["callgrind_control", "-z", PID], check=True, capture_output=True)
    for _ in range(ROUNDS):
        get()
    subprocess.run(["callgrind_control", "-d", PID], check=True, capture_output=True)


if __name__ == "__main__":
    main()
