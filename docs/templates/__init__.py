"""One module per page of docs/, named as the page (docs/templates/fig2_global.py renders
docs/fig2_global.md). To add a page, e.g. for a new experiment experiments/fig8_warmstart.py:

1. write docs/templates/fig8_warmstart.py with `page(R) -> str` (the Markdown below the title) and, for
   each claim it decides, `claims(R) -> [fmt.Claim(...)]` (its rows of README's "what reproduces");
   read every number with R("fig8_warmstart")["metrics.<key>"] and format it with docs/fmt.py;
2. add `Page("fig8_warmstart", "<title>", figure=True)` to PAGES in docs/render.py;
3. run `python docs/render.py` and commit docs/ and README.md.

The figure's command, verdicts, image, its row in the README's figures and its time in the full
run's total come from the registry entry; a seed sweep figures/seeds_<name>.json appears on the
seeds page by itself.
"""
