"""corridors: ecological sources, resistance, MCR, least-cost corridors and strategic nodes (spec §5.3)
on tiny grids with hand-computed answers.

Cost convention (skimage ``MCP_Geometric``, as the module documents): a step between neighbouring
cells a → b costs ``(R_a + R_b) / 2 × step``, step = cell size (rook) or cell size·√2 (diagonal);
the start cell's own half-cell is not charged.
"""

import math

import numpy as np
import pytest
from affine import Affine

from erenhot.config import load_config
from erenhot.evaluation.corridors import (
    Corridor,
    CorridorParams,
    ResistanceParams,
    SourceParams,
    base_resistance,
    combine_resistance,
    corridor_lines,
    corridor_raster,
    disturbance_score,
    distance_to_features_m,
    ecological_sources,
    least_cost_corridors,
    mcr_surface,
    pairwise_least_cost,
    resistance_surface,
    select_pairs,
    strategic_nodes,
)
from erenhot.grid import Grid
from erenhot.samplekit import SANDIAO_DLBM

X0, Y0 = 37_560_000.0, 4_840_000.0
SQ2 = math.sqrt(2.0)


def _grid(rows: int, cols: int, cell: float) -> Grid:
    return Grid(crs_epsg=4525, transform=Affine(cell, 0.0, X0, 0.0, -cell, Y0), width=cols, height=rows)


# --------------------------------------------------------------------------- the 7 × 7 channel

# Background resistance 10; a bent channel of resistance 2 from the west source A (3,0) to the
# east source B (3,6):
#     (3,0) → (3,1) → (2,2) → (2,3) → (2,4) → (3,5) → (3,6)
CHANNEL = [(3, 0), (3, 1), (2, 2), (2, 3), (2, 4), (3, 5), (3, 6)]
CELL = 30.0


def _channel_case():
    res = np.full((7, 7), 10.0)
    for r, c in CHANNEL:
        res[r, c] = 2.0
    labels = np.zeros((7, 7), dtype=np.int32)
    labels[3, 0] = 1
    labels[3, 6] = 2
    return res, labels


# Steps along the channel (R = 2 on both ends, so each step = 2 × length):
#   rook:     (2 + 2)/2 × 30      = 60
#   diagonal: (2 + 2)/2 × 30·√2   = 60√2 ≈ 84.853
# four rook steps + two diagonals:  cost = 240 + 120√2 ≈ 409.706 resistance·m,
#                                   length = 120 + 60√2 ≈ 204.853 m.
# Optimality by hand: a path must advance 6 columns, so it has ≥ 6 steps (≥ 60 each); a path
# touching any background cell has ≥ 2 steps touching it, each ≥ (2 + 10)/2 × 30 = 180, so it
# costs ≥ 360 + 4 × 60 = 600 > 409.706. The channel path is the unique optimum.
EXPECTED_COST = 240.0 + 120.0 * SQ2
EXPECTED_LENGTH = 120.0 + 60.0 * SQ2


def test_channel_corridor_path_cost_and_length():
    res, labels = _channel_case()
    corridors = least_cost_corridors(res, labels, CELL, CorridorParams(pair_rule="mst"))
    assert len(corridors) == 1
    c = corridors[0]
    assert (c.corridor_id, c.source_a, c.source_b) == (1, 1, 2)
    assert list(c.path_rc) == CHANNEL
    assert c.cost == pytest.approx(EXPECTED_COST, rel=1e-12)
    assert c.length_m == pytest.approx(EXPECTED_LENGTH, rel=1e-12)


def test_channel_mcr_by_hand():
    res, labels = _channel_case()
    mcr = mcr_surface(res, labels, CELL)
    # along the channel: from A 0, 60, 60+60√2, 120+60√2, …; from B mirrored; MCR = the minimum
    from_a = [0, 60, 60 + 60 * SQ2, 120 + 60 * SQ2]
    expected = from_a + from_a[-2::-1]
    np.testing.assert_allclose([mcr[r, c] for r, c in CHANNEL], expected, rtol=1e-12)
    # (4,0) below A: one rook step (2 + 10)/2 × 30 = 180 (the diagonal from (3,1) costs 60 + 6·30√2 more)
    assert mcr[4, 0] == pytest.approx(180.0)
    assert mcr[3, 0] == 0.0 and mcr[3, 6] == 0.0


