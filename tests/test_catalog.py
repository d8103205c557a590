"""Tests of the plan catalog (erenhot/catalog): counts, references, the topic graph, exports,
validation of broken catalogs, and traceability to the seed document and docs/deliveries.md.

No Prefect needed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from erenhot.catalog import (
    CATALOG_FILES,
    Catalog,
    CatalogError,
    Dataset,
    LayerSpec,
    Topic,
    load_catalog,
)

REPO = Path(__file__).resolve().parents[1]
CATALOG_DIR = REPO / "erenhot" / "catalog"
SEED_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "seed"
DELIVERIES_MD = REPO / "docs" / "deliveries.md"


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog()


# ---------------------------------------------------------------------------------------------
# counts and ids
# ---------------------------------------------------------------------------------------------


def test_counts(cat: Catalog) -> None:
    assert len(cat.departments) == 22
    assert [d.seq for d in cat.departments] == list(range(1, 23))
    assert len(cat.numbered_items()) == 155
    assert len(cat.topics) == 15
    assert [t.seq for t in cat.topics] == list(range(1, 16))
    assert [t.code for t in cat.topics] == [f"t{i:02d}" for i in range(1, 16)]


def test_items_per_department(cat: Catalog) -> None:
    per_dept = {d.seq: [x.seed_item for x in cat.datasets_of(d.seq) if x.is_numbered] for d in cat.departments}
    assert per_dept[1] == [str(i) for i in range(1, 45)] + ["46", "46", "47", "48"]
    assert per_dept[2] == ["1", "2", "3", "4", "6", "7", "8", "9", "10"]
    assert per_dept[19] == []
    expected = {1: 48, 2: 9, 3: 8, 4: 18, 5: 8, 6: 6, 7: 8, 8: 7, 9: 4, 10: 3, 11: 2, 12: 2, 13: 2,
                14: 3, 15: 5, 16: 3, 17: 3, 18: 4, 19: 0, 20: 4, 21: 4, 22: 4}
    assert {k: len(v) for k, v in per_dept.items()} == expected


def test_special_ids(cat: Catalog) -> None:
    a, b = cat.dataset("01-46a"), cat.dataset("01-46b")
    assert a.seed_item == b.seed_item == "46"
    assert a.catch_all and "根据工作需要" in a.name_zh
    assert not b.catch_all and "生态环境管控" in b.name_zh
    with pytest.raises(KeyError, match="02-05"):
        cat.dataset("02-05")
    with pytest.raises(KeyError, match="close"):
        cat.dataset("01-45")
    assert cat.dataset("01-28").department_seq == 1
    assert cat.dataset("17-02").seed_item == "2"


def test_dataset_ids_and_fields(cat: Catalog) -> None:
    ids = [d.id for d in cat.datasets]
    assert len(ids) == len(set(ids))
    for d in cat.datasets:
        assert d.kind in {"document", "vector", "raster", "table", "mixed", "other"}, d.id
        assert d.formats and all(isinstance(f, str) for f in d.formats), d.id
        if d.parent is None:
            m = re.fullmatch(r"(\d{2})-(\d{2})([ab])?", d.id)
            assert m, d.id
            assert int(m.group(1)) == d.department_seq and int(m.group(2)) == int(d.seed_item), d.id
            assert not d.added_under_catch_all
        else:
            assert d.added_under_catch_all and d.id.startswith(d.parent + ".") and d.note
    assert cat.dataset("01-46a.dltb").kind == "vector"
    assert cat.dataset("01-46a.fvc").kind == "raster"
    assert cat.dataset("01-46a.npp").kind == "raster"


def test_catch_alls(cat: Catalog) -> None:
    catch = [d for d in cat.datasets if d.catch_all]
    # one per department that has a 资料 list (all but department 19)
    assert sorted(d.department_seq for d in catch) == [s for s in range(1, 23) if s != 19]
    for d in catch:
        assert "根据工作需要" in d.name_zh and d.kind == "other" and d.parent is None
    for d in cat.numbered_items():
        assert d.catch_all == ("根据工作需要" in d.name_zh), d.id
    assert [d.id for d in cat.children_of("01-46a")] == ["01-46a.dltb", "01-46a.fvc", "01-46a.npp", "01-46a.tdlyztgh",
                                                       "01-46a.ghzb"]
    for child in cat.children_of("01-46a"):
        assert child.seed_item == "46" and child.department_seq == 1


DELIVERY_IDS = {
    # topics 2 and 3 (双评价)
    "01-03", "01-04", "01-46a.dltb", "01-46a.fvc", "01-46a.npp", "01-16", "01-27", "01-28", "04-07",
    "04-04", "04-13", "10-02", "17-01", "17-02", "05-05", "02-06", "22-01", "21-01", "12-01",
    # topic 9 林草湿
    "01-05", "01-08", "01-10", "01-12", "01-13", "01-17",
    # topic 11 生态环境保护
    "01-07", "01-46b", "01-47", "03-02", "03-04", "03-05", "03-06",
    # topic 12 水资源承载力
    "04-03", "04-05", "04-06", "04-09",
    # topic 7 国土综合整治与生态保护修复
    "01-29", "01-34", "01-36", "01-39",
    # topic 13 农牧业现代化
    "01-40", "04-11", "18-01",
    # topic 14 综合交通体系, topic 10 经济社会发展战略, topic 5 新型城镇化
    "05-04", "10-01", "02-07", "11-01",
    # topic 6 乡村振兴与嘎查布局
    "18-02", "18-03",
    # topic 1 现行规划一体化评估 (old plans under catch-alls)
    "01-46a.tdlyztgh", "01-46a.ghzb", "02-10.ztgnq", "08-07.csztgh",
    # topic 15 文化与旅游, topic 8 魅力特色与高品质生活
    "06-03", "06-04", "01-32", "06-06.heritage", "14-01", "14-02", "15-01", "08-07.quality",
}


def test_deliveries(cat: Catalog) -> None:
    assert {d.id for d in cat.delivery_datasets()} == DELIVERY_IDS
    assert cat.dataset("01-03").delivery["files"] == ["dem.tif"]
    assert cat.dataset("01-03").delivery["geometry"] == "raster"
    assert cat.dataset("01-04").delivery["files"] == ["city.geojson", "townships.geojson"]
    dltb = cat.dataset("01-46a.dltb").delivery
    assert dltb["files"] == ["DLTB.zip"] and dltb["encoding"] == "GBK"
    assert [f["name"] for f in dltb["fields"]] == ["BSM", "DLBM", "DLMC", "ZLDWDM", "TBMJ", "CZCSXM"]
    clim = cat.dataset("17-02").delivery
    assert [a["files"] for a in clim["alternatives"]] == [["climate_daily.csv"], ["*.epw", "precip_daily.csv"]]
    assert {f["name"] for f in cat.dataset("01-28").delivery["fields"]} == {"YFCD"}
    assert cat.dataset("01-28").delivery["fields"][0]["values"] == ["高易发", "中易发", "低易发"]
    for d in cat.delivery_datasets():
        assert d.delivery["files"], d.id
        assert d.used_by, d.id
        if d.is_spatial:
            assert d.delivery["crs"] == "CGCS2000", d.id
    assert cat.dataset("01-04").used_by == tuple(range(1, 16))
    assert cat.dataset("01-06").delivery is None and cat.dataset("01-06").used_by == ()


def _deliveries_table() -> dict[str, dict[str, Any]]:
    """Rows of docs/deliveries.md's table: id -> {files, used: {topic: 'req'|'opt'}}."""
    rows: dict[str, dict[str, Any]] = {}
    for line in DELIVERIES_MD.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\|\s*`([0-9]{2}-[0-9]{2}[a-z]?(?:\.[a-z0-9_]+)?)`\s*\|", line)
        if not m:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        files = {
            tok for tok in re.findall(r"`([^`]+)`", "|".join(cells[3:-1]))
            if re.fullmatch(r"[\w*\u4e00-\u9fff.-]+\.(tif|geojson|zip|xlsx|csv|epw)", tok)
        }
        used = {int(t): kind for t, kind in re.findall(r"t0?(\d+)\s+(req|opt)", cells[-1])}
        rows[m.group(1)] = {"files": files, "used": used}
    return rows


