"""Every control, round trip: action command as PHP sends it -> daemon -> gateway (simulated, over a real
socket) -> the state read back -> the info command updated in Jeedom (a real callback receiver).
Refusals come back as the `refused` code with a sentence, and nothing is written to the gateway."""
import time

import pytest

from simulator.synthetic import SyntheticGateway
from site_helpers import Site, commands

NOON = time.mktime((2025, 6, 21, 13, 0, 0, 0, 0, -1))


def house(**options):
    options = dict(dict(inverters=4, encharges=2, enpower=True, generator=True, dry_contacts=4, qrelays=1),
                   **options)
    return SyntheticGateway(clock=lambda: NOON, seed=3, **options)


@pytest.fixture
def site(tmp_path):
    sites = []

    def start(gateway=None, **options):
        sites.append(Site(tmp_path / str(len(sites)), gateway or house(), **options))
        return sites[-1]
    yield start
    for one in sites:
        one.close()


def refused(answer, *words, reason=None):
    """Refused with these words in its (English, logged) message and, for PHP's French sentence, its reason."""
    assert answer["ok"] is False and answer["error"]["code"] == "refused", answer
    assert all(word in answer["error"]["message"] for word in words), answer["error"]["message"]
    if reason is not None:
        assert answer["error"].get("reason") == reason, answer["error"]
    return True


def test_grid_disconnect_and_connect(site):
    s = site()
    enpower = s.gateway.enpower_serial
    inventory = s.sync()
    assert {"grid_connect", "grid_disconnect"} <= commands(inventory[enpower], "action")
    assert s.value(enpower, "relay_closed") == 1 and s.value(enpower, "grid_on") == 1
    assert s.execute(enpower, "grid_disconnect") == {"ok": True}
    assert s.gateway.mains_admin_state == "open"
    assert s.value(enpower, "relay_closed") == 0 and s.value(enpower, "grid_on") == 0
    assert s.execute(enpower, "grid_connect") == {"ok": True}
    assert s.value(enpower, "relay_closed") == 1 and s.value(enpower, "grid_on") == 1


def test_dry_contact_close_and_open(site):
    s = site()
    contact = f"{s.serial}_dry_contact_NO1"
    inventory = s.sync()
    assert inventory[contact]["kind"] == "dry_contact"
    assert s.value(contact, "closed") == 0
    assert s.execute(contact, "close") == {"ok": True}
    assert s.gateway.dry_contact_status["NO1"] == "closed" and s.value(contact, "closed") == 1
    assert s.execute(contact, "open") == {"ok": True}
    assert s.value(contact, "closed") == 0


def test_dry_contact_settings_are_written_whole(site):
    s = site()
    contact = f"{s.serial}_dry_contact_NO2"
    s.sync()
    before = next(dict(c) for c in s.gateway.dry_contacts if c["id"] == "NO2")
    assert s.execute(contact, "set_soc_low", "25") == {"ok": True}
    assert s.execute(contact, "set_mode", "soc") == {"ok": True}
    after = next(c for c in s.gateway.dry_contacts if c["id"] == "NO2")
    # The simulated gateway refuses a partial object (it crashes real ones): the write went through whole.
    assert after == dict(before, soc_low=25.0, mode="soc")
    assert s.value(contact, "soc_low") == 25 and s.value(contact, "mode") == "soc"
    assert refused(s.execute(contact, "set_soc_high", 140), "0 to 100", reason="bad_value")
    assert refused(s.execute(contact, "set_mode", "sometimes"), "manual, soc")


def test_generator_mode(site):
    s = site()
    generator = f"{s.serial}_generator"
    inventory = s.sync()
    assert "set_mode" in commands(inventory[generator], "action")
    assert s.value(generator, "mode") == "off"
    assert s.execute(generator, "set_mode", "auto") == {"ok": True}
    assert s.gateway.generator_mode == "auto" and s.value(generator, "mode") == "auto"
    assert s.execute(generator, "set_mode", "on") == {"ok": True}
    assert s.value(generator, "mode") == "on" and s.value(generator, "running") == 1
    assert refused(s.execute(generator, "set_mode", "sometimes"), "off, on, auto")


def test_production_off_and_on_with_installer_rights(site):
    s = site(role="installer")
    inverter = s.gateway.inverters[0].serial
    inventory = s.sync()
    assert {"production_on", "production_off"} <= commands(inventory[s.serial], "action")
    assert s.value(s.serial, "production_enabled") == 1 and s.value(inverter, "power_w") > 0
    assert s.execute(s.serial, "production_off") == {"ok": True}
    assert s.value(s.serial, "production_enabled") == 0
    assert s.value(inverter, "power_w") == 0  # the devices cycle that follows shows the microinverters stopped
    assert s.execute(s.serial, "production_on") == {"ok": True}
    assert s.value(s.serial, "production_enabled") == 1 and s.value(inverter, "power_w") > 0


