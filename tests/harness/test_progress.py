"""What a run says about itself: --check ends with one line saying what would run and where, a custom
--set run names its folder and the settings that differ from PAPER, a seed sweep ends with a table of
its metrics (mean +- sd over the seeds), and run_all.sh's time left comes from the recorded job times
(the prediction bench/predict_wall.py prints)."""
from experiments.harness import run_all, seeds, wall_time
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
    assert predict_wall.predict_together is wall_time.predict_together
    jobs = [("a", 10.0, [], 0), ("b", 5.0, [], 0), ("c", 5.0, ["b"], 1)]
    assert wall_time.makespan(jobs, 1) == 20.0 and wall_time.makespan(jobs, 2) == 10.0


def test_figures_at_once_share_the_workers_and_wait_for_the_figure_they_read():
    """wall_time.together: a figure starts after its own part (outside seconds), one that reads another's
    results after that one is done; on enough workers the whole is its longest chain."""
    figures = {"x": ([("a", 10.0, [], 0)], 0.0), "y": ([("b", 3.0, [], 0)], 2.0), "z": ([("c", 4.0, [], 0)], 1.0)}
    assert wall_time.together(figures, 1, {"z": "y"}) == {"x": 10.0, "y": 13.0, "z": 18.0}
    assert wall_time.together(figures, None, {"z": "y"}) == {"x": 10.0, "y": 5.0, "z": 10.0}
    assert wall_time.together(figures, 2, {}) == {"x": 10.0, "y": 8.0, "z": 5.0}  # b waits for z's c to end
    # a figure's drawing after its jobs (tail) delays the figure that reads it, and a figure without jobs too
    figures["w"] = ([], 2.0)
    assert wall_time.together(figures, None, {"z": "y"}, tail={"y": 1.5, "w": 1.0}) == {"x": 10.0, "y": 6.5, "z": 11.5,
                                                                                      "w": 3.0}


def test_what_no_record_holds_is_added_where_it_is_measured():
    """predict_together's start_s (start-up, connection: before the figure's part and jobs) and end_s
    (drawing: after its jobs), as bench/runner_overhead.py measures them."""
    rec = lambda s: {"timings_s": {"total": s}, "config": {"workers": 1},  # noqa: E731
                     "jobs": [{"label": "a", "wall_s": s, "cpu_s": s}]}
    recs = {"f": rec(10.0), "g": rec(4.0)}
    assert wall_time.predict_together(recs, ["f", "g"], [1], {}) == [14.0, 10.0]
    assert wall_time.predict_together(recs, ["f", "g"], [1], {}, {"f": 2.0, "g": 0.5}, {"f": 1.0}) == [15.5, 13.0]


def test_a_job_is_predicted_from_its_cpu_seconds_and_a_loaded_one_is_named():
    record = {"timings_s": {"total": 30.0}, "config": {"workers": 1},
              "jobs": [{"label": "a", "wall_s": 20.0, "cpu_s": 10.0}, {"label": "b", "wall_s": 10.0, "cpu_s": 9.5}]}
    jobs, outside = wall_time.jobs_of("figX", record)
    assert [j[1] for j in jobs] == [10.0, 9.5] and outside == 0.0
    assert wall_time.under_load(record) == ([("a", 20.0, 10.0)], True)
    del record["jobs"][1]["cpu_s"]
    assert wall_time.jobs_of("figX", record)[0][1][1] == 10.0 and wall_time.under_load(record)[1] is False


def test_a_finished_job_records_the_cpu_seconds_of_its_thread():
    from experiments.harness.jobs import call
    done = call(sum, range(3_000_000))
    assert done.result == sum(range(3_000_000)) and 0 < done.where["cpu_s"] <= done.where["wall_s"] * 1.05 + 0.01


def test_the_paper_on_32_workers_is_predicted_within_a_tenth_of_its_longest_chain():
    """bench/predict_wall.py --workers 32 on the committed records: its last line, and the bound."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, str(root / "bench" / "predict_wall.py"), "--workers", "32"], cwd=root,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    seconds, workers = out[-1].removeprefix("predicted wall: ").split(" s on ")
    chain = wall_time.predict_together(wall_time.records(root / "figures"), run_all.PAPER_SCOPE, [], {})[-1]
    assert workers == "32 workers" and chain - 1 <= float(seconds) <= 1.1 * chain