def test_channel_corridor_geometry_and_raster():
    res, labels = _channel_case()
    grid = _grid(7, 7, CELL)
    corridors = least_cost_corridors(res, labels, CELL, CorridorParams())
    lines = corridor_lines(corridors, grid)
    assert lines.crs.to_epsg() == 4525
    line = lines.geometry.iloc[0]
    # cell centres: x = X0 + (col + 0.5)·30, y = Y0 − (row + 0.5)·30
    assert list(line.coords)[0] == (X0 + 15.0, Y0 - 105.0)
    assert list(line.coords)[3] == (X0 + 105.0, Y0 - 75.0)
    assert line.length == pytest.approx(EXPECTED_LENGTH)
    assert lines["length_m"].iloc[0] == pytest.approx(line.length)
    assert lines["cost"].iloc[0] == pytest.approx(EXPECTED_COST)

    centre = corridor_raster(corridors, (7, 7), CELL, 0.0)
    assert sorted(map(tuple, np.argwhere(centre == 1))) == sorted(CHANNEL)
    # width 60 m → within 30 m of a path-cell centre: rook neighbours yes, diagonal (42.4 m) no
    wide = corridor_raster(corridors, (7, 7), CELL, 60.0, source_labels=labels)
    assert wide[3, 0] == 0 and wide[3, 6] == 0  # sources cut out
    assert wide[1, 3] == 1 and wide[4, 1] == 1 and wide[3, 3] == 1
    assert wide[0, 3] == 0 and wide[5, 0] == 0 and wide[4, 2] == 0  # (4,2): nearest path cells are diagonal


def test_channel_ridge_and_barrier_nodes():
    res, labels = _channel_case()
    grid = _grid(7, 7, CELL)
    corridors = least_cost_corridors(res, labels, CELL, CorridorParams())
    mcr = mcr_surface(res, labels, CELL)
    nodes = strategic_nodes(corridors, mcr, labels, grid)
    # the MCR profile 0, 60, …, 120+60√2, …, 60, 0 peaks once at the middle cell (2,3)
    assert list(nodes["kind"]) == ["ridge"]
    assert (nodes["row"].iloc[0], nodes["col"].iloc[0]) == (2, 3)
    assert nodes["mcr"].iloc[0] == pytest.approx(120 + 60 * SQ2)
    assert nodes.geometry.iloc[0].coords[0] == (X0 + 105.0, Y0 - 75.0)
    # barrier: base resistance ≥ 100 on the consecutive path cells (2,2), (2,3) → one node at the
    # run's middle cell, index (2 + 3) // 2 = 2 → (2,2)
    base = res.copy()
    base[2, 2] = base[2, 3] = 100.0
    nodes = strategic_nodes(corridors, mcr, labels, grid, resistance=base, barrier_min_resistance=100)
    barrier = nodes[nodes["kind"] == "barrier"]
    assert len(barrier) == 1 and (barrier["row"].iloc[0], barrier["col"].iloc[0]) == (2, 2)
    assert list(nodes["kind"]) == ["ridge", "barrier"]


# --------------------------------------------------------------------------- pair selection


def test_select_pairs_mst_and_threshold_by_hand():
    # costs 1–2: 5, 1–3: 3, 2–3: 4 → MST = {1–3 (3), 2–3 (4)}, total 7 < 8 = 3 + 5
    m = np.array([[0, 5, 3], [5, 0, 4], [3, 4, 0]], dtype=float)
    assert select_pairs(m, "mst") == [(1, 3), (2, 3)]
    assert select_pairs(m, "threshold", 4) == [(1, 3), (2, 3)]  # ≤ max_cost inclusive
    assert select_pairs(m, "threshold", 3.9) == [(1, 3)]
    assert select_pairs(m, "mst_or_threshold", 5) == [(1, 2), (1, 3), (2, 3)]
    # source 3 unreachable → a forest
    m2 = np.array([[0, 5, np.inf], [5, 0, np.inf], [np.inf, np.inf, 0]])
    assert select_pairs(m2, "mst") == [(1, 2)]
    with pytest.raises(ValueError, match="max_cost"):
        select_pairs(m, "threshold")
    with pytest.raises(ValueError, match="pair rule"):
        select_pairs(m, "nearest")


