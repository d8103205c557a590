"""Sample delivery of 公安局 (department 11) for topic 5 新型城镇化发展与城镇体系研究.

``11-01`` 户籍、乡村、城镇、流动人口 — ``户籍人口.csv`` (UTF-8 with BOM): one row per year and unit (the
city 152501 and its three township-level units, the 户籍 statistics a 公安局 keeps by 派出所 / 苏木镇):
year-end 户籍人口 split into 城镇/乡村户籍人口, the year's 出生/死亡 and 迁入/迁出 (户口迁移), and the
流动人口 registered as living in the unit at year end (暂住登记 inflow) by origin: 市内城乡间,
区内跨旗县, 跨盟市 (within 内蒙古) and 跨省区.

Synthetic but consistent with what the kit already delivers:

* the years are those of the kit's ``10-02`` 常住人口 (2016–2020; in real mode, where ``10-02`` has only
  the 2020 census row, 2016–2020 as well);
* every year balances: 户籍人口(t) = 户籍人口(t−1) + 出生 − 死亡 + 迁入 − 迁出 (the 2015 stock is not
  delivered); the city row is the sum of the township rows;
* the 苏木's 户籍人口 of 2020 is the 18-01 嘎查 HJRK total of 格日勒敖都苏木 when 18-01 is in the kit;
  the urban units' 户籍人口 is about half their 常住人口 (a port city of migrant workers) and the
  流动人口 fills most of the gap to the ``10-02`` resident population.
"""

from __future__ import annotations

import csv
from typing import Any

DATASETS = ("11-01",)

_SEED = 5000  # kit.rng(_SEED, k): this part's generators
FILE = "户籍人口.csv"
HEADER = ["XZQDM", "XZQMC", "year", "registered_pop", "registered_urban_pop", "registered_rural_pop", "births", "deaths",
          "moved_in", "moved_out", "floating_pop", "floating_intra_city", "floating_cross_county", "floating_cross_league",
          "floating_cross_province"]
#: share of the 流动人口 by origin (市内城乡间, 区内跨旗县, 跨盟市, 跨省区)
_ORIGIN_SHARES = (0.08, 0.22, 0.38, 0.32)


def _resident(kit) -> dict[tuple[str, int], int]:
    """``{(XZQDM, year): resident_pop}`` of the kit's ``10-02`` delivery (empty when absent)."""
    path = kit.dir("10-02") / "常住人口.csv"
    out: dict[tuple[str, int], int] = {}
    if path.exists():
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for r in csv.DictReader(fh):
                out[(str(r["XZQDM"]), int(r["year"]))] = int(r["resident_pop"])
    return out


def _gacha_registered(kit, township: str) -> int | None:
    """Sum of the 18-01 HJRK (户籍人口) of one township, when the kit wrote 18-01."""
    path = kit.dir("18-01") / "gacha.xlsx"
    if not path.exists():
        return None
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    head = [str(h) for h in rows[0]]
    recs = [dict(zip(head, r)) for r in rows[1:] if r and r[0] is not None]
    total = sum(int(r["HJRK"]) for r in recs if str(r["XZQDM"]) == township)
    return total or None


def _split(total: int, shares: tuple[float, ...]) -> list[int]:
    parts = [int(total * s) for s in shares[:-1]]
    return parts + [total - sum(parts)]


def build(kit) -> None:
    from erenhot.samplekit import _RURAL, _URBAN, _ZONE, CITY_CODE, CITY_NAME, TOWNSHIPS, _SYN_TEXT, _write_csv

    names = dict(TOWNSHIPS)
    rng = kit.rng(_SEED, 1)
    resident = _resident(kit)
    years = sorted({y for (_c, y) in resident})
    if len(years) < 2:
        years = list(range(2016, 2021))
    last = years[-1]
    city_res = {y: resident.get((CITY_CODE, y)) for y in years}
    if city_res[last] is None:
        city_res[last] = 75000
    for y in reversed(years[:-1]):  # back-cast missing city years at ≈ −0.7 %/a
        if city_res[y] is None:
            city_res[y] = int(round(city_res[y + 1] / 1.007))
    # township residents: 10-02 rows when delivered, else the kit's shares (苏木 3 %, 边合区 8 %)
    town_res: dict[tuple[str, int], int] = {}
    for y in years:
        rural = resident.get((_RURAL, y), int(round(city_res[y] * 0.03)))
        zone = resident.get((_ZONE, y), int(round(city_res[y] * 0.08)))
        town_res[(_RURAL, y)], town_res[(_ZONE, y)] = rural, zone
        town_res[(_URBAN, y)] = resident.get((_URBAN, y), city_res[y] - rural - zone)

    # year-end 户籍 stock of the last year, then walked backwards with the yearly flows
    gacha = _gacha_registered(kit, _RURAL)
    stock_last = {_RURAL: gacha if gacha else int(round(town_res[(_RURAL, last)] * 1.35)),
                  _URBAN: int(round(town_res[(_URBAN, last)] * float(rng.uniform(0.46, 0.52)))),
                  _ZONE: int(round(town_res[(_ZONE, last)] * float(rng.uniform(0.20, 0.28))))}
    rates = {  # per mille of the stock: births, deaths, moved in, moved out
        _RURAL: (7.0, 6.5, 6.0, 22.0),   # herders register in town: net out-migration
        _URBAN: (9.5, 5.5, 30.0, 26.0),
        _ZONE: (8.0, 3.0, 40.0, 28.0),
    }
    urban_share = {_RURAL: 0.04, _URBAN: 0.93, _ZONE: 0.97}
    rows: list[list[Any]] = []
    city_rows: dict[int, list[int]] = {y: [0] * 12 for y in years}
    for town in (_RURAL, _URBAN, _ZONE):
        stock = stock_last[town]
        per_year: dict[int, list[int]] = {}
        for y in reversed(years):
            b, d, i, o = (int(round(stock * r / 1000.0 * float(rng.uniform(0.85, 1.15)))) for r in rates[town])
            per_year[y] = [stock, b, d, i, o]
            stock = stock - b + d - i + o  # stock at the end of the year before
        for y in years:
            reg, b, d, i, o = per_year[y]
            reg_urban = int(round(reg * urban_share[town]))
            res = town_res[(town, y)]
            floating = max(0, int(round(res - reg * float(rng.uniform(0.86, 0.92)))))
            origin = _split(floating, _ORIGIN_SHARES)
            vals = [reg, reg_urban, reg - reg_urban, b, d, i, o, floating, *origin]
            rows.append([town, names[town], y, *vals])
            city_rows[y] = [a + v for a, v in zip(city_rows[y], vals)]
    for y in years:
        rows.append([CITY_CODE, CITY_NAME, y, *city_rows[y]])
    rows.sort(key=lambda r: (r[0], r[2]))
    _write_csv(kit.dir("11-01") / FILE, HEADER, rows, bom=True)
    kit.add("11-01", [FILE], True,
            f"{_SYN_TEXT} (kitparts.population: city + 3 township rows {years[0]}–{last}; 户籍 stock balanced by "
            f"births/deaths/migration each year; 苏木 户籍 2020 = 18-01 HJRK total{'' if gacha else ' (18-01 absent: 1.35 × resident)'}; "
            "流动人口 ≈ 常住 (10-02) − 0.9 × 户籍; UTF-8 with BOM)")
