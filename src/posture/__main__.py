"""``python -m posture`` runs the command line."""

from posture.cli import main

main()
