from gcevidence.cli import main

raise SystemExit(main())