def test_deliveries_match_docs(cat: Catalog) -> None:
    if not DELIVERIES_MD.exists():
        pytest.skip("docs/deliveries.md is absent")
    rows = _deliveries_table()
    assert set(rows) == {d.id for d in cat.delivery_datasets()}
    for ident, row in rows.items():
        ds = cat.dataset(ident)
        assert row["files"] <= set(ds.delivery["files"]), (ident, row["files"])
        assert set(ds.used_by) == set(row["used"]), ident
        for seq, kind in row["used"].items():
            [inp] = [i for i in cat.topic(seq).inputs if i.dataset == ident]
            assert inp.required == (kind == "req"), (ident, seq)


# ---------------------------------------------------------------------------------------------
# topics
# ---------------------------------------------------------------------------------------------

T02_REQUIRED = ["01-03", "01-04", "01-46a.dltb", "01-46a.fvc", "01-27", "01-28", "04-07", "04-13", "17-01", "17-02"]
T02_OPTIONAL = ["01-46a.npp", "01-16", "12-01"]
T02_OUTPUTS = [
    "t02.slope", "t02.relief", "t02.land_agri", "t02.land_urban", "t02.water_agri", "t02.water_urban", "t02.accumulated_temp",
    "t02.climate_agri", "t02.thi_comfort", "t02.hazard", "t02.wind_erosion_service",
    "t02.biodiversity_service", "t02.service_importance", "t02.desertification_fragility",
    "t02.soil_erosion_fragility", "t02.eco_importance", "t02.agri_capacity", "t02.urban_capacity",
    "t02.agri_limiting_factor", "t02.urban_limiting_factor", "t02.area_by_grade", "t02.report",
]
T03_REQUIRED_LAYERS = ["t02.eco_importance", "t02.agri_capacity", "t02.urban_capacity", "t02.land_urban", "t02.hazard", "t02.slope",
                       "t14.travel_time_city"]
