"""Every option's domain, declared once: the option types and the table of ``hopcap measure`` options.

:func:`measure_options` (also ``MEASURE_OPTIONS``) is the single declaration of what ``measure``
accepts: the options every model family shares, each family's own (declared in its module,
capacity_cli.families), and the search, pattern and run options. The command's click options are
generated from it (:func:`click_options`), and batch tables (``capacity_cli/configs/*.csv``) parse their cells
with the same types (:func:`parse_cell`), so a value is accepted or refused the same way on the
command line and in a table. :func:`capacity_cli.measure.configs_from_options` turns parsed values
into configurations for both.

Kept free of numpy so ``hopcap --help`` stays instant.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from .limits import (
    CLASSIFY_MAX,
    CURVE_POINTS_MAX,
    DEFAULT_MAX_TRIES,
    DEFAULT_P_CAP,
    MAX_DEGREE_MAX,
    MAX_TRIES_MAX,
    N_MAX,
    P_CAP_MAX,
    THREADS_MAX,
    TRIALS_MAX,
)


def _short(value) -> str:
    """A number as the user would recognise it, without 100-digit walls of text."""
    text = str(value)
    if len(text) <= 24:
        return text
    try:
        return f"{Decimal(text):.3g}"
    except InvalidOperation:
        return text[:21] + "..."


def _bound(value: int) -> str:
    """A range bound, with large powers written as such (2^40, 10^9, 2^63-1)."""
    for base in (2, 10):
        for offset, suffix in ((0, ""), (1, "-1")):
            k = round(math.log(value + offset, base)) if value > 100_000 else 0
            if k and base**k == value + offset:
                return f"{base}^{k}{suffix}"
    return str(value)


class Integer(click.ParamType):
    """A whole number in [lo, hi] (either end may be open-ended with None). Accepts exact integer
    text of any size and integral scientific notation (``1e6``); refuses fractions, NaN and inf."""

    name = "integer"

    def __init__(self, lo: int | None = None, hi: int | None = None):
        self.lo, self.hi = lo, hi

    def convert(self, value, param, ctx):
        if isinstance(value, bool):
            self.fail(f"expected a whole number, got {value!r}", param, ctx)
        if isinstance(value, int):
            number = value
        else:
            text = str(value).strip().replace("_", "")
            try:
                number = int(text)
            except ValueError:
                try:
                    exact = Decimal(text)
                except InvalidOperation:
                    self.fail(f"expected a whole number, got {_short(value)!r}", param, ctx)
                if not exact.is_finite() or exact != exact.to_integral_value():
                    self.fail(f"expected a whole number, got {_short(value)!r}", param, ctx)
                if abs(exact.adjusted()) > 400:
                    self.fail(f"{_short(value)} is out of range ({self.range_text()})", param, ctx)
                number = int(exact)
        if (self.lo is not None and number < self.lo) or (self.hi is not None and number > self.hi):
            self.fail(f"{_short(number)} is out of range ({self.range_text()})", param, ctx)
        return number

    def range_text(self) -> str:
        if self.hi is None:
            return f">= {self.lo}" if self.lo is not None else "any whole number"
        return f"{self.lo}..{_bound(self.hi)}"

    def get_metavar(self, param, *args, **kwargs) -> str:
        return "INT"


class Real(click.ParamType):
    """A finite real number in a range (None: unbounded); NaN and inf are refused."""

    name = "number"

    def __init__(self, lo: float | None = None, hi: float | None = None, lo_open: bool = False,
                 hi_open: bool = False):
        self.lo, self.hi, self.lo_open, self.hi_open = lo, hi, lo_open, hi_open

    def convert(self, value, param, ctx):
        if isinstance(value, bool):
            self.fail(f"expected a number, got {value!r}", param, ctx)
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            self.fail(f"expected a number, got {_short(value)!r}", param, ctx)
        if not math.isfinite(number):
            self.fail(f"expected a finite number, got {_short(value)}", param, ctx)
        below = self.lo is not None and (number <= self.lo if self.lo_open else number < self.lo)
        above = self.hi is not None and (number >= self.hi if self.hi_open else number > self.hi)
        if below or above:
            self.fail(f"{_short(value)} is out of range ({self.range_text()})", param, ctx)
        return number

    def range_text(self) -> str:
        if self.lo is None and self.hi is None:
            return "any finite number"
        left = "any" if self.lo is None else f"{'(' if self.lo_open else '['}{self.lo:g}"
        right = "any" if self.hi is None else f"{self.hi:g}{')' if self.hi_open else ']'}"
        return f"{left}, {right}"

    def get_metavar(self, param, *args, **kwargs) -> str:
        return "FLOAT"


class ListOf(click.ParamType):
    """A comma-separated list on the command line (``16,32,64``), each item checked by ``item``."""

    def __init__(self, item: Integer | Real):
        self.item = item
        self.name = f"{item.name}-list"

    def convert(self, value, param, ctx):
        if isinstance(value, list | tuple):
            return [self.item.convert(v, param, ctx) for v in value]
        items = [v.strip() for v in str(value).split(",")]
        if not items or any(not v for v in items):
            self.fail(f"expected a comma-separated list of {self.item.name}s, got {value!r}",
                      param, ctx)
        return [self.item.convert(v, param, ctx) for v in items]

    def range_text(self) -> str:
        return self.item.range_text()

    def get_metavar(self, param, *args, **kwargs) -> str:
        return f"{self.item.get_metavar(param)}[,...]"


@dataclass(frozen=True)
class Given:
    """In an option's ``applies``: the option needs this setting given, at a value that does
    something (not None, False, 0 or a list of zeros); ``what`` describes it in the message (e.g.
    ``FILE``)."""

    what: str = ""

    def matches(self, value) -> bool:
        if isinstance(value, list | tuple):
            return any(value)
        return bool(value)


#: The option needs the setting given (see :class:`Given`).
GIVEN = Given()
#: A file the option needs, e.g. ``-o FILE``.
GIVEN_FILE = Given("FILE")


class FilePath(click.Path):
    """A file path; an empty name is refused (it would write nothing, or a hidden ``.png``), and
    with ``suffix`` the name must end in it (e.g. ``.npz``, which numpy would otherwise append).
    Regular files only (capacity_cli.paths.check_file): an input (``write`` False) that exists must
    be one, an output must not exist yet or be one and be writable; FIFOs, devices, directories and
    dangling links are refused in one line."""

    def __init__(self, suffix: str | None = None, write: bool = False):
        super().__init__(dir_okay=False)
        self.suffix, self.write = suffix, write

    def convert(self, value, param, ctx):
        from .errors import HopcapError
        from .paths import check_file

        if not str(value).strip():
            self.fail("expected a file name, got an empty one", param, ctx)
        if self.suffix and not str(value).endswith(self.suffix):
            self.fail(f"expected a file name ending in {self.suffix}, got {value!r}", param, ctx)
        value = super().convert(value, param, ctx)
        try:
            check_file(value, write=self.write)
        except HopcapError as err:
            self.fail(str(err), param, ctx)
        return value


class SchedulerAddress(click.ParamType):
    """A Dask scheduler address: ``tcp://host:port`` or ``host:port`` (a TLS address needs
    certificates, which hopcap does not configure: refused here, with the reason)."""

    name = "address"

    def convert(self, value, param, ctx):
        text = str(value).strip()
        if not text:
            self.fail("expected a scheduler address, got an empty one", param, ctx)
        scheme, sep, rest = text.partition("://")
        if not sep:
            scheme, rest = "tcp", text
        if scheme.lower() != "tcp":
            self.fail(f"{text!r}: hopcap reaches a Dask scheduler over tcp:// only ({scheme}:// needs "
                      "a security configuration hopcap does not set up)", param, ctx)
        host, colon, port = rest.rpartition(":")
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            self.fail(f"{text!r}: expected tcp://HOST:PORT (port 1..65535)", param, ctx)
        return f"tcp://{host}:{int(port)}"

    def get_metavar(self, param, *args, **kwargs) -> str:
        return "ADDRESS"


@dataclass(frozen=True)
class Option:
    """One option of ``hopcap measure`` and one column of a batch table.

    ``name`` is the Python name, the batch column and the flag (``max_sweeps`` <-> ``--max-sweeps``).
    ``sweep`` options take a list (comma-separated on the command line, space-separated in a
    cell) and make one configuration per value. ``flag`` options are ``--name/--no-name`` switches.
    ``batch`` is False for options about one run of the command (output, threads, progress), which
    a batch table cannot set.

    ``applies`` says where the option applies, declared here once for every command and batch
    table: setting -> the values of that setting it applies to (a tuple), or :data:`GIVEN` (it
    applies only when that setting is given). Settings are other options (``--search``,
    ``--feature-map``, ``--rule``, ``--code``, ...) and ``source``: ``generated`` patterns or a given
    set (``patterns``, ``dataset``). A setting a command does not have is not checked. Giving an
    option where it does not apply is refused (capacity_cli.families.misplaced_options); which
    family owns it and which criteria it serves are the families' declarations.
    """

    name: str
    type: click.ParamType | None
    default: Any
    help: str
    sweep: bool = False
    flag: bool = False
    batch: bool = True
    required: bool = False
    short: str | None = None
    default_text: str | None = None  # shown instead of the default where it depends on others
    applies: Any = field(default_factory=dict, hash=False)  # setting -> values (or GIVEN)

    @property
    def flag_name(self) -> str:
        return "--" + self.name.replace("_", "-")

    def help_text(self) -> str:
        domain = getattr(self.type, "range_text", None)
        if domain is None or domain().startswith("any"):
            return self.help  # unbounded here: the library checks the value (degree, beta)
        return f"{self.help} Range: {domain()}."

    def click_option(self) -> Callable:
        """The click decorator for this option."""
        flags = [self.flag_name] if self.short is None else [self.short, self.flag_name]
        if self.flag:
            flags = [f"{self.flag_name}/--no-{self.flag_name[2:]}"]
        kwargs: dict[str, Any] = {"default": self.default, "help": self.help_text(),
                                  "required": self.required}
        if not self.flag:
            kwargs["type"] = self.type
        if self.default_text is not None:
            kwargs["show_default"] = self.default_text
        elif self.default is None:
            kwargs["show_default"] = False
        return click.option(*flags, self.name, **kwargs)


def merge_options(*groups: Iterable[Option]) -> tuple[Option, ...]:
    """Concatenate option groups (e.g. a model family's own options), refusing duplicate names; the
    same Option object given twice (one family reusing another's option) is listed once."""
    out: list[Option] = []
    for group in groups:
        for option in group:
            if any(o is option for o in out):
                continue
            if any(o.name == option.name for o in out):
                raise ValueError(f"option {option.name!r} is declared twice")
            out.append(option)
    return tuple(out)


#: beta as text: a coefficient, optionally ``/sqrtN``, ``/sqrt(N)`` or ``/N`` (case-insensitive);
#: group 1 is the coefficient, group 2 the rule (None for a plain number).
BETA_PATTERN = re.compile(r"^\s*([^/\s]+)\s*(?:/\s*(sqrt\s*\(\s*n\s*\)|sqrt\s*n|n)\s*)?$",
                          re.IGNORECASE)


class BetaText(click.ParamType):
    """beta: a positive number, or a rule in N for the continuous models (``c/sqrtN``, ``c/N``); the
    model family reads it (exp takes numbers only)."""

    name = "beta"

    def convert(self, value, param, ctx):
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = repr(float(value))
        else:
            text = str(value).strip()
        match = BETA_PATTERN.match(text)
        if match and match.group(2):  # a rule in N: the family reads it
            return text
        number = Real(0, None, lo_open=True).convert(text, param, ctx)
        return number

    def range_text(self) -> str:
        return "a number > 0, or c/sqrtN or c/N (softmax)"

    def get_metavar(self, param, *args, **kwargs) -> str:
        return "BETA"


def _choice_help(kind: str) -> str:
    from .families import families

    return "; ".join(f"{f.name}: {', '.join(getattr(f, kind))}" for f in families())


def _shared_options() -> tuple[tuple[Option, ...], tuple[Option, ...]]:
    """The model and criterion options every family shares (choices from the registry)."""
    from .families import all_criteria, all_models

    model = (
        Option("model", click.Choice(all_models()), None, "The model (" + _choice_help("models") +
               "): hebbian F = x^2/2, poly x^a, rectpoly max(x,0)^a, exp exp(beta x); softmax "
               "xi <- X^T softmax(beta X xi).", required=True),
        Option("beta", ListOf(BetaText()), [1.0], "Inverse temperature: exp in [1e-4, 50]; softmax "
               "and kernel in (0, 1e4] at every N, also as c/sqrtN or c/N; rf in [1e-3, 1e3] "
               "(a list sweeps).", sweep=True,
               applies={"model": ("exp", "softmax", "rf", "kernel")}),
    )
    criterion = (
        Option("criterion", click.Choice(all_criteria()), None, "What stored means (" +
               _choice_help("criteria") + "). stable: fixed point; retrieve: exact recall from a "
               "noisy cue; overlap: final overlap >= --min-overlap; overlap-mean: mean overlap over "
               "--sweeps S after S of burn-in >= --min-overlap; retrieve-eps: K updates land "
               "within --eps; sign: sign of the state after K updates is the pattern; fixed-point: "
               "the iteration converges within --eps.",
               default_text="stable (binary), retrieve-eps (softmax)"),
        Option("noise", Real(0, 0.5), None, "Cue noise rho: round(rho N) distinct bits flipped (+-1 "
               "patterns) or Gaussian noise of norm rho |x| (sphere patterns).",
               default_text="0.1 retrieve, else 0"),
        Option("threshold", Real(0, 1, lo_open=True), 1.0, "Fraction of the P patterns that must "
               "succeed (1 = every pattern; threshold * --p-max must exceed 1).",
               applies={"search": ("p", "degree")}),
    )
    return model, criterion


#: ``source`` values (see Option.applies): generated patterns, or a given set.
GENERATED = ("generated",)
GIVEN_SET = ("patterns", "dataset")
#: Where the +-1 generator's options apply: generated +-1 patterns (not a prototype task's examples).
PM1_GENERATOR = {"source": GENERATED, "kind": ("pm1",), "prototypes": (None,)}

#: The options of ``hopcap predict``: measure's declarations by name (capacity_cli.predict), and -o.
PREDICT_OPTION_NAMES = ("model", "degree", "beta", "rule", "criterion", "threshold", "n", "bias",
                        "correlation", "min_distance", "patterns", "dataset")
#: Largest feature count (rf's Y, kernel's D).
FEATURES_MAX = 2**20
#: One option that two families read, each in its own sense (declared once, here).
FEATURES = Option("features", ListOf(Integer(1, FEATURES_MAX)), None, "Feature count. rf: Y random "
                  "frequencies (2Y features) at the paper's --beta (modern.md C; exact counterpart: "
                  "exp at beta/(4N)); kernel: feature dimension D (rows of W; the identity map has D = N). A "
                  "list sweeps.", sweep=True, default_text="1024 (rf), N (kernel)",
                  applies={"feature_map": ("random", "learned")})

SEARCH_OPTIONS = (
    Option("n", ListOf(Integer(2, N_MAX)), None, "N, one value or a list (16,32,64); refused when "
           "the largest check (at --p-max) would need over half the memory.", sweep=True,
           default_text="sizes that run in seconds", applies={"source": GENERATED}),
    Option("trials", Integer(1, TRIALS_MAX), None, "Independent trials per configuration.",
           default_text="20; 1 for a given set without --shuffle"),
    Option("p_max", Integer(1, P_CAP_MAX), DEFAULT_P_CAP, "Cap on P (reported as capped). The "
           "search may check every P up to it: refused when that check would need over half the "
           "memory, or when a model stores every P up to it and the trials' work passes the budget "
           "(about 2e12 multiply-adds, capacity_cli/limits.py WORK_MAX).",
           applies={"search": ("p",)}),
    Option("search", click.Choice(["p", "degree", "recency"]), "p", "p: largest storable P. degree: "
           "smallest degree a of poly/rectpoly that stores the whole set (--patterns, or generated "
           "sets of --p patterns). recency: after a stream of --p patterns learned one by one, how "
           "many of the newest are stored (forgetting rules: pairwise palimpsest)."),
    Option("p", Integer(1, P_CAP_MAX), None, "--search degree: patterns per generated set (with "
           "a given set: its first P); --search recency: stream length (default 10 N).",
           applies={"search": ("degree", "recency")}),
    Option("max_degree", Integer(2, MAX_DEGREE_MAX), 30, "--search degree: highest degree tried.",
           applies={"search": ("degree",)}),
)
PATTERN_OPTIONS = (
    Option("bias", Real(0, 1, lo_open=True, hi_open=True), 0.5, "Probability of +1 per unit.",
           applies={**PM1_GENERATOR, "code": (None,)}),
    Option("correlation", ListOf(Real(0, 1, hi_open=True)), [0.0], "Feature correlation c: unit i "
           "copies unit i-1 with probability c (Markov chain; corr(i, j) = c^|i-j| at bias 0.5). A "
           "list sweeps.", sweep=True, applies=PM1_GENERATOR),
    Option("min_distance", ListOf(Integer(0, N_MAX)), [0], "Minimum pairwise Hamming distance "
           "(greedy rejection), at most N. A list sweeps.", sweep=True, applies=PM1_GENERATOR),
    Option("max_tries", Integer(1, MAX_TRIES_MAX), DEFAULT_MAX_TRIES, "With --min-distance: give up "
           "after this many consecutive rejected candidates.",
           applies={**PM1_GENERATOR, "code": (None,), "min_distance": Given("d > 0")}),
    Option("code", click.Choice(["bch", "rm"]), None, "Random codewords of an error-correcting "
           "code with distance >= --min-distance instead of greedy rejection: bch (BCH, extended or "
           "shortened to N, N <= 1024) or rm (Reed-Muller RM(1, m), N = 2^m, d = N/2). With "
           "--correlation c, a code of length N - round(c (N-1)) whose units are "
           "copied to fill N (distances kept). docs/theory.md section 13.", applies=PM1_GENERATOR),
    Option("patterns", FilePath(), None, "Measure this ordered set (.npy/.npz, +-1 "
           "or 0/1) instead of generated ones."),
    Option("dataset", click.Choice(["digits"]), None, "A real set instead of generated ones: digits "
           "= scikit-learn's 8x8 digits binarised (N=64; needs pip install 'hopcap[digits]')."),
    Option("shuffle", None, None, "Given sets: each trial takes its own random order.", flag=True,
           default_text="on for --dataset, off for --patterns", applies={"source": GIVEN_SET}),
    Option("kind", click.Choice(["pm1", "sphere"]), "pm1", "Generated patterns: pm1 (+-1 rows, the "
           "options above) or sphere (i.i.d. Gaussian rows of norm sqrt(N); softmax only).",
           applies={"source": GENERATED, "prototypes": (None,)}),
    Option("seed", Integer(0), 0, "Base random seed (any size); trial t uses numpy "
           "SeedSequence([seed, t])."),
)
RUN_OPTIONS = (
    Option("threads", Integer(1, THREADS_MAX), None, "Numba threads (default: all cores). Results "
           "do not depend on it.", batch=False),
    Option("output", FilePath(write=True), None, "Append one row per trial to this CSV; trials "
           "already in it are skipped (resume).", batch=False, short="-o"),
    Option("progress", None, True, "Show progress: a bar on a terminal, otherwise plain lines on "
           "stderr (one per configuration, at most every 30 s).", flag=True, batch=False),
    Option("repair", None, False, "First drop the invalid and duplicated rows of -o FILE (their "
           "trials then run again).", flag=True, batch=False, applies={"output": GIVEN_FILE}),
    Option("outcomes", FilePath(write=True), None, "Also write each trial's per-pattern "
           "outcomes at P_max and P_max + 1 to this CSV (binary family; docs/theory.md section 16).",
           batch=False, applies={"model": ("hebbian", "poly", "rectpoly", "exp"), "search": ("p",),
                                 "criterion": ("stable", "retrieve", "overlap")}),
    Option("trace", FilePath(write=True), None, "With --outcomes: the energy after each sweep "
           "of those recalls, to this CSV.", batch=False, applies={"outcomes": GIVEN_FILE}),
    Option("executor", click.Choice(["local", "dask"]), "local", "Where trials run: local (this "
           "process) or dask (one task per trial on a Dask cluster; needs pip install "
           "'hopcap[dask]'). Results do not depend on it.", batch=False),
    Option("scheduler", SchedulerAddress(), None, "With --executor dask: the address of a running "
           "Dask scheduler, tcp://HOST:PORT (e.g. tcp://host:8786; an unreachable one fails within "
           "a few seconds); default: a LocalCluster on this machine.",
           batch=False, applies={"executor": ("dask",)}),
)
@functools.cache
def measure_options() -> tuple[Option, ...]:
    """Every option of ``hopcap measure`` (and batch tables), in help order: the shared ones, each
    registered model family's own (capacity_cli.families), the search, pattern and run options."""
    from .families import families

    model, criterion = _shared_options()
    own = combine_family_options([(f.name, o) for f in families() for o in f.options])
    return merge_options(model, criterion, own, SEARCH_OPTIONS, PATTERN_OPTIONS, RUN_OPTIONS)


#: measure options that ``hopcap curve`` does not take (it searches no P and has its own grid).
_NOT_CURVE = ("p", "p_max", "search", "max_degree", "repair", "outcomes", "output", "executor",
              "scheduler")
CURVE_OPTIONS = (
    Option("p", click.STRING, None, "The P grid, START:STOP:STEP (STOP included when a step lands "
           f"on it) or one value; at most {CURVE_POINTS_MAX} points, P <= {_bound(P_CAP_MAX)}.",
           batch=False),
    Option("p_over_n", click.STRING, None, "The grid in alpha = P/N, START:STOP:STEP; P = "
           f"round(alpha N); at most {CURVE_POINTS_MAX} points.", batch=False),
    Option("output", FilePath(write=True), None, "Append one row per trial and P to this CSV; "
           "trials it already holds are skipped (resume).", batch=False, short="-o"),
)


def curve_options() -> tuple[Option, ...]:
    """The options of ``hopcap curve``: measure's model, criterion, pattern and run options with
    the P grid instead of the search options; --trace writes the recalls' energies."""
    keep = [o for o in measure_options() if o.name not in _NOT_CURVE]
    return merge_options(keep, CURVE_OPTIONS)


def combine_family_options(declared: Iterable[tuple[str, Option]]) -> list[Option]:
    """Family options as one list: a declaration several families share (the same Option) once,
    and options of one name with different click.Choice domains (``--rule``: the binary family's
    update rules, the pairwise family's learning rules) as one choice of their union, without a
    default (each family's ``build`` takes its own; the help names both)."""
    out: dict[str, Option] = {}
    owners: dict[str, list[tuple[str, Option]]] = {}
    for family, option in declared:
        owners.setdefault(option.name, []).append((family, option))
        first = out.get(option.name)
        if first is None or first == option:
            out.setdefault(option.name, option)
            continue
        if not (isinstance(first.type, click.Choice) and isinstance(option.type, click.Choice)):
            raise ValueError(f"option {option.name!r} is declared twice")
        seen = owners[option.name]
        choices = list(dict.fromkeys([c for _, o in seen for c in o.type.choices]))
        out[option.name] = Option(
            option.name, click.Choice(choices), None, " ".join(o.help for _, o in seen),
            default_text=", ".join(f"{o.default} ({f})" for f, o in seen))
    return list(out.values())


def __getattr__(name: str):
    if name == "MEASURE_OPTIONS":  # built on first use: it needs the family registry
        return measure_options()
    raise AttributeError(name)


def option_named(name: str, options: Iterable[Option] | None = None) -> Option:
    """The declaration of one option (of ``hopcap measure`` by default)."""
    options = measure_options() if options is None else options
    for option in options:
        if option.name == name:
            return option
    raise KeyError(name)


def click_options(options: Iterable[Option] | None = None) -> Callable:
    """A decorator adding every option of the table (``measure``'s by default) to a click command,
    in table order."""
    options = measure_options() if options is None else tuple(options)

    def decorate(f):
        for option in reversed(options):
            f = option.click_option()(f)
        return f

    return decorate


def parse_cell(option: Option, text: str) -> Any:
    """One batch-table cell, checked exactly like the option on the command line: lists are
    space-separated, switches take true/false (yes/no, 1/0). Raises click.BadParameter."""
    if option.flag:
        return click.BOOL.convert(text, None, None)
    if option.sweep:
        if "," in text:
            raise click.BadParameter("lists in a batch table are space-separated, not comma-separated")
        return option.type.convert(text.split(), None, None)
    return option.type.convert(text.strip(), None, None)


def parse_row(cells: Mapping[str, str], options: Iterable[Option] | None = None) -> dict:
    """The non-blank cells of a batch row as option values. Raises KeyError for a column that is
    no batch option and click.BadParameter (with ``param_hint`` set to the column) for a bad cell."""
    by_name = {o.name: o for o in (measure_options() if options is None else options) if o.batch}
    values = {}
    for column, text in cells.items():
        if column not in by_name:
            raise KeyError(column)
        if text is None or not str(text).strip():
            continue
        try:
            values[column] = parse_cell(by_name[column], str(text))
        except click.BadParameter as err:
            err.param_hint = column
            raise
    return values


# Options of the other commands: measure's declarations where they mean the same (their domain and
# where they apply with them), single values where measure sweeps lists.
def _single(name: str, **changes) -> Option:
    """Measure's option ``name`` taking one value (its list item type, its first default)."""
    o = option_named(name)
    if o.sweep:
        changes.setdefault("type", o.type.item)
        changes.setdefault("default", None if o.default is None else o.default[0])
        changes.setdefault("help", o.help.replace(" A list sweeps.", ""))
    return replace(o, sweep=False, batch=False, default_text=None, **changes)


def predict_options() -> tuple[Option, ...]:
    """The options of ``hopcap predict``: measure's (PREDICT_OPTION_NAMES) and its -o."""
    return (*(option_named(name) for name in PREDICT_OPTION_NAMES),
            Option("output", FilePath(write=True), None, "Write one row per configuration (measure's "
                   "configuration columns and the predicted mean, sd and quantiles) to this CSV.",
                   short="-o", batch=False))


@functools.cache
def gen_options() -> tuple[Option, ...]:
    """The options of ``hopcap gen``."""
    return (
        _single("n", type=Integer(2, N_MAX), default=None, help="Units per pattern (N)."),
        Option("p", Integer(1, P_CAP_MAX), None, "Number of patterns (P); with --dataset, the first P "
               "(default: all)."),
        option_named("dataset"),
        *(_single(name) for name in ("bias", "correlation", "min_distance", "max_tries")),
        option_named("code"),
        option_named("kind"),
        Option("seed", Integer(0), 0, "Base random seed (any size); trial t uses numpy "
               "SeedSequence([seed, t]).", applies={"source": GENERATED}),
        Option("output", FilePath(write=True), None, "Output .npz (patterns + parameters + achieved "
               "statistics) or .npy (patterns only).", required=True, short="-o", batch=False),
        Option("prototypes", click.INT, None, "Prototype task: P noisy examples of this many random "
               "prototypes (hopcap census).", applies={"source": GENERATED}),
        Option("example_noise", click.FLOAT, 0.1, "With --prototypes: each unit of an example is "
               "flipped with this probability.", applies={"prototypes": GIVEN}),
    )


@functools.cache
def census_options() -> tuple[Option, ...]:
    """The options of ``hopcap census`` (its library checks the values: census.census_plan)."""
    return (
        Option("model", click.STRING, "hebbian", "A model with fixed-point dynamics on +-1 states: "
               "hebbian, poly, rectpoly, exp."),
        _single("degree", type=click.INT, default=None, help="Degree a of poly / rectpoly."),
        _single("beta", type=click.FLOAT, default=None, help="Inverse temperature of exp (default "
                "1)."),
        _single("n", type=click.INT, default=100, help="Units (generated sets)."),
        Option("p", click.INT, None, "Stored patterns: generated sets (default 10), or the first P "
               "of --patterns/--dataset (default all)."),
        replace(option_named("patterns"), help="Stored set from a .npy/.npz (a gen --prototypes file "
                "brings its prototypes)."),
        option_named("dataset"),
        Option("prototypes", click.INT, None, "Store P noisy examples of this many random "
               "prototypes (prototype class).", applies={"source": GENERATED}),
        Option("example_noise", click.FLOAT, 0.1, "With --prototypes: flip probability of each "
               "unit of an example, in [0, 0.5].", applies={"prototypes": GIVEN}),
        Option("starts", click.INT, 1000, "Number of starts (>= 1)."),
        Option("from_cues", click.FLOAT, None, "Start from noisy cues (round(RHO N) flipped units "
               "of pattern s mod P) instead of uniformly random states."),
        Option("max_sweeps", click.INT, 100, "Sweep cap; starts still moving after it are counted "
               "as not converged."),
        Option("radius_cues", click.INT, 20, "Cues per test in the basin-radius search of each "
               "stored pattern (0: skip)."),
        Option("profiles", FilePath(write=True), None, "Write the distinct fixed points, classes, "
               "energies and energy profiles to this .npz.", batch=False),
        Option("classify", Integer(1, CLASSIFY_MAX), None, "Also train classifiers on the energy "
               "profiles of this many prototype-task networks and test them on as many others (needs "
               "--prototypes): accuracy table.", applies={"prototypes": GIVEN}),
        Option("seed", Integer(0), 0, "Base random seed (any size); trial t uses numpy "
               "SeedSequence([seed, t])."),
        Option("threads", click.INT, None, "Numba threads (default: all cores); results do not "
               "depend on it.", batch=False),
    )
