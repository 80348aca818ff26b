"""Beyond the paper: what it proposes as future work and what came after it, on the same Problem
contract as Algorithms 1-4."""
