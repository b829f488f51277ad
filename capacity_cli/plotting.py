"""Figures of P_max against N: measured means with 95% intervals, theory laws and fitted lines.

Each family says how its capacity grows (families.Family.growth): power laws (hebbian, poly,
rectpoly) go on log-log axes with a ``power`` fit; exponential growth (exp, softmax) on a log2 axis
against N with an ``exp2`` fit. Drawing only: the numbers
come from :mod:`capacity_cli.fit`, :mod:`capacity_cli.stats` and :mod:`capacity_cli.theory`.
"""

from __future__ import annotations

import os
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import HopcapError
from .families import family_laws, family_of
from .fit import fit_trials
from .results import CONFIG_COLUMNS, is_blank
from .stats import summarize

if TYPE_CHECKING:  # frames come in from the caller; hopcap measure labels rows without pandas
    import pandas as pd

#: A configuration is every configuration column but N (the x axis) and the seed (trials of several
#: seeds pool).
GROUP_COLUMNS = [c for c in CONFIG_COLUMNS if c not in ("n", "seed")]


def _clean(v):
    return None if is_blank(v) else v


def group_label(key: dict) -> str:
    """A legend label from a configuration's columns, e.g. ``poly a=3, stable``."""
    return ", ".join(label_parts(key))


def label_parts(key: dict, model_label: str | None = None) -> list[str]:
    """The parts of :func:`group_label`: the model (``model_label`` when given: a degree search has
    no degree to read the model back from), the criterion, then every setting away from its
    default (rho, m, q, pattern source, ...)."""
    parts = [model_label or model_of(key).label, str(key["criterion"])]
    if _clean(key.get("noise")) not in (None, 0, 0.0):
        parts.append(f"rho={key['noise']:g}")
    if _clean(key.get("min_overlap")) is not None:
        parts.append(f"m>={key['min_overlap']:g}")
    if _clean(key.get("threshold")) not in (None, 1, 1.0):
        parts.append(f"q={key['threshold']:g}")
    if _clean(key.get("correlation")) not in (None, 0, 0.0):
        parts.append(f"c={key['correlation']:g}")
    if _clean(key.get("min_distance")) not in (None, 0, 0.0):
        parts.append(f"d>={int(key['min_distance'])}")
    if _clean(key.get("bias")) not in (None, 0.5):
        parts.append(f"bias={key['bias']:g}")
    if _clean(key.get("kind")) not in (None, "pm1"):
        parts.append(str(key["kind"]))
    if _clean(key.get("code")) is not None:
        parts.append(str(key["code"]))
    if _clean(key.get("patterns")) is not None:
        shuffled = _clean(key.get("shuffle")) not in (None, False)
        parts.append(str(key["patterns"]) + (", shuffled" if shuffled else ""))
    for column, default, short in (("eps", 0.01, "eps"), ("steps", 1, "K"), ("max_steps", 1000, "cap"),
                                   ("dtype", "float64", ""), ("update", "random", ""),
                                   ("temperature", 0.0, "T"), ("sweeps_mean", None, "S")):
        value = _clean(key.get(column))
        if value is not None and value != default:
            parts.append(f"{short}={value:g}" if short else str(value))
    return parts


def model_of(key: dict):
    """The model of a configuration's columns (read back by its family)."""
    return family_of(key["model"]).read(key)[0]


def criterion_of(key: dict):
    """The criterion of a configuration's columns (read back by its family)."""
    return family_of(key["model"]).read(key)[1]


def growth_of(key: dict) -> str:
    """"power" (log-log axes, ``power`` fit) or "exp" (log2 P against N, ``exp2`` fit)."""
    return family_of(key["model"]).growth(model_of(key))


def iid_unbiased(key: dict) -> bool:
    """Whether a configuration's patterns are i.i.d. and unbiased (or i.i.d. sphere rows), the
    setting every theory law assumes: no given set, bias 1/2, no correlation, separation or code."""
    return _clean(key.get("patterns")) is None and _clean(key.get("bias")) in (None, 0.5) \
        and _clean(key.get("correlation")) in (None, 0, 0.0) \
        and _clean(key.get("min_distance")) in (None, 0, 0.0) and _clean(key.get("code")) is None


