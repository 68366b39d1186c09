"""Allow ``python -m shipper``."""

from shipper.cli import main

raise SystemExit(main())
