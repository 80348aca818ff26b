"""--set NAME=VALUE (experiments/harness/config_overrides.py): values parsed to the type they replace, bad ones refused in
one line before any work; a changed config is "custom", runs into a folder of its own and never into
the committed figures/; experiments/harness/seeds.py takes the same flag."""
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from checkout import checkout_env

from experiments.harness import seeds
from experiments.harness import config_overrides, results
from tests import tiny_figure as tiny


@dataclasses.dataclass(frozen=True)
class Inner:
    evals: int = 5


@dataclasses.dataclass(frozen=True)
class Config:
    seed: int = 7
    iters: int = 100
    lr: float = 1e-4
    lam0: float = -2.0
    extra: int = 0
    archs: tuple = ((784, 10), (784, 100, 10))
    budget_s: dict = dataclasses.field(default_factory=lambda: {"h10": 1000.0})
    loss: str = "nll"
    clip: bool = False
    note: object = None
    grid: tuple = (-1.0, 3.0, 10)
    lrs: tuple = (1e-4, 1e-3)
    inner: Inner = Inner()


@pytest.mark.parametrize("text, name, value", [
    ("iters=5000", "iters", 5000), ("lr=1e-3", "lr", 1e-3), ("lr=1", "lr", 1.0), ("lam0=3", "lam0", 3.0),
    ("lam0=-7.5", "lam0", -7.5), ("extra=0", "extra", 0), ("archs=[[784, 10]]", "archs", ((784, 10),)),
    ("archs=()", "archs", ()), ("grid=(-3, -1, 5)", "grid", (-3.0, -1.0, 5)), ("lrs=[1, 2]", "lrs", (1.0, 2.0)),
    ("budget_s={'h10': 5, 'x': 1}", "budget_s", {"h10": 5.0, "x": 1.0}), ("extra=-1", "extra", -1),
    ("lam0=0", "lam0", 0.0), ("loss= mse ", "loss", "mse"), ("budget_s={'h10': 100.0}", "budget_s", {"h10": 100.0}), ("loss=mse", "loss", "mse"),
    ("loss='mse'", "loss", "mse"), ("clip=True", "clip", True), (" iters = 7 ", "iters", 7), ("note=[1]", "note", (1,))])
def test_a_value_takes_the_type_it_replaces(text, name, value):
    got = config_overrides.parse(Config(), text)
    assert got == (name, value) and type(got[1]) is type(value)


@pytest.mark.parametrize("text, says", [
    ("iters=0", "iters must stay positive (it is 100 in the config)"),
    ("lr=-1e-3", "lr must stay positive"),
    ("lr=nan", "lr is not a finite number"), ("lr=-inf", "lr is not a finite number"),
    ("lr=1e999", "lr is not a finite number"),
    ("iters=2.5", "iters takes an int (100 in the config), not a float"),
    ("clip=1", "clip takes a bool (False in the config), not an int"),
    ("archs=784", "archs takes a tuple"), ("iters", "give NAME=VALUE, e.g. --set iters=100"),
    ("=3", "give NAME=VALUE"), ("seed=3", "the seed has its own flag"),
    ("grid=(-1, 3, 'a')", "grid[2] takes an int (10 in the config), not a str"),
    ("grid=(-1, 3)", "grid takes 3 elements, as (-1.0, 3.0, 10) in the config; got 2"),
    ("grid=(-1, 3, 0)", "grid[2] must stay positive"), ("lrs=(1e-3, -0.1)", "lrs[1] must stay positive"),
    ("archs=((784, 'x'),)", "archs[0][1] takes an int"), ("budget_s={'h10': -1.0}", "budget_s['h10'] must stay positive"),
    ("budget_s={'h7850': 'a'}", "budget_s['h7850'] takes a float"), ("inner=1", "inner is a nested config"),
    ("lrr=1", "'lrr' is not a setting of this figure; its settings: iters, lr, lam0")])
def test_a_bad_value_is_one_line(text, says):
    with pytest.raises(ValueError) as e:
        config_overrides.parse(Config(), text)
    assert says in str(e.value) and "\n" not in str(e.value)