def test_production_without_installer_rights_is_refused(site):
    s = site()
    inventory = s.sync()
    assert "production_enabled" not in commands(inventory[s.serial])  # an owner cannot read it either
    assert refused(s.execute(s.serial, "production_off"), "installer rights", reason="installer_required")
    assert s.simulator.count(method="PUT") == 0 and all(i.enabled for i in s.gateway.inverters)


def test_storage_profile_and_reserve_where_the_gateway_applies_them(site):
    s = site(house(firmware="7.6.175"))
    inventory = s.sync()
    assert {"set_storage_mode", "set_storage_reserve"} <= commands(inventory[s.serial], "action")
    select = next(c for c in inventory[s.serial]["commands"] if c["logicalId"] == "set_storage_mode")
    assert select["subType"] == "select" and select["value"] == "storage_mode"
    for language in ("fr_FR", "en_US"):  # the gateway's words, each with its label in that language
        assert [v.split("|")[0] for v in select["listValue"][language].split(";")] == [
            "self-consumption", "economy", "backup"]
    assert select["listValue"]["fr_FR"].split(";")[0] == "self-consumption|Autoconsommation"
    assert s.execute(s.serial, "set_storage_mode", "backup") == {"ok": True}
    assert s.gateway.storage_mode == "backup" and s.value(s.serial, "storage_mode") == "backup"
    assert s.execute(s.serial, "set_storage_reserve", 45) == {"ok": True}
    assert s.value(s.serial, "storage_reserve_percent") == 45
    assert refused(s.execute(s.serial, "set_storage_reserve", -5), "0 to 100")


def test_storage_writes_are_refused_where_the_gateway_would_ignore_them(site):
    s = site(house(firmware="8.2.4345"))
    s.sync()
    assert refused(s.execute(s.serial, "set_storage_mode", "backup"), "8.2.4345", "Enphase app",
                   reason="firmware_ignores")
    assert refused(s.execute(s.serial, "set_storage_reserve", 50), "ignores")
    assert s.simulator.count("/admin/lib/tariff", method="PUT") == 0
    assert s.value(s.serial, "storage_mode") == "self-consumption"


def test_plc_check_with_installer_rights(site):
    s = site(role="installer", detail={"default": True})  # a power-line level is detail
    s.sync()
    inverters = [i.serial for i in s.gateway.inverters]
    assert all(s.value(i, "plc_level") is None for i in inverters)
    assert s.execute(s.serial, "plc_check") == {"ok": True}
    assert [s.value(i, "plc_level") for i in inverters] == [5, 5, 5, 5]
    assert s.value(s.gateway.qrelay_serials[0], "plc_level") == 4


def test_plc_check_without_installer_rights_is_refused(site):
    s = site()
    s.sync()
    assert refused(s.execute(s.serial, "plc_check"), "installer rights")
    assert s.simulator.count("/installer/pcu_comm_check") == 0


def test_pause_resume_and_a_one_off_refresh(site):
    s = site()
    s.sync()
    poller = s.daemon.pollers["12"]
    assert s.execute(s.serial, "pause") == {"ok": True} and poller.paused
    before = s.simulator.count()
    assert s.ask("refresh") == {"ok": True}  # a one-off read still works while paused
    poller.submit(lambda: None).result(60)  # queued behind the refresh: that read is over
    assert s.simulator.count() > before
    assert s.execute(s.serial, "resume") == {"ok": True} and not poller.paused


def test_unknown_action_and_an_action_of_another_kind_are_refused(site):
    s = site()
    s.sync()
    assert refused(s.execute(s.serial, "self_destruct"), "Unknown action", reason="unknown_command")
    assert refused(s.execute(s.gateway.inverters[0].serial, "grid_disconnect"), "Unknown action")


def test_a_gateway_that_accepts_but_does_not_apply_is_a_refusal(site, monkeypatch):
    from envoy import writes

    class Stubborn(SyntheticGateway):
        def handle_write(self, method, path, body):
            answer = super().handle_write(method, path, body)
            self.generator_mode = "off"  # accepted, then undone (as a gateway in another mode would)
            return answer

    monkeypatch.setattr(writes, "sleep", lambda seconds: None)
    s = site(Stubborn(clock=lambda: NOON, seed=3, enpower=True, generator=True))
    s.sync()
    assert refused(s.execute(f"{s.serial}_generator", "set_mode", "on"), "still shows 'off'", reason="not_applied")


def test_qrelay_follows_the_grid(site):
    # No recorded gateway has a Q-Relay: the synthetic one's relay opens with the grid relay, as real ones do.
    s = site()
    qrelay = s.gateway.qrelay_serials[0]
    inventory = s.sync()
    assert inventory[qrelay]["kind"] == "qrelay"
    assert s.values()[qrelay] == dict(relay_closed=1, l1_connected=1, provisioned=1, communicating=1, operating=1)
    assert s.execute(s.gateway.enpower_serial, "grid_disconnect") == {"ok": True}
    assert s.value(qrelay, "relay_closed") == 0 and s.value(qrelay, "l1_connected") == 0
