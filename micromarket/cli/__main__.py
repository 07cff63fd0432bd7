"""`python -m micromarket.cli`."""

from micromarket.cli import main

main()
