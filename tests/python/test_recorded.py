"""The recorded-gateway lookup answers as the gateway did."""
import pytest

from conftest import fixtures_dir
from simulator.recorded import RecordedGateway, file_name

pytestmark = pytest.mark.pure  # no socket, thread or process: part of `make test-fast`


def test_file_name_follows_the_collector_convention():
    assert file_name("/production.json?details=1") == "production.json_details_1"
    assert file_name("/ivp/meters/readings") == "ivp_meters_readings"
    assert file_name("/api/v1/production/inverters") == "api_v1_production_inverters"


def test_aliases_and_missing_endpoints():
    gw = RecordedGateway(fixtures_dir() / "7.6.175_with_cts")
    details = gw.response("/production.json?details=1")
    assert details.status == 200 and details.content_type == "application/json"
    assert details.body == gw.response("/production.json").body
    assert gw.response("/no/such/endpoint").status == 404
    assert gw.response("/ivp/ss/gen_config").status == 200


def test_recorded_error_status_is_kept():
    gw = RecordedGateway(fixtures_dir() / "3.8.10")
    assert gw.response("/ivp/meters").status == 401


def test_folder_without_info_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError):
        RecordedGateway(tmp_path)