def laws_of(key: dict) -> list:
    """The theory laws of a configuration (may be empty)."""
    return family_laws(family_of(key["model"]), model_of(key), criterion_of(key))


def capacity_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows that carry a P_max (a --search degree run has none), or a HopcapError."""
    if "search" in df.columns:
        df = df[df["search"].fillna("p") != "degree"]
    if df.empty or df["p_max"].isna().all():
        raise HopcapError("no P_max values to draw or fit (--search degree results hold min_degree)")
    return df


def _with_none_blanks(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """A copy of ``df`` whose blank cells in ``cols`` are None, so that groupby keeps them as a key."""
    keyed = df.copy()
    for c in cols:
        keyed[c] = keyed[c].astype(object).where(keyed[c].notna(), None)
    return keyed


def configuration_groups(df: pd.DataFrame) -> list[tuple[dict, pd.DataFrame]]:
    """Split the P_max rows of a results frame into configurations (see GROUP_COLUMNS)."""
    df = capacity_rows(df)
    cols = [c for c in GROUP_COLUMNS if c in df.columns]
    keyed = _with_none_blanks(df, cols)
    if "beta_rule" in keyed.columns and "beta" in cols:
        # a rule in N (1/sqrtN) is one configuration whose beta value changes with N
        keyed.loc[keyed["beta_rule"].notna(), "beta"] = None
    out = []
    for values, sub in keyed.groupby(cols, dropna=False, sort=True):
        out.append((dict(zip(cols, values, strict=True)), sub))
    return out


#: More configurations than this in one panel are split into panels (facets) by the columns that
#: differ, so that no legend covers the axes.
MAX_PER_PANEL = 8


def plot_capacity(df: pd.DataFrame, output: str | os.PathLike, title: str | None = None,
                  predictions: pd.DataFrame | None = None) -> list[Path]:
    """Draw every configuration of ``df``; writes ``output`` as .png and .pdf, returns the paths.
    ``predictions`` (rows of ``hopcap predict``) adds the predicted mean P_max of each matching
    configuration with its 5-95% band.

    One panel per kind of growth (power laws on log-log axes, exponential growth on log2 P against
    N); a kind with more than MAX_PER_PANEL configurations is split into panels (see
    :func:`capacity_panels`): each panel's title names what its configurations share and each
    legend entry what differs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = capacity_panels(configuration_groups(df))
    columns = min(3, len(panels)) if len(panels) > 2 else len(panels)
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(6.4 * columns, 4.8 * rows), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    below = 0
    for ax, (family, heading, mine) in zip(axes.flat, panels, strict=False):
        laws: dict[str, list] = {}
        drawn: set[str] = set()  # legend entries of predictions, once per panel
        for index, (key, sub, label) in enumerate(mine):
            color = colors[index % len(colors)]
            _draw_group(ax, key, sub, family, color, laws, label)
            if predictions is not None:
                _draw_prediction(ax, key, sub, predictions, color, drawn)
        _name_shared_laws(laws)
        ax.set_xlabel("N (units)")
        ax.set_ylabel("P_max (largest stored P)")
        if family == "power":
            ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2 if family == "exp" else 10)
        ax.grid(True, which="both", alpha=0.25)
        below = max(below, _capacity_legend(ax, fig.bbox.width / columns))
        if heading:
            ax.set_title(heading, fontsize=9)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    if below:  # room under each row of panels for a legend of `below` lines
        fig.set_size_inches(6.4 * columns, (4.8 + 0.16 * below) * rows)
    return _save(fig, output, title)


#: A legend with more entries than this goes under its panel, where it covers no data.
LEGEND_INSIDE_MAX = 8