def test_two_sources_one_corridor_or_none():
    # 1 × 5 strip, R = 1, 30 m cells, sources at both ends: 4 rook steps × 30 = 120
    res = np.ones((1, 5))
    labels = np.array([[1, 0, 0, 0, 2]], dtype=np.int32)
    matrix, paths = pairwise_least_cost(res, labels, CELL)
    np.testing.assert_allclose(matrix, [[0, 120], [120, 0]])
    assert paths[(1, 2)] == tuple((0, c) for c in range(5))
    assert len(least_cost_corridors(res, labels, CELL, CorridorParams(pair_rule="mst"))) == 1
    assert least_cost_corridors(res, labels, CELL, CorridorParams(pair_rule="threshold", max_cost=119.9)) == []
    assert len(least_cost_corridors(res, labels, CELL, CorridorParams(pair_rule="threshold", max_cost=120))) == 1


def test_three_sources_in_a_row_mst_threshold_and_through_rule():
    # 1 × 10 strip, R = 1: A col 0, B col 3, C col 9 → AB = 3·30 = 90, BC = 6·30 = 180,
    # AC = 9·30 = 270 and its only path crosses B
    res = np.ones((1, 10))
    labels = np.zeros((1, 10), dtype=np.int32)
    labels[0, 0], labels[0, 3], labels[0, 9] = 1, 2, 3
    matrix, _ = pairwise_least_cost(res, labels, CELL)
    np.testing.assert_allclose(matrix, [[0, 90, 270], [90, 0, 180], [270, 180, 0]])
    mst = least_cost_corridors(res, labels, CELL, CorridorParams(pair_rule="mst"))
    assert [(c.source_a, c.source_b, c.cost) for c in mst] == [(1, 2, 90.0), (2, 3, 180.0)]
    keep = CorridorParams(pair_rule="threshold", max_cost=300, drop_paths_through_other_sources=False)
    assert [(c.source_a, c.source_b) for c in least_cost_corridors(res, labels, CELL, keep)] == [(1, 2), (1, 3), (2, 3)]
    drop = CorridorParams(pair_rule="threshold", max_cost=300, drop_paths_through_other_sources=True)
    assert [(c.source_a, c.source_b) for c in least_cost_corridors(res, labels, CELL, drop)] == [(1, 2), (2, 3)]


def test_cross_junctions_and_ridges_by_hand():
    # 9 × 9, background 10, channel R = 1 along row 4 and column 4 (a plus sign); single-cell
    # sources N=1 (0,4), W=2 (4,0), E=3 (4,8), S=4 (8,4). A step touching background costs
    # ≥ (1 + 10)/2 × 30 = 165, so every least-cost path stays on the channel:
    #   N–S, W–E: straight, 8 rook steps × 30 = 240, through the centre (4,4);
    #   N–W, N–E, W–S, E–S: cut the corner with one diagonal between two channel cells,
    #   e.g. N–W = (0,4)…(3,4) ↘ (4,3)…(4,0): 3·30 + 30·√2 + 3·30 = 180 + 30√2 ≈ 222.43.
    res = np.full((9, 9), 10.0)
    res[4, :] = 1.0
    res[:, 4] = 1.0
    labels = np.zeros((9, 9), dtype=np.int32)
    labels[0, 4], labels[4, 0], labels[4, 8], labels[8, 4] = 1, 2, 3, 4
    grid = _grid(9, 9, CELL)
    corridors = least_cost_corridors(res, labels, CELL, CorridorParams(pair_rule="threshold", max_cost=240))
    corner = 180 + 30 * SQ2
    # ids follow the sorted pairs: 1 N–W, 2 N–E, 3 N–S, 4 W–E, 5 W–S, 6 E–S
    assert [(c.source_a, c.source_b) for c in corridors] == [(1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)]
    np.testing.assert_allclose([c.cost for c in corridors], [corner, corner, 240, 240, corner, corner])
    assert corridors[0].path_rc == ((0, 4), (1, 4), (2, 4), (3, 4), (4, 3), (4, 2), (4, 1), (4, 0))
    nodes = strategic_nodes(corridors, mcr_surface(res, labels, CELL), labels, grid)
    got = [(k, ids, (r, c)) for k, ids, r, c in zip(nodes["kind"], nodes["corridor_ids"], nodes["row"], nodes["col"], strict=True)]
    # ridges = MCR maxima along each path. MCR = 30 × rook steps to the nearest source on the
    # channel: N–S and W–E peak at the centre (4 × 30 = 120); a corner path has the plateau
    # 90, 90 at its two corner cells → the first of the two (middle index (3 + 4)//2 = 3).
    # junctions = crossings (N–S × W–E at the centre) and the ends of shared stretches outside
    # sources, e.g. N–W shares (0,4)…(3,4) with N–S and N–E → split point (3,4).
    assert got == [
        ("ridge", "1,2", (3, 4)),
        ("ridge", "3,4", (4, 4)),
        ("ridge", "5", (4, 3)),
        ("ridge", "6", (4, 5)),
        ("junction", "1,2,3", (3, 4)),
        ("junction", "1,4,5", (4, 3)),
        ("junction", "2,4,6", (4, 5)),
        ("junction", "3,4", (4, 4)),
        ("junction", "3,5,6", (5, 4)),
    ]
    assert nodes.loc[nodes["row"].eq(4) & nodes["col"].eq(4), "mcr"].tolist() == [120.0, 120.0]
    assert list(nodes["node_id"]) == list(range(1, 10)) and nodes.crs.to_epsg() == 4525


