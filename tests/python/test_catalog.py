"""The catalog: every command of the seed's list is there, read from readings, described as the protocol says."""
import pytest

from catalog import (COUNTED, INVERTER, KINDS, Described, describe_inventory, equipment_values, equipments,
                     find_command, present_commands, values)
from envoy.readings import (AcBattery, AcBatteryTotal, BatteryAggregate, Encharge, Energy, GatewayInfo,
                            Inverter, Meter, MeterReading, Readings)

pytestmark = pytest.mark.pure  # no socket, thread or process: part of `make test-fast`

SERIAL = "122302045041"


def site():
    """A metered gateway with two microinverters, an AC Battery, an IQ Battery and two CTs."""
    return Readings(
        gateway=GatewayInfo(serial=SERIAL, part_number="800-00654-r08", firmware="7.6.175", imeter=True),
        production=Energy(1234.0, 5000.0, 70000.0, 2432970.0),
        consumption=Energy(524.0, 63.0, 19.0, 3711429.0),
        net_consumption=Energy(-710.0, 0.0, 0.0, 1279038.0),
        ac_battery_total=AcBatteryTotal(count=1, watts_now=-200.0, wh_now=700.0, state="charging",
                                        percent_full=56.0),
        battery=BatteryAggregate(percent_full=15.0, available_energy_wh=525.0),
        inverters={"482243033093": Inverter("482243033093", watts_now=36.0, max_watts=300.0, provisioned=True,
                                            communicating=True, producing=False),
                   "482243033094": Inverter("482243033094", watts_now=40.5, max_watts=301.0)},
        ac_batteries={"121158016651": AcBattery("121158016651", provisioned=True, communicating=True,
                                                producing=True, watts_now=-200.0, max_watts=260.0,
                                                percent_full=56.0, max_cell_temp_c=24.0)},
        encharges={"122249097612": Encharge("122249097612", percent_full=15.0, watts_now=0.0,
                                            temperature_c=21.0, max_cell_temp_c=23.0, communicating=True)},
        meters={"production": Meter("704643328", "production", state="enabled",
                                    total=MeterReading(active_power_w=1234.0, voltage_v=238.524),
                                    phases=[MeterReading(active_power_w=1234.0, voltage_v=238.5)]),
                "net-consumption": Meter("704643584", "net-consumption", state="enabled",
                                         total=MeterReading(active_power_w=522.0, current_a=3.138))},
    )


SEED_COMMANDS = {
    "gateway": ["inverters_count", "batteries_count", "battery_state", "battery_percent", "battery_power_w",
                "production_w", "production_today_wh", "production_7days_wh", "production_lifetime_wh",
                "consumption_w", "consumption_today_wh", "consumption_7days_wh", "consumption_lifetime_wh",
                "net_w", "net_today_wh", "net_7days_wh", "net_lifetime_wh"],
    "inverter": ["provisioned", "communicating", "producing", "power_w", "max_power_w"],
    "ac_battery": ["provisioned", "communicating", "producing", "power_w", "max_power_w", "percent",
                   "max_temperature_c"],
}


def test_every_command_of_the_seed_list_is_in_the_catalog():
    for kind, ids in SEED_COMMANDS.items():
        assert set(ids) <= {c.logical_id for c in KINDS[kind].commands}, kind


def test_logical_ids_and_names_are_unique_per_kind():
    # Jeedom refuses two commands of the same name on one equipment.
    for kind in KINDS.values():
        for attribute in ("logical_id", "fr", "en"):
            names = [getattr(c, attribute) for c in kind.commands]
            assert len(names) == len(set(names)), (kind.kind, attribute)


def test_commands_use_the_protocol_vocabulary():
    generic = {"POWER", "CONSUMPTION", "DAILY_CONSUMPTION", "PRODUCTION", "DAILY_PRODUCTION", "VOLTAGE",
               "BATTERY", "BATTERY_CHARGING", "TEMPERATURE", "GENERIC_INFO", "GENERIC_ACTION"}
    for kind in KINDS.values():
        for c in kind.commands:
            assert c.generic in generic, c.logical_id
            assert c.cadence in ("general", "devices")
            assert (c.type, c.subtype) in {("info", "numeric"), ("info", "binary"), ("info", "string"),
                                           ("action", "other"), ("action", "slider"), ("action", "select")}
            assert c.type == "action" or c.read is not None or c in COUNTED  # counted by counters.py


def test_equipments_of_a_site_with_inverters_batteries_and_cts():
    found = {(e.kind.kind, e.logical_id) for e in equipments(site())}
    assert found == {("gateway", SERIAL), ("inverter", "482243033093"), ("inverter", "482243033094"),
                     ("ac_battery", "121158016651"), ("encharge", "122249097612"),
                     ("meter", f"{SERIAL}_meter_production"), ("meter", f"{SERIAL}_meter_net-consumption")}