def _capacity_legend(ax, panel_width: float) -> int:
    """The panel's legend: inside, upper left, when short; otherwise under the axes, in two columns
    when they fit in ``panel_width`` (pixels), else in one. Returns the number of lines a legend under
    the axes takes (0 when inside)."""
    entries = len(ax.get_legend_handles_labels()[1])
    if entries <= LEGEND_INSIDE_MAX:
        ax.legend(fontsize=7, loc="upper left")
        return 0
    for ncol in (2, 1):
        legend = ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=ncol)
        renderer = ax.figure.canvas.get_renderer()
        if legend.get_window_extent(renderer).width <= 0.98 * panel_width:
            break
    return -(-entries // ncol)


def capacity_panels(groups: list[tuple[dict, pd.DataFrame]], most: int = MAX_PER_PANEL,
                    ) -> list[tuple[str, str, list[tuple[dict, pd.DataFrame, str]]]]:
    """Panels of :func:`plot_capacity`: (growth, heading, [(key, rows, legend label)]).

    One panel per growth kind when it holds at most ``most`` configurations, with full labels.
    Otherwise the kind is split by the configuration columns that differ, fewest values first,
    adding columns until no panel holds more than ``most`` (and cut in runs of ``most`` if every
    column is used); a panel's heading is the label parts all its configurations share, each
    legend label the parts that differ."""
    out = []
    for family in sorted({growth_of(key) for key, _ in groups}):
        mine = [(key, sub) for key, sub in groups if growth_of(key) == family]
        if len(mine) <= most:
            out.append((family, "", [(key, sub, group_label(key)) for key, sub in mine]))
            continue
        varying = [c for c in mine[0][0] if len({repr(key.get(c)) for key, _ in mine}) > 1]
        split = _fewest_panels(mine, varying, most)
        for panel in split:
            for start in range(0, len(panel), most):
                part = panel[start:start + most]
                parts = [label_parts(key) for key, _ in part]
                shared = [x for x in parts[0] if all(x in p for p in parts)]
                within = [c for c in varying if len({repr(key.get(c)) for key, _ in part}) > 1]
                labels = [", ".join(x for x in p if x not in shared)
                          or ", ".join(f"{c}={key.get(c)}" for c in within) or ", ".join(p)
                          for (key, _), p in zip(part, parts, strict=True)]
                out.append((family, ", ".join(shared),
                            [(key, sub, label) for (key, sub), label in zip(part, labels, strict=True)]))
    return out


def _fewest_panels(mine: list, columns: list[str], most: int) -> list[list]:
    """Split configurations by the fewest of ``columns`` (then into the fewest panels) that leave
    at most ``most`` in each panel; by all of them when no smaller choice does."""
    def split(chosen) -> list[list]:
        by: dict[tuple, list] = {}
        for key, sub in mine:
            by.setdefault(tuple(repr(key.get(c)) for c in chosen), []).append((key, sub))
        return list(by.values())

    for size in range(1, len(columns) + 1):
        fitting = [p for p in (split(c) for c in combinations(columns, size))
                   if max(len(x) for x in p) <= most]
        if fitting:
            return min(fitting, key=len)
    return split(columns)


def _draw_group(ax, key: dict, sub: pd.DataFrame, family: str, color: str, laws: dict[str, list],
                label: str | None = None) -> None:
    """Means with 95% intervals, the fitted line, and the theory laws: each law once per panel
    (``laws``: law label -> [line, law, smallest N, largest N, configuration names])."""
    sizes = np.sort(sub["n"].unique())
    stats = [summarize(sub.loc[sub["n"] == s, "p_max"]) for s in sizes]
    means = np.array([s.mean for s in stats])
    low = np.array([s.ci_low if s.trials > 1 else s.mean for s in stats])
    high = np.array([s.ci_high if s.trials > 1 else s.mean for s in stats])
    form = "exp2" if family == "exp" else "power"
    fit, n_capped = fit_trials(sub, form)
    label = label or group_label(key)
    if fit is not None:
        unit = "/N" if form == "exp2" else ""
        label += f": slope {fit.slope:.3f}{unit}" + \
            (f" [{fit.ci_low:.3f}, {fit.ci_high:.3f}]" if fit.interval_defined else "")
    if n_capped:
        label += f" ({n_capped} capped trials, not fitted)"
    ax.errorbar(sizes, means, yerr=[means - low, high - means], fmt="o", color=color, capsize=3,
                label=label, ms=4)
    if fit is not None:
        grid = np.linspace(sizes.min(), sizes.max(), 100)
        ax.plot(grid, fit.predict(grid), "-", color=color, lw=1, alpha=0.7)
    grid = np.linspace(sizes.min(), sizes.max(), 100)
    marker = "_" if sizes.size == 1 else None  # a law at one N is a tick, not an invisible line
    for law, style in zip(laws_of(key)[:2] if iid_unbiased(key) else [], ("--", ":"), strict=False):
        if law.label in laws:  # the same law as an earlier configuration's: drawn once, named by both
            entry = laws[law.label]
            entry[2], entry[3] = min(entry[2], sizes.min()), max(entry[3], sizes.max())
            entry[4].append(model_of(key).label)
            continue
        (line,) = ax.plot(grid, law(grid), style, color=color, lw=1, marker=marker, ms=12,
                          label=f"theory {law.label}")
        laws[law.label] = [line, law, sizes.min(), sizes.max(), [model_of(key).label]]


def _name_shared_laws(laws: dict[str, list]) -> None:
    """A law that belongs to several configurations of a panel (poly a=3 and rectpoly a=3 share
    N^2 / (6 ln N)) is drawn in grey over all their sizes, its legend naming each of them."""
    for text, (line, law, low, high, names) in laws.items():
        distinct = list(dict.fromkeys(names))
        if len(distinct) > 1:
            grid = np.linspace(low, high, 100)
            line.set_data(grid, law(grid))
            line.set_color("0.35")
            line.set_label(f"theory {text}: {', '.join(distinct)}")


def matching_predictions(key: dict, predictions: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``predictions`` with the configuration ``key`` (every column of the key that
    the predictions hold, blanks equal to blanks, the seed aside), sorted by N."""
    import pandas as pd

    keep = np.ones(len(predictions), dtype=bool)
    for column, value in key.items():
        if column in ("n", "seed") or column not in predictions.columns:
            continue
        cells = predictions[column]
        if _clean(value) is None:
            keep &= cells.isna().to_numpy()
        else:
            keep &= (cells.astype(object) == value).to_numpy() | \
                (pd.to_numeric(cells, errors="coerce") == pd.to_numeric(value, errors="coerce")).to_numpy()
    return predictions[keep].sort_values("n")


def _draw_prediction(ax, key: dict, sub: pd.DataFrame, predictions: pd.DataFrame, color: str,
                     drawn: set[str]) -> None:
    """The predicted mean P_max (capacity_cli.predict) over the measured range of N, as a dash-dot
    line with its 5-95% band (labelled once per panel)."""
    rows = matching_predictions(key, predictions)
    rows = rows[(rows["n"] >= sub["n"].min()) & (rows["n"] <= sub["n"].max())]
    if rows.empty:
        return
    label = "predicted mean, 5-95% band (finite N)"
    ax.plot(rows["n"], rows["predicted_mean"], "-.", color=color, lw=1.2,
            label=None if label in drawn else label)
    drawn.add(label)
    ax.fill_between(rows["n"], rows["predicted_q05"], rows["predicted_q95"], color=color, alpha=0.12,
                    lw=0)


def sweep_groups(df: pd.DataFrame, x: str) -> list[tuple[dict, pd.DataFrame]]:
    """Configurations of a sweep over column ``x`` at fixed N: every configuration column but ``x``
    and the seed, N included (N is part of the label)."""
    df = capacity_rows(df)
    cols = [c for c in CONFIG_COLUMNS if c in df.columns and c not in (x, "seed")]
    keyed = _with_none_blanks(df, cols)
    if x == "beta_rule" or x == "beta":
        cols = [c for c in cols if c not in ("beta", "beta_rule")]
        if "beta_rule" in keyed.columns:  # plain numbers and each rule in N (c/sqrtN, c/N) apart
            keyed["beta_form"] = keyed["beta_rule"].map(
                lambda r: None if r is None else (str(r).split("/", 1)[1] if "/" in str(r) else ""))
            cols.append("beta_form")
    return [(dict(zip(cols, values, strict=True)), sub)
            for values, sub in keyed.groupby(cols, dropna=False, sort=True)]


def sweep_label(key: dict, x: str) -> str:
    """A legend label for a configuration of a sweep over ``x`` (which the label leaves out)."""
    if x in ("beta", "beta_rule"):  # the model cannot be read back without its beta
        form = _clean(key.get("beta_form"))
        parts = [str(key["model"]) + (f" beta=c/{form}" if form else ""), str(key["criterion"])]
        if _clean(key.get("kind")) not in (None, "pm1"):
            parts.append(str(key["kind"]))
        return ", ".join(parts) + f", N={int(key['n'])}"
    return f"{group_label({**key, x: None})}, N={int(key['n'])}"


def plot_sweep(df: pd.DataFrame, x: str, output: str | os.PathLike, title: str | None = None,
               xlabel: str | None = None) -> list[Path]:
    """Mean P_max with 95% intervals against the swept column ``x`` (log2 P axis), one line per
    configuration; hollow markers where a trial was capped. Writes .png and .pdf."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for key, sub in sweep_groups(df, x):
        values = np.sort(sub[x].unique())
        stats = [summarize(sub.loc[sub[x] == v, "p_max"]) for v in values]
        means = np.array([s.mean for s in stats])
        low = np.array([s.ci_low if s.trials > 1 else s.mean for s in stats])
        high = np.array([s.ci_high if s.trials > 1 else s.mean for s in stats])
        capped = np.array([bool(sub.loc[sub[x] == v, "capped"].fillna(False).astype(bool).any())
                           for v in values])
        line = ax.errorbar(values, means, yerr=[means - low, high - means], fmt="-", capsize=3,
                           label=sweep_label(key, x))
        color = line[0].get_color()
        ax.scatter(values[~capped], means[~capped], color=color, s=14)
        ax.scatter(values[capped], means[capped], facecolors="none", edgecolors=color, s=30)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel("mean P_max (hollow: some trial capped)")
    ax.set_yscale("log", base=2)
    if x == "beta":
        ax.set_xscale("log", base=2)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7)
    return _save(fig, output, title)


def plot_structure(df: pd.DataFrame, output: str | os.PathLike, title: str | None = None) -> list[Path]:
    """Two panels: mean P_max against the requested minimum distance (one colour per degree, one
    line style per correlation; hollow markers where the generator capped the set), and mean P_max
    against the correlation at the smallest separation. Sizes without a separation sweep and given
    sets are left to the summary table. Writes .png and .pdf."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gen = df[df["patterns"].isna()] if "patterns" in df.columns else df
    swept = gen.groupby("n")["min_distance"].nunique()
    gen = gen[gen["n"].isin(swept[swept > 1].index)]  # sizes with a separation sweep
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.8, 4.8))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = ["-", "--", ":", "-."]
    degrees = sorted(gen["degree"].dropna().unique())
    correlations = sorted(gen["correlation"].unique())
    sizes = sorted(gen["n"].unique())
    for di, degree in enumerate(degrees):
        color = colors[di % len(colors)]
        for ci, c in enumerate(correlations):
            for n in sizes:
                sub = gen[(gen["degree"] == degree) & (gen["correlation"] == c) & (gen["n"] == n)]
                if sub.empty:
                    continue
                d, mean, capped = _means_by(sub, "min_distance")
                label = f"a={int(degree)}, c={c:g}" + (f", N={int(n)}" if len(sizes) > 1 else "")
                left.plot(d, mean, styles[ci % len(styles)], color=color, label=label)
                left.scatter(d[~capped], mean[~capped], color=color, s=14)
                left.scatter(d[capped], mean[capped], facecolors="none", edgecolors=color, s=30)
        base = gen[(gen["degree"] == degree) & (gen["min_distance"] == gen["min_distance"].min())]
        for n in sizes:
            sub = base[base["n"] == n]
            if not sub.empty:
                c, mean, _ = _means_by(sub, "correlation")
                right.plot(c, mean, "o-", color=color,
                           label=f"a={int(degree)}" + (f", N={int(n)}" if len(sizes) > 1 else ""))
    left.set_xlabel("requested minimum pairwise Hamming distance d")
    left.set_ylabel("mean P_max (hollow: generator capped)")
    right.set_xlabel("feature correlation c (Markov chain)")
    right.set_ylabel(f"mean P_max at d = {int(gen['min_distance'].min())}")
    for ax in (left, right):
        ax.set_yscale("log", base=2)
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize=7)
    return _save(fig, output, title)


def _means_by(sub: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per value of ``column``: the value, mean P_max, and whether any trial was capped."""
    grouped = sub.groupby(column).agg(mean=("p_max", "mean"), capped=("capped", "any"))
    return grouped.index.to_numpy(dtype=float), grouped["mean"].to_numpy(), \
        grouped["capped"].to_numpy(dtype=bool)


#: Figure formats: plot writes both; a path ending in one of them names the other too.
FIGURE_SUFFIXES = (".png", ".pdf")
#: Image formats plot does not write: a path ending in one is refused, not written as x.svg.png.
OTHER_IMAGE_SUFFIXES = (".svg", ".jpg", ".jpeg", ".eps", ".ps", ".tif", ".tiff", ".gif", ".webp",
                        ".bmp")


def figure_stem(output: str | os.PathLike) -> str:
    """The path a figure's .png and .pdf are written beside (``-o fig``, ``fig.png`` and ``fig.pdf``
    all write fig.png and fig.pdf); an empty name (``''``, ``.png``, ``dir/``) or another image
    format is refused in one line."""
    text = str(output)
    if text.lower().endswith(FIGURE_SUFFIXES):
        text = text[:-4]
    name = Path(text).name if text.strip() and not text.endswith(("/", os.sep)) else ""
    if not name.strip() or name in (".", ".."):
        raise HopcapError(f"-o {str(output)!r}: give a figure path such as 'figure' (writes "
                          "figure.png and figure.pdf)")
    if Path(text).suffix.lower() in OTHER_IMAGE_SUFFIXES:
        raise HopcapError(f"-o {str(output)!r}: plot writes .png and .pdf; give the path without "
                          "an extension")
    from .paths import check_file

    for suffix in FIGURE_SUFFIXES:
        check_file(text + suffix, write=True)
    return text


def _save(fig, output: str | os.PathLike, title: str | None) -> list[Path]:
    """Write ``output`` as .png and .pdf (:func:`figure_stem`: a .png/.pdf suffix is dropped) without
    time stamps, so rerunning a batch leaves unchanged figures byte-identical."""
    import matplotlib.pyplot as plt

    if title:
        fig.suptitle(title)
        try:
            fig.canvas.draw()  # parses the title's $...$ math now, not halfway through saving
        except ValueError as err:
            plt.close(fig)
            lines = [line.strip() for line in str(err).splitlines() if line.strip()]
            message = lines[-1] if lines else type(err).__name__
            raise HopcapError(f"--title {title!r}: not valid matplotlib math text ({message})") \
                from None
    fig.tight_layout()
    stem = figure_stem(output)
    Path(stem).parent.mkdir(parents=True, exist_ok=True)
    paths = [Path(f"{stem}{suffix}") for suffix in FIGURE_SUFFIXES]
    for path, metadata in zip(paths, ({"Software": None}, {"CreationDate": None}), strict=True):
        fig.savefig(path, dpi=150, metadata=metadata)
    plt.close(fig)
    return paths
