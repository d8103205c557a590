"""嘎查 decision table (erenhot.evaluation.villages): every rule of the shipped configuration at its
boundary (on the threshold and one step either side), the order of the rules, the 暂不分类 fallback,
the reasons, the 宅基地 arithmetic and malformed rule tables."""

from __future__ import annotations

import math

import pytest

from erenhot.config import load_config
from erenhot.evaluation import villages as vl

CFG = load_config("t06_village_layout")
V = CFG.values
STEP = 0.01  # one step either side of a threshold: far above the rounding (decimals = 6), below any data precision


def _table(rules=None, thresholds=None, indicators=None):
    return vl.parse_rules(rules if rules is not None else V["rules"], thresholds if thresholds is not None else V["thresholds"],
                          indicators if indicators is not None else V["indicators"], V["fallback"]["class"],
                          V["fallback"]["reason_zh"], V["classes"], int(V["decimals"]))


TABLE = _table()
T = V["thresholds"]


def neutral() -> dict[str, float]:
    """A 嘎查 that meets no rule of the shipped table (→ 暂不分类): on no list, no hazard or source, far
    from the city, stable but smaller than a 集聚提升 village and larger than the relocation minimum."""
    return {"population": (T["relocation_min_population"] + T["cluster_min_population"]) / 2, "households": 20.0,
            "pop_rate_pct": 0.0, "travel_time_min": T["suburban_travel_time_min"] * 3, "eco_extreme_share": 0.0,
            "hazard_high_share": 0.0, "eco_control_share": 0.0, "eco_source_share": 0.0, "heritage_lists": 0.0}


def _rule(rule_id: str) -> vl.Rule:
    return next(r for r in TABLE.rules if r.id == rule_id)


def _cond(rule_id: str, indicator: str) -> vl.Condition:
    r = _rule(rule_id)
    return next(c for c in (*r.all, *r.any) if c.indicator == indicator)


def test_the_neutral_village_is_not_classified():
    got = vl.classify(neutral(), TABLE)
    assert (got.cls, got.rule) == ("暂不分类", "fallback")


# (rule id, indicator, other indicators the rule needs to hold with an "all" partner)
SINGLE = [("heritage", "heritage_lists", {}),
          ("eco_hazard", "eco_source_share", {}),
          ("eco_hazard", "hazard_high_share", {}),
          ("suburban", "travel_time_min", {}),
          ("depopulation", "pop_rate_pct", {}),
          ("depopulation", "population", {}),
          ("eco_decline", "eco_extreme_share", {"pop_rate_pct": T["eco_decline_pop_rate_pct"] - 1.0}),
          ("eco_decline", "pop_rate_pct", {"eco_extreme_share": 1.0}),
          ("cluster", "population", {"pop_rate_pct": 0.0}),
          ("cluster", "pop_rate_pct", {"population": T["cluster_min_population"] * 2})]


@pytest.mark.parametrize(("rule_id", "indicator", "partners"), SINGLE, ids=[f"{r}-{i}" for r, i, _ in SINGLE])
def test_every_rule_at_its_boundary(rule_id, indicator, partners):
    cond = _cond(rule_id, indicator)
    rule = _rule(rule_id)
    expected = {  # does the condition hold at threshold − step, on it, + step?
        ">=": (False, True, True), ">": (False, False, True), "<=": (True, True, False), "<": (True, False, False)}[cond.op]
    for delta, holds in zip((-STEP, 0.0, STEP), expected, strict=True):
        values = {**neutral(), **partners, indicator: cond.threshold + delta}
        got = vl.classify(values, TABLE)
        if holds:
            assert (got.cls, got.rule) == (rule.cls, rule_id), (indicator, cond.op, cond.threshold + delta, got)
        else:
            assert got.rule != rule_id, (indicator, cond.op, cond.threshold + delta, got)