T03_REQUIRED_DATASETS = ["01-04", "01-46a.dltb", "01-46a.fvc", "04-07"]
T03_OPTIONAL = ["04-04", "10-02"]
T03_OUTPUTS = [
    "t03.location", "t03.agri_suitability", "t03.grazing_suitability",
    "t03.urban_suitability", "t03.carrying_scale", "t03.conflicts", "t03.area_by_class", "t03.report",
]


def test_t02_contract(cat: Catalog) -> None:
    t = cat.topic(2)
    assert t.implemented and t.slug == "t02_carrying_capacity"
    assert sorted(i.dataset for i in t.dataset_inputs(required=True)) == sorted(T02_REQUIRED)
    assert sorted(i.dataset for i in t.dataset_inputs(required=False)) == sorted(T02_OPTIONAL)
    assert t.layer_inputs() == ()
    assert [o.id for o in t.outputs] == T02_OUTPUTS
    assert t.output("t02.slope").unit == "°"
    assert t.output("t02.relief").unit == "m"
    assert t.output("t02.accumulated_temp").unit == "°C·d"
    assert t.output("t02.wind_erosion_service").unit == "t/hm²"
    assert t.output("t02.eco_importance").values == ("极重要", "重要", "一般")
    assert t.output("t02.area_by_grade").kind == "table" and t.output("t02.report").kind == "report"


def test_t03_contract(cat: Catalog) -> None:
    t = cat.topic("t03")
    assert t.implemented and t.slug == "t03_suitability"
    assert sorted(i.layer for i in t.layer_inputs(required=True)) == sorted(T03_REQUIRED_LAYERS)
    assert t.layer_inputs(required=False) == ()
    assert sorted(i.dataset for i in t.dataset_inputs(required=True)) == sorted(T03_REQUIRED_DATASETS)
    assert sorted(i.dataset for i in t.dataset_inputs(required=False)) == sorted(T03_OPTIONAL)
    assert [o.id for o in t.outputs] == T03_OUTPUTS
    assert t.output("t03.location").unit == "grade"  # 区位 minutes come from t14.travel_time_city
    assert t.output("t03.agri_suitability").values == ("适宜", "一般适宜", "不适宜")
    assert t.output("t03.carrying_scale").kind == "table"
    assert t.output("t03.conflicts").kind == "vector"


def test_implemented_topics(cat: Catalog) -> None:
    assert [t.seq for t in cat.topics if t.implemented] == list(range(1, 16))


