"""Sample deliveries of topic 6 (乡村振兴与嘎查布局优化) from 格日勒敖都苏木政府 (department 18).

Synthetic but consistent with the ``18-01`` 苏木嘎查基本情况 the ``agriculture`` part writes (same
嘎查 rows: ``XZQDM``, ``XZQMC``, ``GCMC``, same households ``HS``):

* ``18-02`` 嘎查分类基本情况 — ``gacha_class.xlsx``: per 嘎查 the present 村庄分类 ``XZFL`` of the
  county village classification (集聚提升类 / 城郊融合类 / 特色保护类 / 搬迁撤并类 / 暂不分类, empty for
  a 嘎查 never classified) and the heritage / feature lists as 0/1 flags — ``CTCL`` 中国传统村落,
  ``SSMZTS`` 中国少数民族特色村寨, ``LSWHMC`` 中国历史文化名村, ``TSJGLY`` 全国特色景观旅游名村 — with
  the list name ``MLMC``. One pastoral 嘎查 (the second row of 18-01) is a 少数民族特色村寨 (Mongolian
  pastoral settlement), as such 嘎查 of Xilingol are; no 嘎查 is on the other lists.
* ``18-03`` 苏木嘎查发展现状 — ``gacha_development.xlsx``: per 嘎查 宅基地宗数 ``ZJDZS`` (≈ households,
  some with two), 宅基地面积 ``ZJDMJ`` m² (pastoral homesteads of 400–900 m²), 闲置宅基地 ``XZZJDZS``
  (10–30 %, herders who moved to town), 一户多宅户数 ``YHDZHS`` and 居民点用地 ``JMDMJ`` hm².
"""

from __future__ import annotations

DATASETS = ("18-02", "18-03")

_SEED = 6000  # kit.rng(_SEED, k): this part's generators
_HERITAGE_ROW = 1  # 0-based row of 18-01 that is a 少数民族特色村寨


def _prov(what: str) -> str:
    from erenhot.samplekit import _SYN_TEXT

    return f"{_SYN_TEXT} (kitparts.villages: {what})"


def _gacha_rows(kit) -> list[dict]:
    """The rows of the ``18-01`` workbook the agriculture part wrote (header → value)."""
    from openpyxl import load_workbook

    wb = load_workbook(kit.dir("18-01") / "gacha.xlsx", read_only=True, data_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    head = [str(h) for h in rows[0]]
    return [dict(zip(head, r)) for r in rows[1:] if r and r[0] is not None]


def build(kit) -> None:
    from erenhot.samplekit import _RURAL, _write_xlsx

    gacha = _gacha_rows(kit)
    year = int(gacha[0]["TJND"]) if gacha else 2020

    # ── 18-02 嘎查分类基本情况 ──────────────────────────────────────────────────────────────
    rng = kit.rng(_SEED, 1)
    present = ("集聚提升类", "集聚提升类", None, "暂不分类", "搬迁撤并类", "集聚提升类", None)
    rows = []
    for i, g in enumerate(gacha):
        rural = str(g["XZQDM"]) == _RURAL
        heritage = rural and i == _HERITAGE_ROW
        cls = ("特色保护类" if heritage else present[i % len(present)]) if rural else "城郊融合类"
        if not heritage and rural and rng.uniform() < 0.15:
            cls = None  # a few 嘎查 were never classified
        rows.append([g["XZQDM"], g["XZQMC"], g["GCMC"], cls, 0, 1 if heritage else 0, 0, 0,
                     "第三批中国少数民族特色村寨" if heritage else None, year])
    header = ["XZQDM", "XZQMC", "GCMC", "XZFL", "CTCL", "SSMZTS", "LSWHMC", "TSJGLY", "MLMC", "TJND"]
    _write_xlsx(kit.dir("18-02") / "gacha_class.xlsx", "嘎查分类", header, rows,
                title="嘎查分类基本情况（现行分类、传统村落与特色村寨名录）(synthetic)",
                description="synthetic sample delivery of erenhot.samplekit (kitparts.villages)")
    kit.add("18-02", ["gacha_class.xlsx"], True,
            _prov(f"{len(rows)} rows, the 嘎查 of 18-01: present county classification (some empty), one 嘎查 on the "
                  "少数民族特色村寨 list"))

    # ── 18-03 苏木嘎查发展现状 ──────────────────────────────────────────────────────────────
    rng = kit.rng(_SEED, 2)
    rows = []
    for g in gacha:
        hs = int(g["HS"])
        multi = int(round(hs * rng.uniform(0.0, 0.08)))  # households with a second homestead
        plots = hs + multi
        idle = int(round(plots * rng.uniform(0.10, 0.30)))
        area = round(plots * rng.uniform(400.0, 900.0), 1)
        settlement = round(area / 1e4 * rng.uniform(1.6, 2.4), 2)  # homesteads + roads, yards, public land
        rows.append([g["XZQDM"], g["XZQMC"], g["GCMC"], plots, area, idle, multi, settlement, year])
    header = ["XZQDM", "XZQMC", "GCMC", "ZJDZS", "ZJDMJ", "XZZJDZS", "YHDZHS", "JMDMJ", "TJND"]
    _write_xlsx(kit.dir("18-03") / "gacha_development.xlsx", "嘎查发展现状", header, rows,
                title="苏木嘎查发展现状（宅基地、闲置宅基地、居民点用地）(synthetic)",
                description="synthetic sample delivery of erenhot.samplekit (kitparts.villages)")
    kit.add("18-03", ["gacha_development.xlsx"], True,
            _prov(f"{len(rows)} rows, the 嘎查 of 18-01: 宅基地 ≈ households (0–8 % 一户多宅), 400–900 m² each, "
                  "10–30 % idle"))