def test_boundary_semantics_are_the_written_operators():
    # the shipped table: 集聚提升 population ≥ 100 includes 100; relocation population < 30 excludes 30
    assert _cond("cluster", "population").op == ">=" and _cond("depopulation", "population").op == "<"
    assert _cond("suburban", "travel_time_min").op == "<="
    c = vl.Condition("x", "<", 30.0)
    assert not c.holds(30.0) and c.holds(29.999) and not c.holds(float("nan")) and not c.holds(None)
    # a floating-point value equal to the threshold in decimal lands on it
    assert vl.Condition("x", "<=", -30.0).holds((70 - 100) / 100 * 100)
    assert not vl.Condition("x", "<", -30.0).holds((70 - 100) / 100 * 100)


def test_rule_order_first_match_wins():
    ids = [r.id for r in TABLE.rules]
    assert ids == ["heritage", "eco_hazard", "suburban", "eco_decline", "depopulation", "cluster"]
    # heritage beats an ecological source
    v = {**neutral(), "heritage_lists": 1, "eco_source_share": 1.0}
    assert vl.classify(v, TABLE).cls == "特色保护类"
    # a hazard beats being in the suburbs
    v = {**neutral(), "hazard_high_share": 1.0, "travel_time_min": 1.0}
    assert vl.classify(v, TABLE).rule == "eco_hazard"
    # the suburbs beat severe depopulation
    v = {**neutral(), "travel_time_min": 1.0, "pop_rate_pct": -20.0}
    assert vl.classify(v, TABLE).rule == "suburban"
    # at exactly the decline rate in 极重要 land the decline rule precedes 集聚提升 (both hold)
    rate = T["eco_decline_pop_rate_pct"]
    assert rate == T["cluster_min_pop_rate_pct"]
    v = {**neutral(), "population": T["cluster_min_population"] * 2, "pop_rate_pct": rate, "eco_extreme_share": 1.0}
    assert vl.classify(v, TABLE).rule == "eco_decline"
    assert vl.classify({**v, "eco_extreme_share": 0.0}, TABLE).rule == "cluster"
    # a reordered table gives the other answer
    swapped = _table(rules=[r for r in V["rules"] if r["id"] == "suburban"] + [r for r in V["rules"] if r["id"] != "suburban"])
    assert vl.classify({**neutral(), "hazard_high_share": 1.0, "travel_time_min": 1.0}, swapped).rule == "suburban"


def test_reasons_list_every_deciding_indicator_and_only_those():
    v = {**neutral(), "hazard_high_share": 0.75, "eco_source_share": 0.6}
    got = vl.classify(v, TABLE)
    assert got.rule == "eco_hazard" and set(got.decisive) == {"hazard_high_share", "eco_source_share"}
    assert "驻地周边灾害高危险区占比 75% >= 30%" in got.reason_zh
    assert "驻地周边生态源地占比 60% >= 50%" in got.reason_zh
    assert got.reason_zh.startswith(_rule("eco_hazard").reason_zh)
    v = {**neutral(), "hazard_high_share": 0.75}
    got = vl.classify(v, TABLE)  # an "any" condition that did not hold is not a reason
    assert got.decisive == ("hazard_high_share",) and "生态源地占比" not in got.reason_zh
    got = vl.classify({**neutral(), "population": 150.0, "pop_rate_pct": -1.5}, TABLE)
    assert got.cls == "集聚提升类"
    assert "常住人口 150人 >= 100人" in got.reason_zh and "常住人口年均变化率 -1.50%/a >= -3.00%/a" in got.reason_zh


def test_fallback_reason_names_the_failed_condition_of_every_rule():
    v = {**neutral(), "travel_time_min": float("nan")}
    got = vl.classify(v, TABLE)
    assert got.cls == "暂不分类" and got.reason_zh.startswith(V["fallback"]["reason_zh"])
    for r in TABLE.rules:
        assert f"{r.cls}（{r.id}）不满足" in got.reason_zh
    assert "至中心城区通行时间 无数据 <= 30.0 min" in got.reason_zh  # a missing value never satisfies a condition


