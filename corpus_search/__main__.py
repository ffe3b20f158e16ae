"""``python -m corpus_search``: the same as the ``corpus-search`` command."""

from .client import entry

if __name__ == "__main__":
    entry()
