"""Helpers for tests that run the client against the simulator: a minimal gateway of any serial/firmware."""
import json

from simulator.recorded import Response

INFO_XML = """<?xml version='1.0' encoding='UTF-8'?>
<envoy_info><time>1700000000</time><device><sn>{serial}</sn><pn>800-00654-r08</pn>
<software>D{firmware}</software><imeter>false</imeter></device></envoy_info>
"""


class MiniGateway:
    """A gateway with a given serial and firmware, answering `responses` (path -> JSON-able), else 404."""

    def __init__(self, serial="122112123456", firmware="7.6.175", responses=None):
        self.serial = serial
        self.firmware = firmware
        self.responses = {"/api/v1/production": {"wattsNow": 1234, "wattHoursToday": 5678,
                                                 "wattHoursSevenDays": 40000, "wattHoursLifetime": 9000000},
                          "/api/v1/production/inverters": []}
        self.responses.update(responses or {})
        self.posted = []

    def info_xml(self):
        return INFO_XML.format(serial=self.serial, firmware=self.firmware).encode()

    def response(self, path):
        if path not in self.responses:
            return Response(404, b"", "text/html")
        return Response(200, json.dumps(self.responses[path]).encode(), "application/json")

    def handle_write(self, method, path, body):
        self.posted.append((method, path, json.loads(body or b"null")))
        return Response(200, b'{"ok": true}', "application/json")