def test_mcr_barriers_and_errors():
    res = np.array([[1.0, 1.0, np.nan, 1.0]])  # NaN is a barrier (and never reaches skimage)
    mcr = mcr_surface(res, np.array([[1, 0, 0, 0]], dtype=np.int32), CELL)
    assert mcr[0, 1] == pytest.approx(30.0) and np.isinf(mcr[0, 2:]).all()
    # detour round a NaN cell: (0,0) ↘ (1,1) → (1,2) [R 5] → (1,3) → (0,3):
    # 30√2·1 + (1 + 5)/2·30 + (5 + 1)/2·30 + 30·1 = 210 + 30√2 (skimage itself gives inf here for NaN)
    two_rows = np.array([[1.0, 1.0, np.nan, 1.0], [1.0, 1.0, 5.0, 1.0]])
    around = mcr_surface(two_rows, np.array([[1, 0, 0, 0], [0, 0, 0, 0]], dtype=np.int32), CELL)
    assert around[0, 3] == pytest.approx(210 + 30 * SQ2) and np.isinf(around[0, 2])
    matrix, paths = pairwise_least_cost(res, np.array([[1, 0, 0, 2]], dtype=np.int32), CELL)
    assert np.isinf(matrix[0, 1]) and paths == {}
    with pytest.raises(ValueError, match="> 0"):
        mcr_surface(np.array([[1.0, 0.0]]), np.array([[1, 0]], dtype=np.int32), CELL)
    with pytest.raises(ValueError, match="impassable"):
        mcr_surface(np.array([[np.inf, 1.0]]), np.array([[1, 0]], dtype=np.int32), CELL)
    with pytest.raises(ValueError, match="without gaps"):
        mcr_surface(np.ones((1, 3)), np.array([[1, 0, 3]], dtype=np.int32), CELL)
    with pytest.raises(ValueError, match="at least one source"):
        mcr_surface(np.ones((1, 3)), np.zeros((1, 3), dtype=np.int32), CELL)


# --------------------------------------------------------------------------- sources


def test_sources_area_threshold_exactly_and_connectivity():
    # 1 km cells → 1 km² per cell; threshold 3 km²
    grid = _grid(5, 6, 1000.0)
    core = np.zeros((5, 6), dtype=bool)
    core[0, 0:3] = True  # A: 3 cells = 3 km², exactly at the threshold → kept
    core[2, 0:2] = True  # B: 2 cells → dropped
    core[2, 4] = core[3, 5] = core[4, 4] = True  # C: 3 cells touching only at corners
    labels, table = ecological_sources(core, grid, SourceParams(min_area_km2=3.0, connectivity=8, protected_rule="none"))
    assert list(table["source_id"]) == [1, 2]
    assert list(table["area_km2"]) == [3.0, 3.0]
    assert labels[0, 0] == 1 and labels[4, 4] == 2 and labels[2, 0] == 0
    # centroid of A = centre of cell (0, 1): x = X0 + 1.5 km, y = Y0 − 0.5 km (EPSG:4525)
    assert (table["x"].iloc[0], table["y"].iloc[0]) == (X0 + 1500.0, Y0 - 500.0)
    # with 4-connectivity C falls apart into three 1-cell patches
    labels4, table4 = ecological_sources(core, grid, SourceParams(min_area_km2=3.0, connectivity=4, protected_rule="none"))
    assert list(table4["n_cells"]) == [3] and labels4[4, 4] == 0
    # just above the threshold A goes too
    _, none = ecological_sources(core, grid, SourceParams(min_area_km2=3.0001, protected_rule="none"))
    assert none.empty


