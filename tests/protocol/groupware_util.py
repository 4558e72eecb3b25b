"""Multi-user helpers for the groupware suites (issue 14): a server with users who
share nothing account-wide (alice owns, bob/dan/erin are sharees, frank is the
outsider), the principals and sharing capabilities, and CLI access."""
from conftest import CAL, CORE, Server, run_cli

import requests

PRINCIPALS = "urn:ietf:params:jmap:principals"
OWNER = "urn:ietf:params:jmap:principals:owner"
CONTACTS = "urn:ietf:params:jmap:contacts"
USERS = {"alice": "alice-pw", "bob": "bob-pw", "dan": "dan-pw", "erin": "erin-pw",
         "frank": "frank-pw"}
USING = [CORE, CAL, PRINCIPALS]


class GroupServer(Server):
    """Users of USERS, nothing shared: every right comes from a shareWith or a group."""

    def __init__(self, **kw):
        super().__init__(users=USERS, **kw)

    def http(self, user="alice"):
        if user not in self.sessions:
            s = requests.Session()
            s.auth = (user, USERS[user])
            self.sessions[user] = s
        return self.sessions[user]

    def cli(self, *args, stdin=None):
        return run_cli(self.data, *args, "--config", self.config, stdin=stdin)

    def own(self, user):
        """The user's own account id, which is also their principal id."""
        return self.session(user)["primaryAccounts"][CAL]

    def c(self, name, args, user="alice", using=None):
        return self.call(name, args, user=user, using=using or USING + [CONTACTS])

    def close(self):
        rc = self.stop() if self.proc.poll() is None else self.proc.returncode
        log = self.read_log()
        self.tmp.cleanup()
        # a clean exit, and no sanitizer report on the way
        assert rc == 0, log[-4000:]
        assert "ERROR: AddressSanitizer" not in log and "runtime error" not in log, log[-4000:]
