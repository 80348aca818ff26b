"""The pages in docs/ and the generated blocks of README.md against the results files: rendered
afresh into a temporary folder by docs/render.py, they must equal the committed ones, so a number
changed in figures/ without regenerating the pages fails here, naming the page and its first
differing line."""
import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from docs import fmt, render

ROOT = Path(__file__).resolve().parents[2]


def test_committed_pages_and_readme_match_the_results_files(tmp_path):
    code = render.main(["--out", str(tmp_path)])
    assert code == 0
    problems = render.compare(tmp_path)
    assert not problems, "\n".join(problems + ["run `python docs/render.py` and commit docs/ and README.md"])


@pytest.fixture
def results_copy(tmp_path):
    """A copy of figures/ (the files the pages read) to change."""
    out = tmp_path / "figures"
    out.mkdir()
    for p in (ROOT / "figures").iterdir():
        if p.suffix in (".json", ".npz"):
            shutil.copy(p, out / p.name)
    return out


def test_a_changed_number_names_the_page_and_the_line(results_copy):
    path = results_copy / "fig2_global.json"
    d = json.loads(path.read_text())
    d["metrics"]["alg2_final_lam"] = 1.2345
    path.write_text(json.dumps(d))
    problems = render.drift(results_copy)
    page = [p for p in problems if p.startswith("docs/fig2_global.md, line ")]
    assert page and "1.234" in page[0], problems
    assert any(p.startswith("README.md (generated block 'claims'), line ") for p in problems), problems
    assert not any(p.startswith("docs/fig4_local.md") for p in problems), problems


def test_a_changed_seed_sweep_changes_the_verdict(results_copy):
    path = results_copy / "seeds_fig4_local.json"
    d = json.loads(path.read_text())
    d["metrics"]["alg3_final_lam"]["values"][2] = 2.5  # seed 9's lam_hat far from the optimum
    path.write_text(json.dumps(d))
    R = fmt.Results(results_copy, render.PAGES)
    alg3 = render.template(render.PAGES[2]).claims(R)[0]
    assert alg3.verdict.text() == "holds for 4 of 5 seeds" and 9 not in alg3.verdict.which()