def test_sources_threshold_survives_float_noise_at_30m():
    # 11 cells × 0.0009 km² = 0.009899999999999999 < 0.0099 in floating point; 11 cells are "at"
    # a 0.0099 km² threshold and must be kept, 10 cells dropped
    grid = _grid(3, 12, 30.0)
    core = np.zeros((3, 12), dtype=bool)
    core[0, 0:11] = True
    core[2, 0:10] = True
    _, table = ecological_sources(core, grid, SourceParams(min_area_km2=0.0099, protected_rule="none"))
    assert list(table["n_cells"]) == [11]


def test_sources_protected_rules_and_grade_input():
    grid = _grid(4, 6, 1000.0)
    grades = np.full((4, 6), 3, dtype=np.uint8)
    grades[0, 0:3] = 1  # 3 km² of 极重要
    grades[2, 0:2] = 1  # 2 km² of 极重要 …
    grades[3, 5] = 2  # 重要 only
    protected = np.zeros((4, 6), dtype=bool)
    protected[2, 2] = True  # … plus an adjacent protected cell → 3 km² when merged
    protected[0, 5] = True  # an isolated 1 km² protected area
    p = dict(min_area_km2=3.0, importance_grades=(1,))
    _, t = ecological_sources(grades, grid, SourceParams(protected_rule="none", **p), protected)
    assert list(t["n_cells"]) == [3]
    _, t = ecological_sources(grades, grid, SourceParams(protected_rule="union", **p), protected)
    assert list(t["n_cells"]) == [3, 3] and list(t["has_protected"]) == [False, True]
    labels, t = ecological_sources(grades, grid, SourceParams(protected_rule="union_keep_protected", **p), protected)
    assert list(t["n_cells"]) == [3, 1, 3] and labels[0, 5] == 2
    # outside the boundary nothing is a source
    valid = np.ones((4, 6), dtype=bool)
    valid[0, :] = False
    _, t = ecological_sources(grades, grid, SourceParams(protected_rule="none", **p), protected, valid_mask=valid)
    assert t.empty
    with pytest.raises(ValueError, match="protected_rule"):
        ecological_sources(grades, grid, SourceParams(min_area_km2=1, protected_rule="merge"))
    with pytest.raises(ValueError, match="shape"):
        ecological_sources(np.zeros((2, 2), dtype=bool), grid, SourceParams(min_area_km2=1))


# --------------------------------------------------------------------------- resistance


def _res_params(**kw) -> ResistanceParams:
    return load_config("t11_eco_environment").params(ResistanceParams, "resistance", **kw)


def test_base_resistance_prefix_table_and_missing():
    p = _res_params()
    codes = np.array([["0401", "0402", "1205"], ["0201K", "1003", None]], dtype=object)
    out = base_resistance(codes, p.dlbm_classes, p.class_resistance, p.assumed_class_resistance)
    assert out.dtype == np.float32
    # 0401 草地 10; 0402 沼泽草地 → 湿地 100 (longer prefix); 1205 沙地 未利用地 30;
    # 0201K 果园 (可调整) → 园地 30 (assumed); 1003 公路 → 人工表面 100; None → NaN
    np.testing.assert_array_equal(out[0], [10, 100, 30])
    assert out[1, 0] == 30 and out[1, 1] == 100 and np.isnan(out[1, 2])
    valid = np.array([[True, True, True], [True, False, True]])
    assert np.isnan(base_resistance(codes, p.dlbm_classes, p.class_resistance, p.assumed_class_resistance, valid)[1, 1])


