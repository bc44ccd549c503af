"""Policy tooling for security teams: test cases, coverage, lint, exhaustive diff, who-can-see.

One concept per module:

- `cases`: the YAML case-file format, validated on load with file and line;
- `runner`: runs cases against a policy, reports failures and JUnit XML;
- `coverage`: which policy rows and facts the cases exercised;
- `factspace`: the finite, reachable fact space of a vocabulary, and a
  concrete reader and item for every point of it;
- `diff`: the exhaustive comparison of two policies over that space;
- `lint`: findings about a policy directory, one line each with file and line;
- `whocansee`: who can see an item, what a reader can see, and `explain`;
- `pytest_plugin`: collects `*.policy.yaml` files as pytest items.
"""