def test_a_missing_key_is_named_in_one_line(results_copy):
    path = results_copy / "fig5_many.json"
    d = json.loads(path.read_text())
    del d["metrics"]["hyper_steps"]
    path.write_text(json.dumps(d))
    out = subprocess.run([sys.executable, str(ROOT / "docs" / "render.py"), "--results", str(results_copy),
                          "--out", str(results_copy.parent / "pages")], capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "fig5_many.json" in out.stderr and "metrics.hyper_steps" in out.stderr
    assert not (results_copy.parent / "pages").exists()  # nothing half-written


def test_a_stale_page_is_named(tmp_path):
    render.write(render.render_all(), tmp_path / "new")
    docs = tmp_path / "docs"
    shutil.copytree(tmp_path / "new", docs)
    (docs / "README.md").unlink()
    (docs / "old_page.md").write_text("# gone\n")
    assert render.compare(tmp_path / "new", docs) == [
        "docs/old_page.md: not a page of docs/render.py (remove it or add it to PAGES)"]


def test_every_figure_script_has_a_page():
    scripts = {p.stem for p in (ROOT / "experiments").glob("fig*_*.py")}
    assert scripts <= {p.name for p in render.PAGES if p.figure}, "add a template and an entry in PAGES"


def test_readme_is_a_front_page():
    text = (ROOT / "README.md").read_text()
    assert len(text) <= 15000, len(text)
    assert "bash run_all.sh --quick" in "\n".join(text.splitlines()[:30])


def test_a_new_ablation_gets_its_column_and_row(results_copy):
    """An ablation added to a figure's results appears on its page without an edit of the template."""
    path = results_copy / "fig4_local.json"
    d = json.loads(path.read_text())
    m = d["metrics"]
    m.update({k.replace("alg4_", "alg4_sgd_", 1): v for k, v in list(m.items()) if k.startswith("alg4_")
              and not k.startswith("alg4_code_lr")})
    m["alg4_sgd_final_lam"] = 9.8765
    m["ablations"] = m["ablations"] + ["alg4_sgd"]
    path.write_text(json.dumps(d))
    sweep = results_copy / "seeds_fig4_local.json"
    s = json.loads(sweep.read_text())
    s["metrics"]["alg4_sgd_final_lam"] = dict(s["metrics"]["alg4_final_lam"], mean=8.5, sd=0.25)
    sweep.write_text(json.dumps(s))
    text = render.render_page(render.PAGES[2], fmt.Results(results_copy, render.PAGES))
    slope = [line for line in text.splitlines() if line.startswith("| final λ̂ |")]
    assert slope and slope[0].endswith("| 9.877 |"), slope
    assert any(line.startswith("| ablation: alg4_sgd, λ̂ | 8.50 ± 0.25 |") for line in text.splitlines())


def fig5_sweep(folder, change):
    """figures/seeds_fig5_many.json at budgets x 0.1 as experiments/harness/seeds.py writes it, made from five
    copies of the committed run's metrics, change(seed, metrics) altering each."""
    from experiments import fig5_many
    from experiments.harness import seeds
    record = json.loads((folder / "fig5_many.json").read_text())
    records = {s: copy.deepcopy(record) for s in (7, 8, 9, 10, 11)}
    for s, r in records.items():
        change(s, r["metrics"])
    config = fig5_many.scaled(fig5_many.PAPER, 0.1)
    summary = seeds.summarise("fig5_many", "PAPER, budgets x 0.1", config, list(records), records, {}, wall_s=2345.0,
                              folders=dict.fromkeys(records, "runs/seeds"), reused=set(), backend="local", jobs=1,
                              budget=(0.1, {k: getattr(config, k) for k in fig5_many.BUDGETS}))
    (folder / "seeds_fig5_many.json").write_text(json.dumps(summary))
    return summary


def test_figure5_over_seeds_counts_each_verdict_per_seed(results_copy):
    """Each of Figure 5's verdicts is decided on every seed of the sweep; the README row says on how
    many and at which budget fraction, the page gives mean ± sd, and the seeds page the same counts."""
    def change(seed, m):
        m["hyper_valid_final"] += 1e-5 * (seed - 9)
        if seed == 9:  # beats the hand-tuned 784-10 line
            m["784-10"]["valid_final"] = m["784-10"]["handtuned_valid"] - 1e-4
        if seed == 8:  # the unrolled run never reaches hyper-training's final loss, and ends above it
            m["unrolled_time_to_hyper_final_s"], m["unrolled_valid_final"] = None, 0.05
    S = fig5_sweep(results_copy, change)
    files = render.render_all(results_copy)
    rows = {line.split(" | ")[1]: line for line in files["README.md"].splitlines() if line.startswith("| [5 ")}
    assert "| 7; at budgets × 0.1: 1 / 5 / 0 of 5 seeds; " in rows["hyper-training beats hand-tuning"]
    assert "| 7; at budgets × 0.1: 5 of 5 (7-11); " in rows["deeper models reach lower losses"]
    M = S["metrics"]  # beside the counts, the sweep's mean ± sd of what each verdict compares
    assert rows["deeper models reach lower losses"].endswith(
        " → ".join(fmt.mean_sd(M[f"{a}.valid_final"], 5) for a in ("784-10", "784-100-10", "784-100-100-10")) + " |")
    assert rows["hyper-training beats hand-tuning"].endswith(
        f"{fmt.mean_sd(M['784-100-100-10.valid_final'], 5)} vs {fmt.mean_sd(M['784-100-100-10.handtuned_valid'], 5)} |")
    assert all("| 7; at budgets × 0.1: 4 of 5 (7, 9, 10, 11); " in rows[c] for c in (
        "with 7,850 hyperparameters, hyper-training converges faster than unrolled reverse-mode, to a worse solution",
        "hyper-training over-fits the validation set less"))
    assert len(files["README.md"]) <= 15000
    page = files["fig5_many.md"]
    assert "**Over seeds 7-11 at budgets × 0.1.**" in page and "top 100 s, bottom 32 / 96 / 115 s" in page
    hv = S["metrics"]["hyper_valid_final"]
    assert f"| top: hyper-training, final valid. / test | {fmt.num(hv['mean'], 5)} ± {fmt.num(hv['sd'], 5)} / " in page
    assert "| hyper-training beats hand-tuning, 784-10 | 1 of 5 (9) |" in page
    assert "| top: unrolled reaches hyper-training's final valid. at (s) | 50.5 ± 0.0 (4 seeds) |" in page
    seeds_page = files["seeds.md"]
    assert "`figures/seeds_fig5_many.json`: the PAPER config with every time budget × 0.1 (`top_budget_s` 100 s, " \
           "`bottom_s` 32 / 96 / 115 s, `search_budget_s` 13.5 s, `eval_every_s` 1 s) over seeds 7-11" in seeds_page
    assert "| hyper-training beats hand-tuning, 784-10 | 1 of 5 (9) |" in seeds_page
    # no sweep: the README says that seed 7 is the only seed run
    (results_copy / "seeds_fig5_many.json").unlink()
    assert "| 7 (the only seed run) |" in render.render_all(results_copy)["README.md"]


def test_the_h10_ablation_verdicts_follow_their_rule(results_copy):
    """An h10 ablation counts as lowering the loss only when it ends below the faithful run by more
    than the noise (the page's rule) and below it on most robustness seeds; it reaches the black-box
    methods when it ends within that noise of the best."""
    path = results_copy / "fig7_ablations.json"
    d = json.loads(path.read_text())
    m = d["metrics"]
    tmpl = render.template(next(p for p in render.PAGES if p.name == "fig7_ablations"))
    noise = tmpl.noises(fmt.Results(results_copy, render.PAGES))["h10"]
    faithful, ref = m["h10"]["faithful"], m["reference"]["h10"]
    assert noise >= abs(faithful["final_valid"] - ref["hyper_final_valid"]) and noise > 0
    best = min(ref[f"{k}_best_valid"] for k in ("random", "gp_bo", "tpe"))
    base = faithful["robust"]["final_valid"]["values"]
    t = m["h10"]["tangent"]
    t["final_valid"] = faithful["final_valid"] - 1.01 * noise        # lower, beyond the noise
    t["robust"]["final_valid"]["values"] = [b - 0.01 for b in base]  # and on every robustness seed
    within = [k for k in m["h10"] if k not in ("faithful", "tangent")][0]
    m["h10"][within]["final_valid"] = faithful["final_valid"] - 0.99 * noise  # lower, but within the noise
    m["h10"][within]["robust"]["final_valid"]["values"] = [b - 0.01 for b in base]
    path.write_text(json.dumps(d))
    V = tmpl.verdicts(fmt.Results(results_copy, render.PAGES))
    assert "h10 centred" in V["lowers"].which() and f"h10 {tmpl.short(within)}" not in V["lowers"].which()
    assert ("h10 centred" in V["closes"].which()) == (t["final_valid"] <= best + noise)
    said = tmpl.supported(fmt.Results(results_copy, render.PAGES))
    assert "So the numbers support the input's centring at λ̂" in said, said
    t["robust"]["final_valid"]["values"] = [b + 0.01 for b in base]  # higher on the robustness seeds
    path.write_text(json.dumps(d))
    V = tmpl.verdicts(fmt.Results(results_copy, render.PAGES))
    assert "h10 centred" not in V["lowers"].which()
    said = tmpl.supported(fmt.Results(results_copy, render.PAGES))
    assert "the input's centring at λ̂" not in said.split("So the numbers support ")[-1].split(", not ")[0], said
    files = render.render_all(results_copy)
    assert "**What the numbers support.**" in files["fig7_ablations.md"]
    assert len(files["README.md"]) <= 15000


# ---- what render.py refuses, each in one line and before anything is written ------------------------
def run_main(capsys, *argv):
    """render.main(argv) in this process: (exit status, its one line on stderr). An exception (a
    traceback on the command line) fails the test."""
    code = render.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    return code, err.strip()


@pytest.mark.parametrize("bad, says", [
    (b"\xff\xfe{\x00}\x00", "not UTF-8"),
    (b'{"figure": "fig2_global", "metrics": ', "not valid JSON"),
    (None, "is a folder"),
])
def test_an_unreadable_results_file_is_named_in_one_line(results_copy, bad, says):
    """The command line itself: exit status 2, one line naming the file, no traceback, no page written."""
    path = results_copy / "fig2_global.json"
    path.unlink()
    path.mkdir() if bad is None else path.write_bytes(bad)
    pages = results_copy.parent / "pages"
    out = subprocess.run([sys.executable, str(ROOT / "docs" / "render.py"), "--results", str(results_copy),
                          "--out", str(pages)], capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.startswith(f"render.py: {path}: {says}") and "restore" not in out.stderr, out.stderr
    assert "replace it" in out.stderr and not pages.exists()


def test_a_results_file_that_is_not_an_object_is_named(results_copy, capsys, tmp_path):
    """Valid JSON, but a list: one line, not a traceback from the first key read."""
    (results_copy / "fig2_global.json").write_text("[1, 2]\n")
    code, err = run_main(capsys, "--results", results_copy, "--out", tmp_path / "pages")
    assert code == 2 and f"{results_copy / 'fig2_global.json'}: not a results file" in err, err
    assert not (tmp_path / "pages").exists()


@pytest.mark.parametrize("name, key, value", [
    ("fig2_global", "metrics.alg2_final_lam", "abc"),    # formatted, and compared by the claims
    ("fig2_global", "metrics.alg2_final_lam", None),
    ("fig2_global", "metrics.hypernet_min_valid_loss", None),  # only formatted (num() said "n/a")
    ("fig4_local", "metrics.alg3_final_lam", "1.5"),
    ("fig5_many", "timings_s.total", None),             # the run's time, in the README too
    ("seeds_fig2_global", "metrics.alg2_final_lam.mean", "x"),
    ("fig2_global", "metrics.alg2_final_lam", True),     # Python would take it as 1
    ("fig2_global", "metrics.alg2_final_lam", [1.0, 2.0]),
    ("fig2_global", "metrics.alg2_final_lam", {"a": 1.0}),
    ("fig5_many", "timings_s.total", False),
])
def test_a_string_or_null_where_a_number_belongs_names_the_file_and_key(results_copy, capsys, tmp_path, name, key,
                                                                         value):
    """Wherever the number is used (formatted, compared by a claim's rule, summed for the README), the
    one line names the file and the key that holds the string, null, true/false, array or object."""
    path = results_copy / f"{name}.json"
    d = json.loads(path.read_text())
    *inner, last = key.split(".")
    leaf = d
    for k in inner:
        leaf = leaf[k]
    leaf[last] = value
    path.write_text(json.dumps(d))
    code, err = run_main(capsys, "--results", results_copy, "--out", tmp_path / "pages")
    assert code == 2 and err.startswith(f"render.py: {path}: {key!r} is "), err
    said = {None: "null", True: "true", False: "false"}.get(value) if not isinstance(value, (str, list, dict)) else (
        repr(value) if isinstance(value, str) else f"an {'array' if isinstance(value, list) else 'object'} of ")
    assert said in err and "needs a number" in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "pages").exists()


def test_null_in_a_seeds_summary_of_no_values_still_renders():
    """A summary over seeds of a metric no seed has (results.stats: mean None) is "n/a", not an error."""
    assert fmt.mean_sd({"mean": None, "sd": None}) == "n/a ± n/a"
    assert fmt.span({"min": None, "max": None}) == "n/a for every seed"
    assert fmt.values([1.0, None]) == "1.000 / n/a"


@pytest.mark.parametrize("out, says", [
    ("/proc/x", "cannot write there"),
    ("a_file", "is a file, not a folder"),
])
def test_an_out_that_cannot_take_the_pages_fails_before_rendering(tmp_path, capsys, monkeypatch, out, says):
    """An --out that cannot be written, or that is a file, in one line before any page is rendered;
    the file is left as it was."""
    if out == "a_file":
        out = tmp_path / out
        out.write_text("keep me\n")
    rendered = []
    monkeypatch.setattr(render, "render_all", lambda *a: rendered.append(a) or {})
    code, err = run_main(capsys, "--out", out)
    assert code == 2 and err.startswith(f"render.py: --out {out}: {says}") and "choose" in err, err
    assert rendered == []
    if out != "/proc/x":
        assert out.read_text() == "keep me\n"


def quick(path, seed=7):
    d = json.loads(path.read_text())
    d["config_name"], d["config"]["seed"] = "QUICK", seed
    path.write_text(json.dumps(d))


def test_a_quick_result_in_figures_is_refused(results_copy, capsys, monkeypatch, tmp_path):
    """figures/ holds only PAPER results with the default seed (results.check_committed): a QUICK
    result found there (copied by hand, or by an older version) is not rendered into the verdicts."""
    from experiments.harness import results
    monkeypatch.setattr(results, "FIGURES", results_copy)  # results_copy is the committed figures/
    quick(results_copy / "fig4_local.json")
    code, err = run_main(capsys, "--results", results_copy, "--out", tmp_path / "pages")
    assert code == 2 and err.startswith(f"render.py: {results_copy / 'fig4_local.json'} holds a QUICK result"), err
    assert "figures/ holds only PAPER results" in err and "move it away" in err and \
        "python experiments/fig4_local.py" in err, err
    assert not (tmp_path / "pages").exists()
    quick(results_copy / "fig4_local.json", seed=8)  # PAPER with another seed: not the committed run either
    d = json.loads((results_copy / "fig4_local.json").read_text())
    d["config_name"] = "PAPER"
    (results_copy / "fig4_local.json").write_text(json.dumps(d))
    code, err = run_main(capsys, "--results", results_copy, "--out", tmp_path / "pages")
    assert code == 2 and "holds a PAPER result (seed 8)" in err, err


def test_a_quick_result_elsewhere_renders_but_not_into_the_committed_docs(results_copy, capsys, monkeypatch,
                                                                          tmp_path):
    """--results DIR of a QUICK run renders pages into --out DIR (they say "QUICK config"), but not
    into the committed docs/ and README.md."""
    quick(results_copy / "fig4_local.json")
    assert render.main(["--results", str(results_copy), "--out", str(tmp_path / "pages")]) == 0
    assert "(QUICK config, seed 7" in (tmp_path / "pages" / "fig4_local.md").read_text()
    capsys.readouterr()
    docs = tmp_path / "docs"  # docs/ and README.md of the repository, stand-ins
    shutil.copytree(ROOT / "docs", docs, ignore=shutil.ignore_patterns("*.py", "templates", "__pycache__"))
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    before = {p.name: p.read_bytes() for p in [*docs.iterdir(), tmp_path / "README.md"]}
    monkeypatch.setattr(render, "DOCS", docs)
    monkeypatch.setattr(render, "README", tmp_path / "README.md")
    code, err = run_main(capsys, "--results", results_copy)
    assert code == 2 and "holds a QUICK result" in err and "docs/" in err and "--out" in err, err
    assert {p.name: p.read_bytes() for p in [*docs.iterdir(), tmp_path / "README.md"]} == before


@pytest.mark.parametrize("results", ["no_such_folder", "a_file"])
def test_results_that_is_not_a_folder_is_named(tmp_path, capsys, results):
    path = tmp_path / results
    if results == "a_file":
        path.write_text("{}\n")
    code, err = run_main(capsys, "--results", path, "--out", tmp_path / "pages")
    assert code == 2 and err.startswith(f"render.py: --results {path}: ") and "give the folder" in err, err
    assert not (tmp_path / "pages").exists()