def test_base_resistance_unknown_code_and_class_name_the_culprit():
    p = _res_params()
    codes = np.array([["0401", "9999"]], dtype=object)
    with pytest.raises(ValueError, match="9999"):
        base_resistance(codes, p.dlbm_classes, p.class_resistance, p.assumed_class_resistance)
    # outside the valid area an unknown code is ignored
    out = base_resistance(codes, p.dlbm_classes, p.class_resistance, p.assumed_class_resistance, np.array([[True, False]]))
    assert out[0, 0] == 10 and np.isnan(out[0, 1])
    # 0201 → 园地, which has no resistance without the assumed table
    with pytest.raises(ValueError, match="园地"):
        base_resistance(np.array([["0201"]], dtype=object), p.dlbm_classes, p.class_resistance, {})
    with pytest.raises(ValueError, match="both"):
        base_resistance(np.array([["0401"]], dtype=object), p.dlbm_classes, p.class_resistance, {"草地": 5})


def test_config_table_covers_every_sandiao_code():
    p = _res_params()
    codes = np.array([list(SANDIAO_DLBM)], dtype=object)
    out = base_resistance(codes, p.dlbm_classes, p.class_resistance, p.assumed_class_resistance)
    assert np.isfinite(out).all()


def test_disturbance_bands_and_weighted_sum():
    # 1 × 8 strip of 200 m cells, road in column 0 → distances 0, 200, …, 1400 m
    road = np.zeros((1, 8), dtype=bool)
    road[0, 0] = True
    d = distance_to_features_m(road, 200.0)
    np.testing.assert_array_equal(d[0], [0, 200, 400, 600, 800, 1000, 1200, 1400])
    s = disturbance_score(d, [400, 600, 1200], [100, 50, 30, 10])
    # bands (−∞,400] (400,600] (600,1200] (1200,∞)
    np.testing.assert_array_equal(s[0], [100, 100, 100, 50, 30, 30, 30, 10])
    assert np.isinf(distance_to_features_m(np.zeros((2, 2), dtype=bool), 30.0)).all()
    assert disturbance_score(np.array([np.inf, np.nan]), [400], [100, 10]).tolist()[0] == 10
    comb = combine_resistance(np.full((1, 8), 10.0), s, {"land_cover": 0.7, "disturbance": 0.3})
    np.testing.assert_allclose(comb[0], [37, 37, 37, 22, 16, 16, 16, 10], rtol=1e-6)
    with pytest.raises(ValueError, match="sum"):
        combine_resistance(np.ones((1, 1)), np.ones((1, 1)), {"land_cover": 0.7, "disturbance": 0.4})
    with pytest.raises(ValueError, match="scores"):
        disturbance_score(d, [400, 600], [1, 2])


def test_resistance_surface_with_config():
    p = _res_params()
    codes = np.array([["0401", "0401", "0401", "0401", "1003"]], dtype=object)
    # base only
    np.testing.assert_array_equal(resistance_surface(codes, p, 300.0)[0], [10, 10, 10, 10, 100])
    # road cell at col 4, 300 m cells: distances 1200, 900, 600, 300, 0 → scores 30, 30, 50, 100, 100
    road = codes == "1003"
    r = resistance_surface(codes, p, 300.0, disturbance_mask=road)
    np.testing.assert_allclose(r[0], [0.7 * 10 + 0.3 * 30, 16, 0.7 * 10 + 0.3 * 50, 37, 100], rtol=1e-6)


# --------------------------------------------------------------------------- configuration


def test_t11_config_values_and_params():
    """(Sources, confidences and notes of every leaf: tests/test_config.py.)"""
    cfg = load_config("t11_eco_environment")
    assert cfg.get("resistance.class_resistance") == {"草地": 10, "未利用地": 30, "林地": 50, "人工表面": 100, "湿地": 100}
    assert cfg.get("resistance.disturbance_breaks_m") == [400, 600, 1200]
    assert cfg.leaf("resistance.assumed_class_resistance")["confidence"] == "L"
    sp = cfg.params(SourceParams, "sources")
    assert sp.connectivity == 8 and sp.importance_grades == (1,)
    cp = load_config("t11_eco_environment", {"corridors.pair_rule": "threshold"}).params(CorridorParams, "corridors")
    assert cp.pair_rule == "threshold" and cp.max_cost == 150000
    assert isinstance(Corridor(1, 1, 2, 1.0, 1.0, ((0, 0), (0, 1))), Corridor)
