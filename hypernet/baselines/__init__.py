"""The baselines the paper compares hyper-training with: unrolled reverse-mode (Figure 5), the
Gaussian-process surrogate (Figure 6), the black-box optimisers of the appendix, and the trainer of
many linear models at once that their trials use."""