def test_a_setting_given_twice_is_refused():
    with pytest.raises(ValueError, match="--set lr is given more than once"):
        config_overrides.changes(Config(), ["lr=1e-3", "lr=2e-3"])


def test_other_changes_get_another_folder():
    a, b = config_overrides.folder_name("paper", {"lr": 1e-3}), config_overrides.folder_name("paper", {"lr": 2e-3})
    assert a != b and a.startswith("custom_") and len(a) == len("custom_") + 8
    assert config_overrides.folder_name("quick", {"lr": 1e-3}) != a
    assert config_overrides.folder_name("paper", {"lr": 1e-3, "iters": 5}) == config_overrides.folder_name("paper", {"iters": 5, "lr": 1e-3})
    same = [config_overrides.folder_name("paper", config_overrides.changes(Config(), [t])) for t in ("grid=(-1,3,10)", "grid=(-1.0,3.0,10)")]
    assert same[0] == same[1]  # equal values, one folder


main = tiny.main_in_process


def test_a_custom_run_goes_to_its_own_folder_and_never_to_figures(folders):
    runs = []
    main("--set", "n=3", runs=runs)
    out = folders / "runs" / config_overrides.folder_name("paper", {"n": 3})
    rec = results.load_results(out, "tiny")[0]
    assert runs[0].n == 3 and rec["config_name"] == "custom" and rec["config"]["n"] == 3
    main("--quick", "--seed", "9", "--set", "n=4", runs=runs)
    assert (folders / "runs" / (config_overrides.folder_name("quick", {"n": 4}) + "_seed9") / "tiny.json").exists()
    for argv in (["--set", "n=3", "--out", str(folders / "figures")], ["--set", "n=0"], ["--set", "m=1"]):
        with pytest.raises(SystemExit) as e:
            main(*argv, runs=runs)
        assert str(e.value).startswith("tiny: error: ") and "\n" not in str(e.value)
    assert len(runs) == 2 and not (folders / "figures").exists()
    main("--set", "n=3", "--plot-only", runs=runs)  # redraws from the folder the flags name
    with pytest.raises(SystemExit, match="the folder does not exist"):
        main("--set", "n=5", "--plot-only")
    assert len(runs) == 2


def test_a_change_back_to_the_paper_value_is_the_paper_config(folders):
    main("--set", "n=50", "--out", str(folders / "x"))
    assert results.load_results(folders / "x", "tiny")[0]["config_name"] == "PAPER"


