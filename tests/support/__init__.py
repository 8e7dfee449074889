"""What the tests share: paths, fakes, process helpers, fake servers, the one job builder and the
one job runner. Test modules import from here, never from each other (tests/unit/repo/ checks)."""
