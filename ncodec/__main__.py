"""``python -m ncodec`` is the ``ncodec`` command."""

from ncodec.cli import main

main()