def test_seeds_takes_set_and_refuses_a_bad_one_in_one_line(capsys, folders):
    with pytest.raises(SystemExit) as e:
        seeds.main(["fig3_manifold", "--seeds", "1", "--quick", "--set", "bogus=1"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "'bogus' is not a setting of this figure" in err and err.count("\n") == 1
    summary = seeds.sweep("fig3_manifold", [3], quick=True, jobs=1, overrides={"fd_step": 1e-4}, log=lambda line: None)
    out = folders / "runs" / (config_overrides.folder_name("quick", {"fd_step": 1e-4}) + "_seeds")
    assert summary["config_name"] == "custom" and (out / "seeds_fig3_manifold.json").exists()


def test_plot_only_refuses_results_of_other_settings(folders):
    main("--set", "n=3", "--out", str(folders / "d"))
    with pytest.raises(SystemExit) as e:
        main("--set", "n=4", "--plot-only", "--out", str(folders / "d"))
    assert "holds a result whose n differ from --set" in str(e.value) and "\n" not in str(e.value)


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("figure, setting, says", [
    ("fig5_many", "archs=((784, 20, 10),)", "archs must include (784, 10)"),
    ("fig5_many", "bottom_s=(2.0,)", "bottom_s needs one budget per architecture (2)"),
    ("fig5_many", "unrolled=((10, -0.05, 0.1),)", "unrolled inner step (T = 10) must be a positive finite number"),
    ("fig6_gp", "dtype=float16", "dtype must be one of 'float32', 'float64'"),
    ("fig6_gp", "lam_range=(3, -3)", "lam_range must be (low, high) with low < high"),
    ("fig7_hpo", "problems=('h99',)", "problems must be among"),
    ("fig4_local", "ablations=('foo',)", "ablations among"),
    ("fig8_warmstart", "unrolled=(10, 0.05)", "unrolled takes 3 elements"),
    ("fig7_ablations", "hpo={'evals': 5}", "hpo is a nested config"),
    # lists of runs with a run twice
    ("fig7_hpo", "problems=('h10', 'h10')", "problems lists 'h10' more than once; give each once"),
    ("fig5_many", "archs=((784, 10), (784, 10))", "archs lists (784, 10) more than once"),
    ("fig6_gp", "ablation_n_samples=(10, 10)", "ablation_n_samples lists 10 more than once"),
    ("fig4_local", "ablation_seeds=(8, 8)", "ablation_seeds lists 8 more than once"),
    # sizes whose arrays cannot fit in memory: refused with the estimate
    ("fig2_global", "hidden=100000000", "hidden=100000000 needs about 2.34e+04 GB of memory, more than the"),
    ("fig2_global", "dense=(-2.0, 4.0, 1000000000)", "dense=(-2.0, 4.0, 1000000000) needs about"),
    ("fig2_global", "dense=(-2.0, 4.0, 1e9)", "dense[2] takes an int"),
    ("fig8_warmstart", "warm=((100000000, 1e-4),)", "100000000 unrolled steps (warm, unrolled) needs about"),
    ("fig2_global", "iters=" + "9" * 400, "iters is too large (400 digits); give at most 2**63 - 1"),
    # MNIST splits and minibatches that do not fit (the run refused them only after its first phase)
    ("fig2_global", "valid_batch=5000", "valid_batch=5000 is larger than n_valid=1000"),
    ("fig6_gp", "batch=60000", "batch=60000 is larger than n_train="),
    ("fig9_ift", "n_train=100000", "n_train + n_valid <= 60000"),
    ])
def test_settings_that_do_not_fit_together_are_refused_by_check(tmp_path, figure, setting, says):
    """What depends on several settings (the figure's check_config) is refused by --check too, in
    one line, before any work; the --out folder is not left behind."""
    p = subprocess.run([sys.executable, str(ROOT / "experiments" / f"{figure}.py"), "--quick", "--set", setting,
                        "--check", "--out", str(tmp_path / "out")], capture_output=True, text=True, env=checkout_env(),
                       timeout=120)
    assert p.returncode == 1 and says in p.stderr and p.stderr.count("\n") == 1, p.stderr
    assert not (tmp_path / "out").exists()


def test_seeds_checks_the_figure_config_before_any_seed(capsys, folders):
    with pytest.raises(SystemExit) as e:
        seeds.main(["fig5_many", "--seeds", "1", "2", "--quick", "--set", "bottom_s=(2.0,)"])
    err = capsys.readouterr().err + str(e.value)
    assert "bottom_s needs one budget per architecture" in err and not (folders / "runs").exists()


def test_the_number_of_workers_does_not_make_a_config_custom():
    """`--set workers=N` runs the PAPER config on more or fewer processes: still PAPER (its jobs
    are the same; jobcache.key leaves workers out), so a bigger machine can make the PAPER result."""
    @dataclasses.dataclass(frozen=True)
    class C:
        seed: int = 7
        iters: int = 100
        workers: int = 2
    paper, quick = C(), C(iters=5)
    assert results.config_name(settings_applied(paper, "workers=8"), paper, quick) == "PAPER"
    assert results.config_name(settings_applied(quick, "workers=1"), paper, quick) == "QUICK"
    assert results.config_name(settings_applied(paper, "iters=5"), paper, quick) == "QUICK"
    assert results.config_name(settings_applied(paper, "iters=6"), paper, quick) == "custom"


def settings_applied(config, text):
    return dataclasses.replace(config, **config_overrides.changes(config, [text]))


def _same(a, b):
    """Equal, with the same types at every depth (1 and 1.0 and True differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("figure", seeds.figure_names())
def test_every_paper_and_quick_value_passes_through_set_unchanged(figure, tmp_path):
    """`--set NAME=<repr of its value>` gives back the value itself, for every setting of the PAPER
    and QUICK configs of every figure (dicts of settings such as fig7_ablations' `ablations`
    included), and the command line's --check takes all of them at once."""
    module = seeds.figure_module(figure)
    for config, flag in ((module.PAPER, []), (module.QUICK, ["--quick"])):
        texts = []
        for f in dataclasses.fields(config):
            value = getattr(config, f.name)
            if f.name == "seed" or dataclasses.is_dataclass(value):
                continue
            texts.append(f"{f.name}={value!r}")
            name, got = config_overrides.parse(config, texts[-1])
            assert name == f.name and _same(got, value), (figure, texts[-1], got)
        changed = dataclasses.replace(config, **config_overrides.changes(config, texts))
        assert changed == config and results.config_name(changed, module.PAPER, module.QUICK) != "custom"
        p = subprocess.run([sys.executable, str(ROOT / "experiments" / f"{figure}.py"), *flag,
                            *(a for t in texts for a in ("--set", t)), "--check", "--out", str(tmp_path / "out")],
                           capture_output=True, text=True, env=checkout_env(), timeout=120)
        assert p.returncode == 0 and p.stderr == "", (figure, flag, p.stderr)


@pytest.mark.parametrize("value", ["{'h10': ({'tangent': True, 'sigma': 0.3},)}", "{'h10': ({'sigma': 0.3},)}",
                                   "{'h10': ({'sigma': 0.1}, {'tangent': True})}"])
def test_a_tuple_of_dicts_checks_each_value_against_its_own_key(value):
    """fig7_ablations' ablations: each setting against the config's value under that key (sigma a
    float, tangent a bool), not against the first dict's first value."""
    from experiments import fig7_ablations as fig
    config = settings_applied(fig.QUICK, f"ablations={value}")
    fig.check_config(config)
    with pytest.raises(ValueError, match=r"ablations\['h10'\]\[0\]\['sigma'\] takes a float \(0.3 in the config\), "
                                         "not a bool"):
        config_overrides.parse(fig.QUICK, "ablations={'h10': ({'sigma': True},)}")
    with pytest.raises(ValueError, match=r"ablations\['h10'\]\[0\] takes a dict"):
        config_overrides.parse(fig.QUICK, "ablations={'h10': (0.3,)}")


def test_a_setting_whose_zero_is_a_method_may_be_zero_and_nan_is_named():
    """MAY_BE_ZERO of a Config: tau 0 (no entropy term) and 0 Neumann terms pass, negatives do not;
    nan inside a tuple is named as not finite (not as 'takes a tuple, not a str')."""
    from experiments import fig9_ift, fig10_width
    assert config_overrides.parse(fig10_width.QUICK, "taus=(0,)") == ("taus", (0.0,))
    assert config_overrides.parse(fig9_ift.QUICK, "search_terms=0") == ("search_terms", 0)
    with pytest.raises(ValueError, match=r"taus\[0\] must stay 0 or above"):
        config_overrides.parse(fig10_width.QUICK, "taus=(-0.1,)")
    with pytest.raises(ValueError, match="budget_s must stay positive"):
        config_overrides.parse(fig9_ift.QUICK, "budget_s=0")
    with pytest.raises(ValueError, match=r"terms holds a number that is not finite \(nan or inf\); give finite"):
        config_overrides.parse(fig9_ift.QUICK, "terms=(0, nan)")


def test_local_workers_are_capped_at_the_cores(tmp_path):
    """--set workers=40 (or 100000, which --check lets through) on this machine starts at most one
    process per core (a job's result does not depend on how many run at once)."""
    import os
    from experiments.harness import bounds, runner
    assert bounds.processes(40, 6) == min(6, os.cpu_count()) and bounds.processes(1, 6) == 1
    assert bounds.processes(100000, 10 ** 6) == os.cpu_count()
    with runner.open(100000) as r:
        for i in range(3 * (os.cpu_count() or 1)):
            r.submit(os.getpid)
        pids = {job.result for job in r.as_completed()}
    assert r._pool is None and 1 <= len(pids) <= (os.cpu_count() or 1)
