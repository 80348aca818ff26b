"""One script per figure of the paper (fig2_global ... fig6_gp), the appendix comparison (fig7_hpo),
hypernetwork-initialised unrolling (fig8_warmstart), sweeps over seeds (seeds) and two examples of a
model of one's own (own_model, own_logistic). Each figure script runs as a file or as
`python -m experiments.<name>`; its jobs import it by that name in their worker processes."""