def test_topic_lookup(cat: Catalog) -> None:
    for key in (2, "2", "02", "t02", "T02", "t2", "t02_carrying_capacity"):
        assert cat.topic(key).seq == 2
    with pytest.raises(KeyError, match="unknown topic"):
        cat.topic(16)
    with pytest.raises(KeyError):
        cat.topic("t99")
    topic, spec = cat.layer("t02.eco_importance")
    assert isinstance(topic, Topic) and isinstance(spec, LayerSpec) and topic.seq == 2
    with pytest.raises(KeyError, match="t02.slope"):
        cat.layer("t02.slop")
    assert cat.department(1).short_zh == "自然资源局"
    assert cat.department("林草局").seq == 1
    with pytest.raises(KeyError):
        cat.department(23)


def test_every_input_resolves(cat: Catalog) -> None:
    produced = {o.id for t in cat.topics for o in t.outputs}
    for t in cat.topics:
        assert t.inputs, t.code
        for inp in t.inputs:
            assert (inp.dataset is None) != (inp.layer is None)
            if inp.dataset is not None:
                assert isinstance(cat.dataset(inp.dataset), Dataset)
            else:
                assert inp.layer in produced, (t.code, inp.layer)
                assert cat.layer(inp.layer)[0].seq != t.seq
        for out in t.outputs:
            assert out.id.startswith(t.code + "."), out.id
            assert out.kind in {"raster", "vector", "table", "report", "map"}


def test_topic_departments(cat: Catalog) -> None:
    for t in cat.topics:
        cat.department(t.lead_department_seq)
        for s in t.cooperating_department_seqs:
            cat.department(s)
    assert cat.topic(10).cooperating_others_zh == ("外事办",)
    assert cat.topic(10).lead_department_seq == 2
    assert cat.topic(12).lead_department_seq == 4 and cat.topic(12).listed_under_department_seq == 3
    assert cat.topic(9).lead_department_seq == 1 and cat.topic(9).cooperating_department_seqs == ()


def _resolve_names(text: str, cat: Catalog) -> tuple[int, list[int], list[str]]:
    """Parse "X牵头，A、B和C配合" with the departments' names and aliases."""
    names: dict[str, int] = {}
    for d in cat.departments:
        for n in (d.short_zh, d.name_zh.removeprefix("二连浩特市"), *d.aliases_zh):
            names[n.removeprefix("市")] = d.seq

    def one(name: str) -> int | None:
        return names.get(name.strip().removeprefix("市"))

    head, _, rest = text.partition("牵头")
    lead = one(head)
    assert lead is not None, head
    coop: list[int] = []
    others: list[str] = []
    if "配合" in rest:
        part = rest.lstrip("，,").split("配合")[0]
        for piece in part.split("、"):
            seq = one(piece)
            if seq is not None:
                coop.append(seq)
                continue
            for sub in piece.split("和"):
                seq = one(sub)
                (coop.append(seq) if seq is not None else others.append(sub.strip()))
    return lead, coop, others


def test_lead_and_cooperating_match_seed_words(cat: Catalog) -> None:
    for t in cat.topics:
        lead, coop, others = _resolve_names(t.lead_department_text_zh, cat)
        assert t.lead_department_seq == lead, t.code
        assert list(t.cooperating_department_seqs) == coop, t.code
        assert list(t.cooperating_others_zh) == others, t.code


def test_deliverables(cat: Catalog) -> None:
    assert len(cat.topic(9).deliverables.maps_zh) == 11
    assert cat.topic(14).deliverables.maps_zh == ()
    assert cat.topic(15).deliverables.maps_zh == ()
    assert cat.topic(1).deliverables.maps_zh == ()
    assert "退化林地、草原与湿地分布图" in cat.topic(9).deliverables.maps_zh
    for t in cat.topics:
        assert t.research_points_zh, t.code
        assert t.deliverables.report_zh, t.code
        drawn = {o.map_zh for o in t.outputs}
        if not t.implemented:  # planned topics: every seed map is drawn from some output layer
            assert set(t.deliverables.maps_zh) <= drawn, (t.code, set(t.deliverables.maps_zh) - drawn)
        else:  # implemented topics: a seed map is drawn, or the notes say why not (or who draws it)
            notes = " ".join(t.notes)
            missing = {m for m in t.deliverables.maps_zh if m not in drawn and m not in notes}
            assert not missing, (t.code, missing)
        assert any(o.kind == "report" for o in t.outputs), t.code


# ---------------------------------------------------------------------------------------------
# graph
# ---------------------------------------------------------------------------------------------


