"""What a run says about itself: --check ends with one line saying what would run and where, a custom
--set run names its folder and the settings that differ from PAPER, a seed sweep ends with a table of
its metrics (mean +- sd over the seeds), and run_all.sh's time left comes from the recorded job times
(the prediction bench/predict_wall.py prints)."""
from experiments.harness import seeds, wall_time
from tiny_figure import main_in_process as main


def test_check_ends_with_what_would_run_and_where(folders, capsys):
    main("--quick", "--out", str(folders / "q"), "--check")
    assert capsys.readouterr().out.splitlines()[-1] == \
        f"tiny: checked: would run the QUICK config (seed 7) into {folders / 'q'}"
    main("--quick", "--out", str(folders / "q"))
    main("--quick", "--out", str(folders / "q"), "--plot-only", "--check")
    assert capsys.readouterr().out.splitlines()[-1] == \
        f"tiny: checked: would redraw the figure from the results in {folders / 'q'}"


def test_a_custom_run_names_its_folder_and_what_differs_from_paper(folders, capsys):
    main("--set", "n=3", "--out", str(folders / "c"))
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"tiny: a custom run into {folders / 'c'}; settings that differ from PAPER: n=3 (PAPER: 50)"


def test_a_sweep_ends_with_a_table_of_mean_and_sd():
    summary = {"metrics": {"loss": {"mean": 0.5, "sd": 0.01, "n": 3}, "never": {"mean": None, "sd": None, "n": 0}}}
    lines = seeds.table(summary).splitlines()
    assert lines[0].split() == ["metric", "mean", "+-", "sd", "over", "the", "seeds"]
    assert lines[1].split() == ["loss", "0.5", "+-", "0.01", "(3)"] and len(lines) == 2
    many = {"metrics": {f"m{i}": {"mean": i, "sd": 0.0, "n": 2} for i in range(30)}}
    assert seeds.table(many, rows=5).splitlines()[-1] == "... and 25 more metrics in the sweep's summary file"


def test_the_bench_predicts_with_the_harness():
    from bench import predict_wall
    assert predict_wall.predict is wall_time.predict and predict_wall.jobs_of is wall_time.jobs_of
    jobs = [("a", 10.0, [], 0), ("b", 5.0, [], 0), ("c", 5.0, ["b"], 1)]
    assert wall_time.makespan(jobs, 1) == 20.0 and wall_time.makespan(jobs, 2) == 10.0
