"""`python -m app`: with no arguments, serve; otherwise one of the subcommands (see --help)."""
from app.commands import main

raise SystemExit(main())