def test_graph(cat: Catalog) -> None:
    order = cat.topic_order()
    assert sorted(order) == list(range(1, 16))
    assert order.index(2) < order.index(3) < order.index(4)
    assert order.index(3) < order.index(5)
    pairs = {(a, b) for a, b, _ in cat.topic_edges()}
    assert {(2, 3), (3, 4), (3, 5)} <= pairs
    for a, b, layer in cat.topic_edges():
        assert order.index(a) < order.index(b), (a, b, layer)
        assert layer.startswith(f"t{a:02d}.")
    assert cat.upstream_topics(3) == [2, 14]  # 区位 from topic 14
    assert cat.upstream_topics(2) == []
    assert 2 in cat.upstream_topics(4, transitive=True)
    down = cat.downstream_topics(2)
    assert {3, 4, 5} <= set(down) and 2 not in down
    assert cat.downstream_topics(3, transitive=False) == sorted({b for a, b, _ in cat.topic_edges() if a == 3})
    assert {2, 3} <= set(cat.consumers_of_dataset("01-04"))
    assert cat.consumers_of_dataset("22-01") == [14]
    assert 2 in cat.consumers_of_dataset("17-02")
    with pytest.raises(KeyError):
        cat.consumers_of_dataset("99-99")


def test_to_json(cat: Catalog) -> None:
    data = cat.to_json()
    text = json.dumps(data, ensure_ascii=False)
    assert json.loads(text) == data
    assert len(data["departments"]) == 22 and len(data["topics"]) == 15
    assert len([d for d in data["datasets"] if d["parent"] is None]) == 155
    for key in ("seq", "name_zh", "name_en", "short_zh", "slug", "role_zh"):
        assert key in data["departments"][0]
    for key in ("id", "department_seq", "seed_item", "name_zh", "name_en", "kind", "formats", "catch_all"):
        assert key in data["datasets"][0]
    for key in ("seq", "code", "name_zh", "name_en", "lead_department_seq", "cooperating_department_seqs",
                "inputs", "outputs", "implemented"):
        assert key in data["topics"][0]
    # exports are copies: mutating them leaves the (cached) catalog intact
    dem = next(d for d in data["datasets"] if d["id"] == "01-03")
    dem["delivery"]["files"].append("x.tif")
    assert cat.dataset("01-03").delivery["files"] == ["dem.tif"]


def test_to_mermaid(cat: Catalog) -> None:
    text = cat.to_mermaid()
    assert text.startswith("graph LR")
    for t in cat.topics:
        assert f'{t.code}["T{t.seq:02d} {t.short_zh}"]' in text
    assert "T02 资源环境承载能力评价" in text
    assert re.search(r"t02 -->\|\"[^\"]*t02\.eco_importance[^\"]*\"\| t03", text)
    assert "class t01,t02,t03,t04,t05,t06,t07,t08,t09,t10,t11,t12,t13,t14,t15 implemented" in text


def test_no_prefect_import() -> None:
    src = (CATALOG_DIR / "__init__.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+prefect", src, re.M)


def test_load_is_cached() -> None:
    assert load_catalog() is load_catalog()


# ---------------------------------------------------------------------------------------------
# broken catalogs
# ---------------------------------------------------------------------------------------------


def _docs() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return {name: yaml.load((CATALOG_DIR / name).read_text(encoding="utf-8"), Loader=loader) for name in CATALOG_FILES}


def _write(tmp_path: Path, docs: dict[str, Any]) -> Path:
    for name, doc in docs.items():
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump(doc, Dumper=dumper, allow_unicode=True, sort_keys=False)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _topic(docs: dict[str, Any], seq: int) -> dict[str, Any]:
    return next(t for t in docs["topics.yaml"]["topics"] if t["seq"] == seq)


def _dataset(docs: dict[str, Any], ident: str) -> dict[str, Any]:
    return next(d for d in docs["datasets.yaml"]["datasets"] if d["id"] == ident)


def test_copy_loads(tmp_path: Path) -> None:
    copy = load_catalog(_write(tmp_path, _docs()))
    assert len(copy.numbered_items()) == 155 and copy.topic_order() == load_catalog().topic_order()