def test_gateway_values():
    got = values(site())[SERIAL]
    assert got["production_w"] == 1234 and got["production_lifetime_wh"] == 2432970
    assert got["consumption_today_wh"] == 63 and got["net_w"] == -710
    assert got["inverters_count"] == 2 and got["batteries_count"] == 2
    assert got["battery_state"] == "charging" and got["battery_power_w"] == -200
    assert got["battery_percent"] == 15  # the site aggregate wins over the AC Batteries alone


def test_device_values_binary_as_numbers_and_absent_readings_absent():
    all_values = values(site())
    assert all_values["482243033093"] == {"provisioned": 1, "communicating": 1, "producing": 0,
                                          "power_w": 36, "max_power_w": 300}
    assert all_values["482243033094"] == {"power_w": 40, "max_power_w": 301}  # W to the watt
    assert all_values["121158016651"]["max_temperature_c"] == 24
    assert all_values["122249097612"]["percent"] == 15
    assert all_values[f"{SERIAL}_meter_production"]["l1_voltage_v"] == 238.5
    assert "l2_voltage_v" not in all_values[f"{SERIAL}_meter_production"]


def test_a_general_reading_without_devices_publishes_no_counts():
    readings = Readings(gateway=GatewayInfo(serial=SERIAL), production=Energy(watts_now=10.0))
    assert values(readings) == {SERIAL: {"production_w": 10}}


def test_battery_state_from_iq_batteries_when_there_is_no_ac_battery():
    readings = Readings(gateway=GatewayInfo(serial=SERIAL),
                        encharges={"1": Encharge("1", watts_now=300.0), "2": Encharge("2", watts_now=-100.0)})
    got = values(readings)[SERIAL]
    assert got["battery_power_w"] == 200 and got["battery_state"] == "discharging"


def test_inventory_lists_only_commands_with_a_value_in_the_protocol_shape():
    gateway = equipments(site())[0]
    inventory = describe_inventory([Described(gateway.kind, gateway.logical_id, gateway.fr, gateway.en,
                                              present_commands(gateway.kind, equipment_values(gateway)),
                                              {"firmware": "7.6.175"})])
    described = inventory["equipments"][0]
    assert described == {"logicalId": SERIAL, "kind": "gateway", "configuration": {"firmware": "7.6.175"},
                         "name": {"fr_FR": f"Passerelle …{SERIAL[-4:]}", "en_US": f"Gateway …{SERIAL[-4:]}"}}
    described = inventory["kinds"]["gateway"]
    production = next(c for c in described["commands"] if c["logicalId"] == "production_w")
    # What goes without saying is not said: an info command, visible.
    assert production == {"logicalId": "production_w",
                          "name": {"fr_FR": "Production instantanée", "en_US": "Instant production"},
                          "subType": "numeric", "unit": "W", "genericType": "PRODUCTION",
                          "isHistorized": 1, "template": "core::tile", "order": production["order"]}
    orders = [c["order"] for c in described["commands"]]
    assert orders == sorted(orders)
    bare = Readings(gateway=GatewayInfo(serial=SERIAL), production=Energy(watts_now=1.0))
    bare_gateway = equipments(bare)[0]
    # Actions that set no reading (polling, the PLC check) are on every gateway.
    assert present_commands(bare_gateway.kind, equipment_values(bare_gateway)) == [
        "production_w", "plc_check", "pause", "resume"]


def test_each_kind_is_described_once_and_an_equipment_names_its_commands_only_when_it_lacks_some():
    every = {"power_w", "lifetime_wh", "max_power_w"}
    inverters = [Described(INVERTER, "48224303%04d" % i, "Micro-onduleur", "Microinverter", every) for i in range(600)]
    inverters.append(Described(INVERTER, "482243039999", "Micro-onduleur", "Microinverter", {"power_w"}))
    inventory = describe_inventory(inverters)
    assert list(inventory["kinds"]) == ["inverter"]
    assert {c["logicalId"] for c in inventory["kinds"]["inverter"]["commands"]} == every
    assert all("commands" not in e for e in inventory["equipments"][:600])
    assert inventory["equipments"][600]["commands"] == ["power_w"]


def test_find_command():
    assert find_command("inverter", "power_w").unit == "W"
    assert find_command("inverter", "nope") is None and find_command("nope", "power_w") is None


def test_numbers_are_rounded_to_their_units_resolution():
    from catalog import json_value
    assert json_value(7007.282, "Wh") == 7007
    assert json_value(289.944, "W") == 290
    assert json_value(231.48, "V") == 231.5
    assert json_value(1.2913, "A") == 1.29
    assert json_value(0.7061, "") == 0.706
    assert json_value(True, "") == 1