def test_values_without_an_indicator_a_rule_uses_fail_clearly():
    v = neutral()
    del v["travel_time_min"]
    with pytest.raises(ValueError, match="travel_time_min"):
        vl.classify(v, TABLE)


@pytest.mark.parametrize(("rules", "message"), [
    ([{"id": "a", "class": "集聚提升类", "all": [{"indicator": "nonsense", "op": ">=", "value": 1}]}], "unknown indicator 'nonsense'"),
    ([{"id": "a", "class": "集聚提升类", "all": [{"indicator": "population", "op": "=>", "value": 1}]}], "unknown operator '=>'"),
    ([{"id": "a", "class": "集聚提升类", "all": [{"indicator": "population", "op": ">=", "threshold": "nope"}]}], "unknown threshold 'nope'"),
    ([{"id": "a", "class": "中心村", "all": [{"indicator": "population", "op": ">=", "value": 1}]}], "unknown class '中心村'"),
    ([{"id": "a", "class": "集聚提升类"}], "at least one condition"),
    ([{"id": "a", "class": "集聚提升类", "all": [{"indicator": "population", "op": ">="}]}], "needs 'threshold'"),
    ([{"id": "a", "class": "集聚提升类", "all": [{"indicator": "population", "op": ">=", "value": "many"}]}], "must be a number"),
    ([{"id": "a", "class": "集聚提升类", "any": [{"indicator": "population", "op": ">=", "value": 1}]},
      {"id": "a", "class": "城郊融合类", "any": [{"indicator": "population", "op": ">=", "value": 1}]}], "duplicate rule id"),
    ([{"id": "a", "class": "集聚提升类", "when": []}], "unknown keys"),
    ([], "empty"),
])
def test_bad_rule_tables_raise_a_clear_value_error(rules, message):
    with pytest.raises(ValueError, match=message):
        _table(rules=rules)


def test_bad_override_of_the_shipped_rules_is_rejected_when_parsed():
    cfg = load_config("t06_village_layout", {"rules": [{"id": "x", "class": "集聚提升类",
                                                        "all": [{"indicator": "gdp", "op": ">", "value": 0}]}]})
    with pytest.raises(ValueError, match="unknown indicator 'gdp'"):
        vl.parse_rules(cfg.get("rules"), cfg.get("thresholds"), cfg.get("indicators"), "暂不分类", "", cfg.get("classes"))


def test_every_threshold_has_source_and_confidence_and_every_l_says_configurable():
    for e in CFG.entries():
        if e["path"].startswith("thresholds."):
            assert e["source"] and e["confidence"] in ("H", "M", "L"), e["path"]
            if e["confidence"] in ("M", "L"):
                assert "configurable" in e["note"], e["path"]


def test_homestead_quota_arithmetic():
    assert vl.homestead_quota(12, 600.0) == 7200.0
    assert vl.homestead_quota(0, 300.0) == 0.0
    assert vl.homestead_quota(37.0, 250.0) == pytest.approx(9250.0)
    with pytest.raises(ValueError, match="一户一宅"):
        vl.homestead_quota(10, 600.0, homesteads_per_household=2)
    with pytest.raises(ValueError, match="households"):
        vl.homestead_quota(-1, 600.0)
    with pytest.raises(ValueError, match="households"):
        vl.homestead_quota(math.nan, 600.0)
    with pytest.raises(ValueError, match="standard"):
        vl.homestead_quota(10, 0.0)


def test_one_household_one_homestead_labels_missing_data_as_such():
    assert vl.one_household_one_homestead(0) == "符合"
    assert vl.one_household_one_homestead(0.0) == "符合"
    assert vl.one_household_one_homestead(3) == "须整改（一户多宅）"
    for missing in (None, math.nan, float("nan"), "", "—"):
        assert vl.one_household_one_homestead(missing) == "无数据", missing