def test_broken_cycle(tmp_path: Path) -> None:
    docs = _docs()
    _topic(docs, 2)["inputs"].append({"layer": "t03.location", "required": False, "why": "makes a cycle"})
    with pytest.raises(CatalogError, match=r"cycle: t0[23] -> t0[23] -> t0[23].*t03\.location"):
        load_catalog(_write(tmp_path, docs))


def test_broken_long_cycle(tmp_path: Path) -> None:
    docs = _docs()
    # t14 → t03 (区位) → t05 (urban suitability) → t14 would close a three-topic loop
    _topic(docs, 14)["inputs"].append({"layer": "t05.urban_system", "required": False, "why": "cycle"})
    with pytest.raises(CatalogError) as err:
        load_catalog(_write(tmp_path, docs))
    msg = str(err.value)
    assert "cycle" in msg and all(c in msg for c in ("t03", "t05", "t14")) and "t05.urban_system" in msg


def test_broken_unknown_dataset(tmp_path: Path) -> None:
    docs = _docs()
    _topic(docs, 5)["inputs"].append({"dataset": "99-99", "required": True, "why": "does not exist"})
    with pytest.raises(CatalogError, match=r"topic t05: input dataset '99-99' is not in datasets.yaml"):
        load_catalog(_write(tmp_path, docs))


def test_broken_unknown_layer(tmp_path: Path) -> None:
    docs = _docs()
    _topic(docs, 4)["inputs"].append({"layer": "t02.slop", "required": True, "why": "typo"})
    with pytest.raises(CatalogError, match=r"'t02.slop' is not an output of any topic; close: t02.slope"):
        load_catalog(_write(tmp_path, docs))


def test_broken_duplicate_id(tmp_path: Path) -> None:
    docs = _docs()
    _dataset(docs, "01-46b")["id"] = "01-46a"
    with pytest.raises(CatalogError, match=r"duplicate dataset id '01-46a'"):
        load_catalog(_write(tmp_path, docs))


def test_broken_department_ref(tmp_path: Path) -> None:
    docs = _docs()
    _topic(docs, 7)["lead_department_seq"] = 23
    _dataset(docs, "05-05")["department_seq"] = 30
    with pytest.raises(CatalogError) as err:
        load_catalog(_write(tmp_path, docs))
    assert "topic t07: lead_department_seq 23 is not a department" in str(err.value)
    assert "dataset '05-05': department_seq 30 is not a department" in str(err.value)


def test_broken_delivery(tmp_path: Path) -> None:
    docs = _docs()
    del _dataset(docs, "04-07")["delivery"]
    _dataset(docs, "01-27")["delivery"]["crs"] = "WGS84"
    with pytest.raises(CatalogError) as err:
        load_catalog(_write(tmp_path, docs))
    msg = str(err.value)
    assert "implemented topic t03 reads dataset '04-07', which has no delivery block" in msg
    assert "'01-27'" in msg and "CGCS2000" in msg


def test_delivery_field_with_a_stray_key(tmp_path: Path) -> None:
    """An unquoted comma in a flow-style description (``description: a (1 yes, 0 no)``) parses as a
    stray key and silently cuts the description: the loader names the field and the key."""
    docs = _docs()
    _dataset(docs, "18-02")["delivery"]["fields"][3]["0 no)"] = None
    with pytest.raises(CatalogError) as err:
        load_catalog(_write(tmp_path, docs))
    assert "unknown keys ['0 no)']" in str(err.value)


def test_broken_files(tmp_path: Path) -> None:
    _write(tmp_path, _docs())
    (tmp_path / "topics.yaml").write_text("topics: [\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"topics.yaml: invalid YAML"):
        load_catalog(tmp_path)
    (tmp_path / "topics.yaml").unlink()
    with pytest.raises(CatalogError, match=r"topics.yaml: file not found"):
        load_catalog(tmp_path)
    docs = _docs()
    _topic(docs, 3)["inptus"] = []
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(CatalogError, match=r"topics.yaml: topic 3: unknown key\(s\) \['inptus'\]"):
        load_catalog(_write(other, docs))


# ---------------------------------------------------------------------------------------------
# traceability to the seed document
# ---------------------------------------------------------------------------------------------

_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}
_DEPT_HEADING = re.compile(r"^([一二三四五六七八九十]{1,3})、(.+)$")
_ITEM = re.compile(r"^(\d+)\s*[.．、]?\s*(\D.*)$")  # "28.提供…", and the quirk "3根据…" (no dot)
_TOPIC_HEADING = re.compile(r"^(\d+)\s*[.．]\s*(二连浩特市.+)$")


