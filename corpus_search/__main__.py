"""``python -m corpus_search``: the same as the ``corpus-search`` command."""

from .client import main

if __name__ == "__main__":
    raise SystemExit(main())
