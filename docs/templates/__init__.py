"""One module per page of docs/, named as the page (docs/templates/fig2_global.py renders
docs/fig2_global.md). To add a page, e.g. for a new experiment experiments/fig8_warmstart.py:

1. write docs/templates/fig8_warmstart.py with `page(R) -> str` (the Markdown below the title) and, for
   the paper's claims, `claims(R) -> [fmt.Claim(...)]` (its rows of README's "what reproduces"): the
   rules that decide them (metric, tolerance, seeds) live beside the experiment, in
   experiments/fig8_warmstart.py's `claims(record, seeds_record=None)`, which returns plain data;
   the template calls it (`fmt.claims_of`) and only turns that data into prose, `fmt.Claim` and
   `fmt.Verdict` (`fmt.verdict_of`). Read every other number with R("fig8_warmstart")["metrics.<key>"]
   and format it with docs/fmt.py; no measured number is typed in a template;
2. add `Page("fig8_warmstart", "<title>", figure=True)` to PAGES in docs/render.py;
3. run `python docs/render.py` and commit docs/ and README.md.

The figure's command, verdicts, image, its row in the README's figures and its time in the full
run's total come from the registry entry; a seed sweep figures/seeds_<name>.json appears on the
seeds page by itself.
"""