def _cn_number(text: str) -> int:
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    return _CN_DIGITS[text]


def parse_seed(text: str) -> dict[str, Any]:
    """Departments (seq, heading), their duties, numbered 资料 items and the topics of the seed text.

    ``topic_text`` maps a topic number to the text of its block (研究要点, 专题成果 …).
    """
    departments: list[tuple[int, str]] = []
    duties: dict[int, list[str]] = {}
    items: dict[int, list[tuple[str, str]]] = {}
    topics: list[tuple[int, str, int]] = []
    topic_text: dict[int, list[str]] = {}
    dept: int | None = None
    section: str | None = None
    topic: int | None = None
    for raw in text.splitlines():
        line = raw.replace("\u3000", " ").strip()
        if not line:
            continue
        m = _DEPT_HEADING.match(line)
        if m:
            dept = _cn_number(m.group(1))
            departments.append((dept, m.group(2).strip()))
            items[dept], duties[dept] = [], []
            section, topic = None, None
            continue
        if dept is None:
            continue
        if line.startswith("（一）"):
            section, topic = "duties", None
        elif line.startswith("（二）"):
            section, topic = "data", None
        elif line.startswith("（三）"):
            section, topic = "topics", None
        elif section is None:  # duties written as one paragraph without （一） (department 19)
            duties[dept].extend(p for p in re.split(r"[；。]", line) if p.strip())
        elif section == "duties":
            duties[dept].append(re.sub(r"^\d+\s*[.．、]?", "", line))
        elif section == "data" and (m := _ITEM.match(line)):
            items[dept].append((m.group(1), m.group(2).strip()))
        elif section == "topics":
            if m := _TOPIC_HEADING.match(line):
                topic = int(m.group(1))
                topics.append((topic, m.group(2).strip(), dept))
                topic_text[topic] = []
            elif topic is not None:
                topic_text[topic].append(line)
    return {
        "departments": departments,
        "duties": duties,
        "items": items,
        "topics": topics,
        "topic_text": {k: "".join(v) for k, v in topic_text.items()},
    }


def _han(text: str) -> str:
    return "".join(re.findall(r"[\u4e00-\u9fff]", text))


def _key(seed_text: str) -> str:
    """The first 6 Chinese characters of a seed item after its 提供/二连浩特市 prefixes."""
    t = seed_text.strip()
    changed = True
    while changed:
        changed = False
        for prefix in ("提供", "二连浩特市"):
            if t.startswith(prefix):
                t, changed = t[len(prefix):], True
    return _han(t)[:6]


def seed_discrepancies(cat: Catalog, seed: dict[str, Any]) -> list[str]:
    """Everything of the seed that the catalog lacks or misrepresents (empty when faithful)."""
    problems: list[str] = []
    for seq, heading in seed["departments"]:
        try:
            d = cat.department(seq)
        except KeyError:
            problems.append(f"department {seq} ({heading}) is missing")
            continue
        if d.name_zh != heading:
            problems.append(f"department {seq}: name_zh {d.name_zh!r} != seed heading {heading!r}")
        seed_duties = seed["duties"].get(seq, [])
        if len(d.duties_zh) != len(seed_duties):
            problems.append(f"department {seq}: {len(d.duties_zh)} duties_zh, the seed lists {len(seed_duties)}")
        for duty in d.duties_zh:
            if _han(duty) not in _han("".join(seed_duties)):
                problems.append(f"department {seq}: duty {duty[:20]!r}… is not in the seed's 职责")
    unmatched = {d.id: d for d in cat.numbered_items()}
    for seq, entries in seed["items"].items():
        for number, text in entries:
            key = _key(text)
            candidates = [
                d for d in unmatched.values()
                if d.department_seq == seq and d.seed_item == number and key in _han(d.name_zh)
            ]
            expected_id = f"{seq:02d}-{int(number):02d}"
            if not candidates:
                problems.append(
                    f"seed item {number} of department {seq} ({text[:30]}…) has no catalog entry "
                    f"{expected_id} whose name_zh contains {key!r}"
                )
                continue
            d = candidates[0]
            del unmatched[d.id]
            if d.catch_all != ("根据工作需要" in text):
                problems.append(f"{d.id}: catch_all is {d.catch_all} but the seed text is {text[:30]!r}")
    for d in unmatched.values():
        problems.append(f"catalog item {d.id} ({d.name_zh[:20]}) matches no numbered item of the seed")
    for number, name, dept in seed["topics"]:
        try:
            t = cat.topic(number)
        except KeyError:
            problems.append(f"topic {number} ({name}) is missing")
            continue
        if t.name_zh != name:
            problems.append(f"topic {number}: name_zh {t.name_zh!r} != seed {name!r}")
        if t.listed_under_department_seq != dept:
            problems.append(f"topic {number}: listed under department {dept} in the seed")
        block = _han(seed["topic_text"].get(number, ""))
        texts = [("lead_department_text_zh", t.lead_department_text_zh)]
        texts += [("research_points_zh", p) for p in t.research_points_zh]
        texts += [("report_zh", t.deliverables.report_zh or ""), ("dataset_zh", t.deliverables.dataset_zh or "")]
        texts += [("maps_zh", m) for m in t.deliverables.maps_zh]
        for label, value in texts:
            if _han(value) not in block:
                problems.append(f"topic {number}: {label} {value[:20]!r}… is not the seed's text")
    seed_topics = {n for n, _, _ in seed["topics"]}
    for t in cat.topics:
        if t.seq not in seed_topics:
            problems.append(f"catalog topic {t.code} is not in the seed")
    return problems


