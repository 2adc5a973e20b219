"""``python -m oaa_concur``: the same as the ``oaa-concur`` console script."""

from oaa_concur.cli import main

if __name__ == "__main__":
    main()
