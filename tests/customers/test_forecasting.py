from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from contacts.planning.chunk import replan
from customers.models import VehicleForecast
from tests import factories

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC)


def _vehicle_with_a_typo(moscow):
    sale = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2024, 1, 15))
    for day, km in [(dt.date(2024, 1, 15), 0), (dt.date(2024, 4, 15), 6000), (dt.date(2024, 7, 15), 60000),
                    (dt.date(2024, 10, 15), 18000), (dt.date(2025, 1, 15), 24000)]:
        factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=day, odometer_km=km)
    return sale.vehicle


def test_forecast_leaves_a_typo_out_and_records_why(moscow):
    # given
    vehicle = _vehicle_with_a_typo(moscow)
    # when
    replan(vehicle_ids=[vehicle.id], now=NOW)
    # then
    forecast = VehicleForecast.objects.get(vehicle=vehicle)
    assert [(f["odometer_km"], f["reason"]) for f in forecast.flagged_readings] == [(60000, "implausible_jump")]
    assert forecast.km_per_month == pytest.approx(2000, rel=0.05)
    assert forecast.due_driver == "km"
    assert forecast.due_earliest_on <= forecast.next_due_on <= forecast.due_latest_on


def test_vehicle_page_marks_the_flagged_reading(client, agent, moscow):
    # given
    vehicle = _vehicle_with_a_typo(moscow)
    replan(vehicle_ids=[vehicle.id], now=NOW)
    client.force_login(agent)
    # when
    response = client.get(reverse("customers:vehicle", args=[vehicle.id]))
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert "implausible jump (typo?)" in body
    assert "km a month" in body


def test_vehicle_of_another_dealership_is_not_found(client, other_agent, moscow):
    vehicle = _vehicle_with_a_typo(moscow)
    client.force_login(other_agent)
    assert client.get(reverse("customers:vehicle", args=[vehicle.id])).status_code == 404


def test_backtest_on_a_dealers_file_reports_bad_rows_by_line(tmp_path, capsys):
    # given: one car serviced every 10,000 km at 1,000 km a month, and two bad rows
    path = tmp_path / "export.csv"
    lines = ["vin,date,odometer_km,is_maintenance"]
    day = dt.date(2022, 1, 10)
    for month in range(0, 41):
        km = month * 1000
        lines.append(f"XTA00000000000001,{(day + dt.timedelta(days=round(month * 30.4375))).strftime('%d.%m.%Y')},{km},{'1' if km and km % 10000 == 0 else '0'}")
    lines.insert(5, "XTA00000000000001,31.02.2022,5000,0")
    lines.insert(9, "XTA00000000000001,2022-05-01,lots,0")
    path.write_text("\n".join(lines), encoding="utf-8")
    # when
    call_command("backtest_forecast", "--readings", str(path), "--interval-km", "10000", "--json")
    # then
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert set(report) == {"visits", "within_14_days", "within_30_days", "median_abs_error_days", "inside_interval",
                           "median_interval_days", "baselines", "invitation_window", "p90_abs_error_days",
                           "mean_bias_days", "first_visits", "later_visits", "skipped"}
    assert set(report["baselines"]) == {"previous_plus_interval", "last_two_readings", "first_to_last_average"}
    assert report["visits"] == 3
    assert report["within_14_days"] == 1.0
    assert "skipped line 6:" in captured.err and "skipped line 10:" in captured.err


def test_backtest_refuses_a_file_without_the_columns(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("vin;date;km\nX;2024-01-01;5\n", encoding="utf-8")
    with pytest.raises(CommandError, match="missing column"):
        call_command("backtest_forecast", "--readings", str(path))


def _one_car_export(separator: str = ",") -> str:
    """One car serviced every 10,000 km at 1,000 km a month: three predictable visits."""
    lines = [separator.join(["vin", "date", "odometer_km", "is_maintenance"])]
    day = dt.date(2022, 1, 10)
    for month in range(0, 41):
        km = month * 1000
        on = (day + dt.timedelta(days=round(month * 30.4375))).isoformat()
        lines.append(separator.join(["XTA00000000000001", on, str(km), "1" if km and km % 10000 == 0 else "0"]))
    return "\n".join(lines)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "cp1251"])
def test_backtest_reads_a_file_as_the_imports_do(tmp_path, capsys, encoding):
    # given: the same export saved by Excel in UTF-16, in UTF-8 with a BOM, and in Windows-1251 with ;
    path = tmp_path / "export.csv"
    path.write_bytes(_one_car_export(";" if encoding == "cp1251" else ",").encode(encoding))
    # when
    call_command("backtest_forecast", "--readings", str(path), "--interval-km", "10000", "--json")
    # then
    captured = capsys.readouterr()
    assert json.loads(captured.out)["visits"] == 3
    # the first visit (no sale in a readings file) is not replayed, and says so
    assert captured.err == "1 maintenance visit(s) not replayed: no sale and no maintenance before the visit.\n"


def test_backtest_refuses_a_file_that_is_not_text_with_a_message(tmp_path):
    # given: a byte that is neither UTF-8 nor Windows-1251 (0x98 is undefined in Windows-1251)
    path = tmp_path / "broken.csv"
    path.write_bytes(b"vin,date,odometer_km,is_maintenance\nX,2024-01-01,5,0\x98\n")
    # when / then
    with pytest.raises(CommandError, match="neither UTF-8 nor Windows-1251"):
        call_command("backtest_forecast", "--readings", str(path))


def test_backtest_counts_a_visit_dated_in_year_9999_instead_of_crashing(tmp_path, capsys):
    # given: the one-car export and a maintenance row typed as 31.12.9999
    path = tmp_path / "export.csv"
    path.write_text(_one_car_export() + "\nXTA00000000000001,9999-12-31,41000,1", encoding="utf-8")
    # when
    call_command("backtest_forecast", "--readings", str(path), "--interval-km", "10000", "--json")
    # then
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["visits"] == 3
    assert report["skipped"] == {"after_today": 1, "nothing_before": 1}
    assert "1 maintenance visit(s) not replayed: dated after today." in captured.err


def test_backtest_replays_a_first_visit_whose_sale_has_no_reading(moscow, capsys):
    # given: a new car sold at 0 km with no odometer reading stored, serviced once (its visit's reading only)
    sale = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2024, 1, 15), kind="new",
                                 odometer_km=0)
    factories.ServiceVisitFactory(vehicle=sale.vehicle, visited_on=dt.date(2025, 1, 10), odometer_km=14_800,
                                  kind="maintenance")
    # when
    call_command("backtest_forecast", "--json")
    # then: it is predicted from the sale's odometer and the prior, as the re-plan would
    report = json.loads(capsys.readouterr().out)
    assert report["visits"] == 1
    assert report["first_visits"]["forecast"]["visits"] == 1
    assert report["skipped"] == {}


def test_backtest_prints_every_method_for_first_and_later_visits(tmp_path, capsys):
    path = tmp_path / "export.csv"
    path.write_text(_one_car_export(), encoding="utf-8")
    call_command("backtest_forecast", "--readings", str(path), "--interval-km", "10000")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["visits", "method", "visits"]
    assert [line.split()[0] for line in lines[1:]] == ["all"] * 4 + ["first"] * 4 + ["later"] * 4
    assert "first-to-last average" in lines[4]