def test_state_codes_carry_their_french_and_english_labels():
    from catalog import GATEWAY, describe_command
    state = next(c for c in GATEWAY.commands if c.logical_id == "battery_state")
    described = describe_command(state, 0)
    assert described["valueLabels"]["discharging"] == {"fr_FR": "En décharge", "en_US": "Discharging"}
    assert set(described["valueLabels"]) == {"charging", "discharging", "idle"}


def test_one_command_per_quantity_of_the_day_with_its_generic_type_and_the_one_it_replaces():
    from catalog import GATEWAY, describe_command
    by_generic, names = {}, {}
    for c in GATEWAY.commands:
        by_generic.setdefault(c.generic, []).append(c.logical_id)
        names.setdefault(c.fr, []).append(c.logical_id)
    assert by_generic["DAILY_PRODUCTION"] == ["production_today_wh"]
    assert by_generic["DAILY_CONSUMPTION"] == ["consumption_today_wh"]
    assert [name for name, ids in names.items() if len(ids) > 1] == []
    assert not [name for name in names if "compteur" in name]  # the counted duplicates of version 0.1 are gone
    replaced = {c.logical_id: describe_command(c, 0).get("replaces") for c in GATEWAY.commands if c.replaces}
    assert replaced == {"production_today_wh": ["production_day_wh"], "consumption_today_wh": ["consumption_day_wh"]}
    assert not set(replaced) & {old for olds in replaced.values() for old in olds}


def test_a_value_that_does_not_suit_its_subtype_is_not_published():
    from catalog import Command, read_command
    word = Command(logical_id="mode", fr="Mode", en="Mode", subtype="string", read=lambda r: r)
    number = Command(logical_id="power_w", fr="Puissance", en="Power", subtype="numeric", unit="W", read=lambda r: r)
    yes_no = Command(logical_id="on", fr="Marche", en="On", subtype="binary", read=lambda r: r)
    assert read_command(word, 1) is None and read_command(word, "auto") == "auto"
    assert read_command(number, "12") is None and read_command(number, float("nan")) is None
    assert read_command(number, True) is None and read_command(number, 12.4) == 12
    assert read_command(yes_no, "yes") is None and read_command(yes_no, True) == 1


def test_records_are_built_by_keyword_only():
    from catalog import Command, Kind
    with pytest.raises(TypeError):
        Command("power_w", "Puissance", "Power", "numeric")
    with pytest.raises(TypeError):
        Kind("gateway", "Passerelle", "Gateway", ())
    command = Command(logical_id="power_w", fr="Puissance", en="Power", subtype="numeric")
    with pytest.raises(AttributeError):
        command.unit = "kW"  # frozen: a description never changes after import
    assert command.template == "core::tile" and command.generic == "GENERIC_INFO"


def test_counters_keep_the_catalogs_monotonic_commands_and_name_no_command():
    import ast
    from pathlib import Path

    import counters
    from catalog import DAY_FLOWS, NET_BALANCE
    flagged = {(kind.kind, c.logical_id) for kind in KINDS.values() for c in kind.commands if c.monotonic}
    assert {(kind, cmd) for kind, cmds in counters.MONOTONIC.items() for cmd in cmds} == flagged
    assert ("gateway", "production_lifetime_wh") in flagged and ("inverter", "lifetime_wh") in flagged
    assert ("gateway", "net_lifetime_wh") not in flagged  # goes down while the site exports
    gateway_ids = {c.logical_id for c in KINDS["gateway"].commands}
    for flow in DAY_FLOWS:
        assert flow.day in gateway_ids and {flow.yesterday, flow.week} <= gateway_ids | {""}
        assert flow.lifetime in {cmd for cmds in counters.MONOTONIC.values() for cmd in cmds}
    assert {NET_BALANCE.lifetime, NET_BALANCE.day, NET_BALANCE.week} <= gateway_ids
    # counters.py takes every logicalId from the catalog: none is written there.
    all_ids = {c.logical_id for kind in KINDS.values() for c in kind.commands}
    source = Path(counters.__file__).read_text(encoding="utf-8")
    written = {node.value for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Constant)
               and isinstance(node.value, str)}
    assert {text for text in written if text in all_ids or "_wh" in text or "_pct" in text} == set()


