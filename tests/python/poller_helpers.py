"""Driving a GatewayPoller by hand in tests: a callback client that records what each flush would deliver,
and the poller's clock moved forward without waiting."""
import datetime


class Callback:
    """The callback client's interface, recording what each flush would deliver."""

    def __init__(self):
        self.posts = []
        self._pending = []

    def values(self, gateway, values):
        if values:
            self._pending.append(("values", values))

    def status(self, gateway, status):
        self._pending.append(("status", status))

    def inventory(self, gateway, inventory):
        self._pending.append(("inventory", inventory))

    def flush(self, gateway=None, timeout_s=None):
        if self._pending:
            self.posts.append(self._pending)
            self._pending = []
        return True

    def last(self, kind):
        return [body for post in self.posts for k, body in post if k == kind][-1]


def advance(poller, seconds):
    """Move the poller's schedule `seconds` forward, one second at a time, running what falls due."""
    for _ in range(int(seconds)):
        for job in poller.cadences.scheduler.jobs:
            job.next_run -= datetime.timedelta(seconds=1)
        poller.step()