@pytest.fixture(scope="module")
def seed() -> dict[str, Any]:
    if not SEED_DIR.is_dir():
        pytest.skip(f"seed folder {SEED_DIR} is absent")
    texts = [
        p.read_text(encoding="utf-8")
        for p in sorted(SEED_DIR.glob("*.txt"))
        if "各部门责任分工" in p.read_text(encoding="utf-8")
    ]
    if not texts:
        pytest.fail(f"no seed text with 各部门责任分工 in {SEED_DIR}")
    return parse_seed(texts[0])


def test_seed_parse_counts(seed: dict[str, Any]) -> None:
    assert [s for s, _ in seed["departments"]] == list(range(1, 23))
    assert sum(len(v) for v in seed["items"].values()) == 155
    assert [n for n, _, _ in seed["topics"]] == list(range(1, 16))
    assert seed["items"][10][-1][0] == "3" and seed["items"][10][-1][1].startswith("根据工作需要")
    assert [n for n, _ in seed["items"][1]].count("46") == 2
    assert len(seed["duties"][19]) == 3 and len(seed["duties"][1]) == 3
    assert "研究要点" in seed["topic_text"][2] and "专题图件" in seed["topic_text"][2]


def test_catalog_matches_seed(cat: Catalog, seed: dict[str, Any]) -> None:
    assert seed_discrepancies(cat, seed) == []


def test_seed_check_can_fail(tmp_path: Path, seed: dict[str, Any]) -> None:
    docs = _docs()
    docs["datasets.yaml"]["datasets"] = [d for d in docs["datasets.yaml"]["datasets"] if d["id"] != "07-03"]
    _dataset(docs, "04-09")["name_zh"] = "提供水文数据"
    _dataset(docs, "10-03")["catch_all"] = False
    _topic(docs, 12)["name_zh"] = "二连浩特市水资源评价研究"
    _topic(docs, 9)["deliverables"]["maps_zh"].append("宜居性评价图")
    _topic(docs, 9)["research_points_zh"][0] = "分析全市林草湿用地现状与规划"
    docs["departments.yaml"]["departments"][18]["duties_zh"].pop()
    docs["departments.yaml"]["departments"][1]["name_zh"] = "二连浩特市发展和改革委员会"
    broken = load_catalog(_write(tmp_path, docs))
    problems = "\n".join(seed_discrepancies(broken, seed))
    assert "seed item 3 of department 7" in problems and "07-03" in problems
    assert "seed item 9 of department 4" in problems and "04-09" in problems
    assert "10-03: catch_all is False" in problems
    assert "topic 12: name_zh" in problems
    assert "department 2: name_zh" in problems
    assert "topic 9: maps_zh '宜居性评价图'" in problems
    assert "topic 9: research_points_zh '分析全市林草湿用地现状与规划'" in problems
    assert "department 19: 2 duties_zh, the seed lists 3" in problems
    assert len(broken.numbered_items()) == 154