def test_every_equipment_is_named_after_its_kind():
    from envoy.readings import DryContact, Enpower, Generator
    readings = site()
    readings.enpower = Enpower("482251012345")
    readings.dry_contacts = {"NC1": DryContact("NC1")}
    readings.generator = Generator()
    found = equipments(readings)
    assert {e.kind.kind for e in found} >= {"gateway", "inverter", "meter", "enpower", "dry_contact", "generator"}
    for eq in found:
        assert eq.fr.startswith(eq.kind.fr) and eq.en.startswith(eq.kind.en), eq.logical_id
        assert len(eq.fr) <= 30, f"{eq.fr!r}: a dashboard title of 230 px shows about 30 characters"
    names = {e.logical_id: (e.fr, e.en) for e in found}
    # A device: its kind and the end of its serial; one of a kind per gateway: what it is.
    inverter = next(iter(readings.inverters))
    assert names[inverter] == (f"Micro-onduleur …{inverter[-4:]}", f"Microinverter …{inverter[-4:]}")
    assert names["482251012345"] == ("Contrôleur système IQ", "IQ System Controller")
    assert names[f"{SERIAL}_meter_net-consumption"] == ("Compteur consommation nette", "CT meter net consumption")
    assert names[f"{SERIAL}_dry_contact_NC1"] == ("Contact sec NC1", "Dry contact NC1")
    assert names[f"{SERIAL}_generator"] == ("Générateur", "Generator")


def test_short_names_tell_a_gateways_devices_apart():
    from catalog import short_names
    assert short_names(["482218470054", "482218470055"]) == {"482218470054": "…0054", "482218470055": "…0055"}
    # Two of 600 end alike: every name of that kind takes one more digit, so that all stay apart.
    names = short_names(["482218470054", "482218480054", "482218470055"])
    assert names == {"482218470054": "…70054", "482218480054": "…80054", "482218470055": "…70055"}
    site_serials = [f"4822{n:08d}" for n in range(0, 600 * 37, 37)]
    assert len(set(short_names(site_serials).values())) == 600
    assert short_names(["123"]) == {"123": "123"}


# --- plausible ranges (issue 12, point 12) ---

def absurd_site():
    """The site above as a broken or hostile gateway answered it: 1e15 W of production, a microinverter at
    7e12 W, an IQ Battery at 900 °C, a CT at 1e9 V, a charge of 250 %."""
    r = site()
    r.production.watts_now = 1e15
    r.inverters["482243033093"].watts_now = 7e12
    r.encharges["122249097612"].temperature_c = 900.0
    r.meters["production"].total.voltage_v = 1e9
    r.battery.percent_full = 250.0
    return r


def test_a_value_outside_its_quantity_s_range_is_not_published_and_blanks_nothing_else(caplog):
    good, bad = values(site()), values(absurd_site())
    dropped = {("122302045041", "production_w"), ("482243033093", "power_w"), ("122249097612", "temperature_c"),
               (f"{SERIAL}_meter_production", "voltage_v"), (SERIAL, "battery_percent"),
               (SERIAL, "consumption_w")}  # the house's: production + net + battery, so absurd too
    for eq, commands in good.items():
        for cmd, value in commands.items():
            if (eq, cmd) in dropped:
                assert cmd not in bad[eq], (eq, cmd)
            else:
                assert bad[eq][cmd] == value, (eq, cmd)  # the equipment's other values are all there
    assert good["482243033093"]["power_w"] == 36 and good[SERIAL]["production_w"] == 1234


def test_an_implausible_value_is_logged_once_and_again_after_it_was_back_in_range(caplog):
    caplog.set_level("WARNING", logger="enphased.catalog")
    values(site())  # a site in range, which then answers absurd values three cycles running
    for _ in range(3):
        values(absurd_site())
    said = [r.getMessage() for r in caplog.records if "482243033093 power_w" in r.getMessage()]
    assert len(said) == 1 and "7e+12" in said[0] and "not published" in said[0]
    # One per value dropped (the house's consumption, made from the absurd production, with it).
    assert len([r for r in caplog.records if r.name == "enphased.catalog"]) == 6
    values(site())  # back in range
    values(absurd_site())
    assert len([r for r in caplog.records if "482243033093 power_w" in r.getMessage()]) == 2


def test_every_numeric_quantity_has_one_range_and_a_device_s_power_is_its_own():
    from catalog import QUANTITIES, rated_power_w
    for kind in KINDS.values():
        for c in kind.commands:
            if c.type == "info" and c.subtype == "numeric" and c.unit:
                assert c.quantity in QUANTITIES, (kind.kind, c.logical_id)
    # counters.py bounds a site's energy by what its devices can give: the top of their power's range.
    assert rated_power_w() == {"inverter": QUANTITIES["device_power"].high,
                               "ac_battery": QUANTITIES["device_power"].high,
                               "encharge": QUANTITIES["battery_power"].high}
    with pytest.raises(ValueError):
        from catalog import Command
        Command(logical_id="x", fr="x", en="x", subtype="numeric", quantity="speed")
