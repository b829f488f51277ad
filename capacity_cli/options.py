"""Click option types and the options shared by several subcommands (defined once)."""

from __future__ import annotations

import click

MODELS = ("hebbian", "poly", "rectpoly", "exp")
CRITERIA = ("stable", "retrieve", "overlap")


class NumberList(click.ParamType):
    """A comma-separated list of numbers, e.g. ``16,32,64``; checked at parse time."""

    def __init__(self, kind: type = int):
        self.kind = kind
        self.name = f"{kind.__name__}-list"

    def convert(self, value, param, ctx):
        if isinstance(value, list | tuple):
            return list(value)
        items = [v.strip() for v in str(value).split(",") if v.strip()]
        if not items:
            self.fail(f"expected a comma-separated list of {self.kind.__name__}s, got {value!r}",
                      param, ctx)
        try:
            out = [self.kind(v) for v in items]
        except ValueError:
            self.fail(f"expected a comma-separated list of {self.kind.__name__}s, got {value!r}",
                      param, ctx)
        return out


INTS = NumberList(int)
FLOATS = NumberList(float)


def seed_option(f):
    return click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                        help="Base random seed; trial t uses numpy SeedSequence([seed, t]).")(f)


def threads_option(f):
    return click.option("--threads", type=click.IntRange(min=1), default=None,
                        help="Numba threads (default: all cores). Results do not depend on it.")(f)


def generator_options(f):
    """--bias, --correlation, --min-distance, --max-tries (shared by gen and measure)."""
    for option in reversed([
        click.option("--bias", type=click.FloatRange(0, 1, min_open=True, max_open=True),
                     default=0.5, show_default=True, help="Probability of +1 per unit."),
        click.option("--correlation", "correlation", type=FLOATS, default="0", show_default=True,
                     help="Feature correlation c in [0, 1): unit i copies unit i-1 with probability c "
                          "(Markov chain; corr(i, j) = c^|i-j| at bias 0.5). A list sweeps."),
        click.option("--min-distance", "min_distance", type=INTS, default="0", show_default=True,
                     help="Minimum pairwise Hamming distance (greedy rejection). A list sweeps."),
        click.option("--max-tries", type=click.IntRange(min=1), default=10_000, show_default=True,
                     help="Give up after this many consecutive rejected candidates."),
    ]):
        f = option(f)
    return f


def dataset_option(f):
    return click.option("--dataset", type=click.Choice(["digits"]), default=None,
                        help="A real set instead of generated ones: digits = scikit-learn's 8x8 digits "
                             "binarised (N=64; needs pip install 'hopcap[digits]').")(f)
